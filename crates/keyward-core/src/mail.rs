//! Outgoing email as the domain sees it: what to tell whom. Delivery (an SMTP relay, or the
//! outbox directory on a machine without one) is the server's business, behind [`Mailer`].

use async_trait::async_trait;

use crate::secret::SecretString;

/// One message with a single call to action: a verification or invitation link.
#[derive(Debug, Clone)]
pub struct Email {
    /// The recipient's address, already validated and lower-cased.
    pub to: String,
    pub subject: String,
    /// The plain-text body; it contains the link.
    pub text: String,
    /// The link the message exists for. It carries a single-use token, so it is a secret:
    /// it goes into the message and, for the outbox only, into one log line (PRODUCT.md §8),
    /// never anywhere else.
    pub link: SecretString,
}

#[derive(Debug, thiserror::Error)]
#[error("email could not be sent: {0}")]
pub struct MailError(pub String);

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Hands the message to the transport. An error means it was not accepted; the caller
    /// decides whether that fails the request (it does not for sign-up: the user can ask
    /// for the message again).
    async fn send(&self, email: &Email) -> Result<(), MailError>;
}
