//! Sending email over SMTP. Built once at start from the configuration; every
//! message is a subject, a plain-text body and a right-to-left HTML body,
//! each from a template (`email/NAME.subject`, `.txt`, `.html`), signed with
//! DKIM when a key is configured.

use std::path::Path;
use std::sync::Arc;

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

use crate::config::Config;
use crate::templates::Templates;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    #[error("invalid mail address '{0}'")]
    Address(String),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("could not render the email template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("SMTP delivery failed: {0}")]
    Delivery(String),
    #[error("cannot use the DKIM key {path}: {message}")]
    DkimKey { path: String, message: String },
}

/// The headers every signature covers. List-Unsubscribe and its One-Click
/// companion are listed on purpose (RFC 8058 asks for it; lettre's defaults
/// leave them out), so nobody on the way can swap the unsubscribe link.
/// MIME-Version and Content-Type are left out: lettre writes a multipart's
/// Content-Type after signing, so a signature over it never verifies
/// (dkimpy showed this); the body hash still covers every part.
const SIGNED_HEADERS: &[&str] =
    &["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"];

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The plain-text and HTML versions of one email. Both base64: Arabic text
/// in quoted-printable triples in size, and base64 keeps every line short
/// and 7-bit for any relay.
pub fn alternatives(text: String, html: String) -> MultiPart {
    let part = |content_type: ContentType, body: String| {
        SinglePart::builder().header(content_type).header(ContentTransferEncoding::Base64).body(body)
    };
    MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, text))
        .singlepart(part(ContentType::TEXT_HTML, html))
}

pub struct Mailer {
    transport: Option<Transport>,
    from: Mailbox,
    dkim: Option<Arc<DkimConfig>>,
}

/// Reads the DKIM key named in the configuration, when there is one.
fn dkim_config(config: &Config, data_dir: &Path) -> Result<Option<Arc<DkimConfig>>, MailError> {
    let (Some(selector), Some(domain), Some(key_file)) =
        (&config.dkim_selector, &config.dkim_domain, &config.dkim_private_key_file)
    else {
        return Ok(None);
    };
    let path = data_dir.join(key_file);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|error| MailError::DkimKey { path: shown.clone(), message: error.to_string() })?;
    let algorithm =
        if config.dkim_algorithm == "ed25519" { DkimSigningAlgorithm::Ed25519 } else { DkimSigningAlgorithm::Rsa };
    let key = DkimSigningKey::new(text.trim(), algorithm).map_err(|error| MailError::DkimKey {
        path: shown,
        message: format!("{error} (an RSA key must be PKCS#1 PEM: BEGIN RSA PRIVATE KEY)"),
    })?;
    let headers = SIGNED_HEADERS.iter().map(|name| HeaderName::new_from_ascii_str(name)).collect();
    let canonicalization =
        DkimCanonicalization { header: DkimCanonicalizationType::Relaxed, body: DkimCanonicalizationType::Relaxed };
    Ok(Some(Arc::new(DkimConfig::new(selector.clone(), domain.clone(), key, headers, canonicalization))))
}

/// An SMTP transport keeping up to `connections` connections open.
pub fn transport(url: &str, connections: u32) -> Result<Transport, MailError> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|error| MailError::Url(error.to_string()))?
        .pool_config(PoolConfig::new().max_size(connections))
        .build())
}

impl Mailer {
    pub fn new(config: &Config, data_dir: &Path) -> Result<Self, MailError> {
        let transport = match config.smtp_url.as_deref() {
            Some(url) => Some(transport(url, 4)?),
            None => None,
        };
        let from = config.mail_from.parse::<Mailbox>().map_err(|_| MailError::Address(config.mail_from.clone()))?;
        Ok(Mailer { transport, from, dkim: dkim_config(config, data_dir)? })
    }

    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The domain of the From address, for Message-IDs and List-Id.
    pub fn from_domain(&self) -> String {
        self.from.email.domain().to_owned()
    }

    pub fn sign(&self, message: &mut Message) {
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
    }

    /// Renders `email/NAME.*` with `context` and sends it to one person.
    pub async fn send<C: Serialize>(
        &self,
        templates: &Templates,
        name: &str,
        to_name: &str,
        to_email: &str,
        context: C,
    ) -> Result<(), MailError> {
        let context = minijinja::Value::from_serialize(&context);
        let subject = templates.render(&format!("email/{name}.subject"), &context)?;
        let text = templates.render(&format!("email/{name}.txt"), &context)?;
        let html = templates.render(&format!("email/{name}.html"), &context)?;
        let to = Mailbox::new(
            Some(to_name.to_owned()),
            to_email.parse().map_err(|_| MailError::Address(to_email.to_owned()))?,
        );
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject.trim())
            .message_id(None)
            .multipart(alternatives(text, html))
            .map_err(|error| MailError::Build(error.to_string()))?;
        self.sign(&mut message);
        match &self.transport {
            Some(transport) => {
                transport.send(message).await.map_err(|error| MailError::Delivery(error.to_string()))?;
            }
            None => tracing::warn!(template = name, "no smtp_url configured: an email was not sent"),
        }
        Ok(())
    }
}
