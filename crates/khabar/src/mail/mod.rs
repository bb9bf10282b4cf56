//! Sending email over SMTP. Built once at start from the configuration; every
//! message is a subject, a plain-text body and a right-to-left HTML body,
//! each from a template (`email/NAME.subject`, `.txt`, `.html`).

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

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
}

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, MailError> {
        let transport = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|error| MailError::Url(error.to_string()))?
                    .build(),
            ),
            None => None,
        };
        let from = from.parse::<Mailbox>().map_err(|_| MailError::Address(from.to_owned()))?;
        Ok(Mailer { transport, from })
    }

    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
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
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject.trim())
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|error| MailError::Build(error.to_string()))?;
        match &self.transport {
            Some(transport) => {
                transport.send(message).await.map_err(|error| MailError::Delivery(error.to_string()))?;
            }
            None => tracing::warn!(template = name, "no smtp_url configured: an email was not sent"),
        }
        Ok(())
    }
}
