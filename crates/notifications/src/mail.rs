//! Sending e-mail over SMTP with lettre: `smtp://host:25` (STARTTLS when offered),
//! `smtp://host:587?tls=required` (STARTTLS required), `smtps://user:pass@host:465` (implicit
//! TLS), as lettre reads such URLs.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use softland_store::notifications::Notification;

/// Why e-mail cannot be configured or a message not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL does not parse (the URL is not repeated: it may hold a password).
    #[error("the SMTP URL is not usable: {0}")]
    Url(String),
    /// The sender address does not parse.
    #[error("the sender address `{0}` is not an e-mail address")]
    From(String),
    /// The message cannot be built (a bad recipient).
    #[error("the message cannot be built: {0}")]
    Message(String),
    /// The server refused it for good (5xx).
    #[error("refused by the mail server: {0}")]
    Permanent(String),
    /// It may work later (4xx, connection failure, timeout).
    #[error("the mail server could not take it now: {0}")]
    Transient(String),
}

impl MailError {
    /// Whether trying again may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Transient(_))
    }
}

/// An SMTP connection pool and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `url`, sending as `from`, waiting at most `timeout` per message.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string().replace(url, "…")))?
            .timeout(Some(timeout))
            .build();
        let from: Mailbox = from.parse().map_err(|_| MailError::From(from.to_owned()))?;
        Ok(Self { transport, from })
    }

    /// Sends an e-mail notification; the server's reply code.
    pub async fn send(&self, n: &Notification) -> Result<u16, MailError> {
        let to: Mailbox = n
            .message
            .recipient
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| MailError::Message("no usable recipient".to_owned()))?;
        let text = n.message.body.clone();
        let body = match &n.message.html {
            Some(html) => MultiPart::alternative_plain_html(text, html.clone()),
            None => MultiPart::mixed().singlepart(
                lettre::message::SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text),
            ),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.message.subject.clone().unwrap_or_default())
            .multipart(body)
            .map_err(|e| MailError::Message(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(reply) => Ok(u16::from(reply.code())),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}
