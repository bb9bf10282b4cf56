//! The newsletter's SMTP connections: one per worker, kept open for the
//! whole send. For `smtp://` relays (plain, or STARTTLS with `?tls=…`) khabar
//! opens the socket itself so it can turn Nagle's algorithm off: lettre
//! writes a message and its final "." separately, and without TCP_NODELAY
//! that pair waits for the relay's delayed ACK, about 40 ms a message (the
//! first benchmark ran at 360 messages/s because of it). `smtps://` relays go
//! through lettre's own pooled transport.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport, Message};

use super::NewsletterError;
use crate::mail::Transport;

/// A relay that says nothing for this long is given up on (the message is retried later).
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

pub enum Relay {
    Direct(Direct),
    Pooled(Arc<Transport>),
}

pub struct Direct {
    address: String,
    host: String,
    starttls: Option<bool>,
    credentials: Option<Credentials>,
    hello: ClientId,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot connect to the relay: {0}")]
    Connect(std::io::Error),
    #[error("the relay did not answer within {} s", REPLY_TIMEOUT.as_secs())]
    Timeout,
}

impl RelayError {
    /// A refusal that will not change on a retry (5xx).
    pub fn is_permanent(&self) -> bool {
        matches!(self, RelayError::Smtp(error) if error.is_permanent())
    }
}

impl Relay {
    pub fn new(url: &str, pooled: Arc<Transport>) -> Result<Relay, NewsletterError> {
        let parsed =
            url::Url::parse(url).map_err(|error| NewsletterError::Build(format!("invalid SMTP URL: {error}")))?;
        if parsed.scheme() != "smtp" {
            return Ok(Relay::Pooled(pooled));
        }
        let starttls = match parsed.query_pairs().find(|(key, _)| key == "tls").map(|(_, value)| value.into_owned()) {
            None => None,
            Some(mode) if mode == "required" => Some(true),
            Some(mode) if mode == "opportunistic" => Some(false),
            Some(_) => return Ok(Relay::Pooled(pooled)),
        };
        let host = parsed.host_str().ok_or_else(|| NewsletterError::Build("the SMTP URL names no host".to_owned()))?;
        let default_port = if starttls.is_some() { 587 } else { 25 };
        let port = parsed.port().unwrap_or(default_port);
        let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
        let credentials =
            parsed.password().map(|password| Credentials::new(decode(parsed.username()), decode(password)));
        let hello = match parsed.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        Ok(Relay::Direct(Direct { address, host, starttls, credentials, hello }))
    }
}

impl Direct {
    async fn connect(&self) -> Result<AsyncSmtpConnection, RelayError> {
        let stream = tokio::time::timeout(REPLY_TIMEOUT, tokio::net::TcpStream::connect(&self.address))
            .await
            .map_err(|_| RelayError::Timeout)?
            .map_err(RelayError::Connect)?;
        stream.set_nodelay(true).map_err(RelayError::Connect)?;
        let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello).await?;
        if let Some(required) = self.starttls {
            if required || connection.can_starttls() {
                let parameters = TlsParameters::new(self.host.clone())?;
                connection.starttls(parameters, &self.hello).await?;
            }
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(&[Mechanism::Plain, Mechanism::Login], credentials).await?;
        }
        Ok(connection)
    }
}

/// One worker's connection, opened on first use and after any failure.
pub struct Connection {
    relay: Arc<Relay>,
    open: Option<AsyncSmtpConnection>,
}

impl Connection {
    pub fn new(relay: Arc<Relay>) -> Connection {
        Connection { relay, open: None }
    }

    pub async fn send(&mut self, message: Message) -> Result<(), RelayError> {
        let direct = match &*self.relay {
            Relay::Pooled(transport) => {
                return match tokio::time::timeout(REPLY_TIMEOUT, transport.send(message)).await {
                    Ok(result) => result.map(|_| ()).map_err(RelayError::from),
                    Err(_) => Err(RelayError::Timeout),
                };
            }
            Relay::Direct(direct) => direct,
        };
        if self.open.as_ref().is_none_or(AsyncSmtpConnection::has_broken) {
            self.open = Some(direct.connect().await?);
        }
        let Some(connection) = self.open.as_mut() else {
            return Err(RelayError::Timeout);
        };
        let bytes = message.formatted();
        match tokio::time::timeout(REPLY_TIMEOUT, connection.send(message.envelope(), &bytes)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                // lettre ends the session after a refusal; the next message opens a new one.
                if connection.has_broken() {
                    self.open = None;
                }
                Err(error.into())
            }
            Err(_) => {
                self.open = None;
                Err(RelayError::Timeout)
            }
        }
    }

    /// Says goodbye politely at the end of a send.
    pub async fn close(&mut self) {
        if let Some(mut connection) = self.open.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), connection.quit()).await;
        }
    }
}
