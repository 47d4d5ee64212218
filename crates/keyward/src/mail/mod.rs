//! Email delivery (PRODUCT.md §8): over SMTP when `smtp_url` is set, else into the outbox
//! directory, `<data_dir>/outbox/`. [`mailer`] picks the transport once, at start-up; both
//! build the same RFC 5322 message with lettre, so an outbox file is exactly what a relay
//! would have been sent.

pub mod outbox;
pub mod smtp;

use std::sync::Arc;

use keyward_core::mail::{Email, MailError, Mailer};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{Address, Message};
use uuid::Uuid;

use crate::config::Config;

pub use outbox::Outbox;
pub use smtp::Smtp;

/// RFC 3834: tells vacation responders and mailing-list software that nobody typed this
/// message, so they do not answer it.
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

/// The mailer the configuration asks for: SMTP to `smtp_url`, or the outbox. The config was
/// checked at load (`config::check`), so an error here means something changed under us,
/// such as a data directory that cannot be written.
pub fn mailer(config: &Config) -> Result<Arc<dyn Mailer>, String> {
    let from = parse_mailbox(&config.mail_from)
        .map_err(|e| format!("mail_from is not a valid mailbox: {e}"))?;
    match &config.smtp_url {
        Some(url) => Ok(Arc::new(Smtp::new(&url.0, from, smtp::TIMEOUT)?)),
        None => Ok(Arc::new(Outbox::create(
            config.data_dir.join("outbox"),
            from,
        )?)),
    }
}

/// `Name <user@example.com>` or `user@example.com`, as `mail_from` takes it.
pub fn parse_mailbox(raw: &str) -> Result<Mailbox, String> {
    // lettre's RFC 2822 parser must reach the end of the text, so a list or trailing
    // words are refused rather than cut off.
    raw.parse()
        .map_err(|e: lettre::address::AddressError| e.to_string())
}

/// The message both transports deliver, and its id (also the outbox file's name).
///
/// Plain text in UTF-8; lettre picks the transfer encoding (7bit, or quoted-printable for
/// long lines such as a link), which every mail client decodes.
fn message(from: &Mailbox, email: &Email) -> Result<(Uuid, Message), MailError> {
    let to: Address = email
        .to
        .parse()
        .map_err(|e| MailError(format!("the recipient is not a valid address: {e}")))?;
    // A v7 id sorts by time, so the outbox lists messages in the order they were sent. Its
    // domain is the sender's, not this machine's host name, which is nobody's business.
    let id = Uuid::now_v7();
    let message = Message::builder()
        .message_id(Some(format!("<{}@{}>", id.simple(), from.email.domain())))
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(email.subject.clone())
        .raw_header(HeaderValue::new(AUTO_SUBMITTED, "auto-generated".into()))
        .header(ContentType::TEXT_PLAIN)
        .body(email.text.clone())
        .map_err(|e| MailError(format!("cannot build the message: {e}")))?;
    Ok((id, message))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use keyward_core::secret::SecretString;

    use super::*;

    #[test]
    fn mail_from_takes_one_mailbox_with_or_without_a_name() {
        for good in [
            "keyward <keyward@localhost>",
            "keys@example.com",
            "\"Acme Keys\" <keys@example.com>",
        ] {
            assert!(parse_mailbox(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "keyward",
            "keyward <keyward>",
            "a@example.com, b@example.com",
            "<a@example.com> b@example.com",
            "keys@",
        ] {
            assert!(parse_mailbox(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// Every address the email rule accepts can be mailed: the mailer parses it as a
        /// recipient. (A looser rule once let accounts be made that no mail could reach.)
        #[test]
        fn every_address_the_email_rule_accepts_the_mailer_takes(
            raw in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\"<>,;: é-]{1,8}@[a-zA-Z0-9_.é\\[\\]-]{1,10}(\\.[a-zA-Z0-9-]{1,4}){0,2}"
        ) {
            if let Ok(email) = keyward_core::validate::email("email", &raw) {
                proptest::prop_assert!(email.parse::<Address>().is_ok(), "{:?}", email);
            }
        }
    }

    #[test]
    fn the_message_is_plain_utf8_text_from_the_sender_to_the_recipient() {
        let from = parse_mailbox("Acme Keys <keys@example.com>").unwrap();
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Bestätigen Sie Ihre E-Mail".into(),
            text: "Grüße! Open https://keys.example.com/verify?token=abc\n".into(),
            link: SecretString::new("https://keys.example.com/verify?token=abc".into()),
        };
        let (id, message) = message(&from, &email).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(
            raw.contains("From: \"Acme Keys\" <keys@example.com>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("To: ada@example.com\r\n"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Auto-Submitted: auto-generated\r\n"), "{raw}");
        let message_id = format!("Message-ID: <{}@example.com>\r\n", id.simple());
        assert!(raw.contains(&message_id), "{raw}");
        assert!(raw.is_ascii(), "non-ASCII is encoded for any relay: {raw}");
    }

    #[test]
    fn a_recipient_that_is_not_an_address_is_an_error_not_a_panic() {
        let from = parse_mailbox("keys@example.com").unwrap();
        let email = Email {
            to: "not an address".into(),
            subject: "s".into(),
            text: "t".into(),
            link: SecretString::new("l".into()),
        };
        assert!(message(&from, &email).is_err());
    }
}
