//! Delivery to an SMTP relay named by `smtp_url`, through lettre's async client (rustls,
//! certificates from the system store).
//!
//! | `smtp_url` | connection |
//! |---|---|
//! | `smtp://host:25` | plain text, no TLS (a relay on the same machine or network) |
//! | `smtp://host:587?tls=required` | STARTTLS, refused if the relay does not offer it |
//! | `smtp://host:587?tls=opportunistic` | STARTTLS when offered, else plain text |
//! | `smtps://host:465` | TLS from the first byte |
//!
//! Credentials go in the URL, `smtp://USER:PASSWORD@host` (percent-encoded). The URL is a
//! secret: it is never logged or quoted in an error, and neither is any link a message
//! carries.

use std::time::Duration;

use async_trait::async_trait;
use keyward_core::mail::{Email, MailError, Mailer};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How long one delivery may take, connection to final reply. A relay that does not
/// answer must not hold a sign-up request for lettre's default minute per command.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Hands each message to one SMTP relay.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

/// Only what is safe to print: never the URL, which may hold the password.
impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// A transport for `url`, each delivery bounded by `timeout`. Nothing connects yet:
    /// the relay may be down at start-up and up by the first sign-up. Without lettre's
    /// connection pool each message opens its own connection, which is plenty for
    /// sign-up and invitation mail and never sends over a connection the relay dropped.
    pub fn new(url: &str, from: Mailbox, timeout: Duration) -> Result<Self, String> {
        check_url(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("smtp_url is not usable: {e}"))?
            .timeout(Some(timeout))
            .build();
        if let Some(host) = password_in_clear(url) {
            tracing::warn!(
                "smtp_url sends the SMTP password to {host} without TLS; use \
                 smtp://…?tls=required or smtps:// unless the relay is on this machine"
            );
        }
        Ok(Self {
            transport,
            from,
            timeout,
        })
    }
}

#[async_trait]
impl Mailer for Smtp {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let (_, message) = super::message(&self.from, email)?;
        // lettre's timeout bounds each step; this bounds the whole conversation, so a relay
        // that answers slowly at every step still cannot stall the caller.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(MailError(format!("the SMTP relay refused or failed: {e}"))),
            Err(_) => Err(MailError(format!(
                "the SMTP relay did not finish within {} s",
                self.timeout.as_secs_f32()
            ))),
        }
    }
}

/// Why `url` cannot be `smtp_url`, in words that never repeat it (it may hold a password).
/// Config loading calls this, so a bad URL stops start-up (exit 2) instead of the first
/// sign-up.
pub fn check_url(url: &str) -> Result<(), String> {
    const FORM: &str = "write smtp://[USER:PASSWORD@]HOST[:PORT][?tls=required] or \
                        smtps://[USER:PASSWORD@]HOST[:PORT]";
    let parsed = url::Url::parse(url)
        .map_err(|_| format!("is not a valid URL; {FORM}, percent-encoding special characters"))?;
    let secure = match parsed.scheme() {
        "smtp" => false,
        "smtps" => true,
        _ => return Err(format!("must start with smtp:// or smtps://; {FORM}")),
    };
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("has no host; {FORM}"));
    }
    for (name, value) in parsed.query_pairs() {
        match (name.as_ref(), value.as_ref()) {
            ("tls", "required" | "opportunistic") if !secure => {}
            ("tls", _) if secure => {
                return Err("takes no tls= with smtps://, which is always TLS".into());
            }
            ("tls", _) => return Err("takes tls=required or tls=opportunistic".into()),
            // A misspelt option (`?ssl=true`) would otherwise mean plain text, silently.
            _ => return Err("takes no query parameter other than tls=".into()),
        }
    }
    if parsed.fragment().is_some() {
        return Err(format!("has a #fragment; {FORM}"));
    }
    match (parsed.username().is_empty(), parsed.password()) {
        (false, None) => {
            // lettre would connect without logging in, and the relay's refusal would
            // only show at the first sign-up.
            return Err("names a user but no password; write smtp://USER:PASSWORD@HOST".into());
        }
        (true, Some(_)) => return Err("has a password but no user".into()),
        _ => {}
    }
    // lettre has the last word (it also refuses credentials that are not percent-encoded
    // UTF-8): what it refuses here it would refuse at every send.
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(drop)
        .map_err(|e| format!("is not accepted by the SMTP client: {e}"))
}

/// The host, when `url` logs in over a connection that TLS does not guarantee to protect
/// (plain `smtp://`, or `tls=opportunistic`, which a man in the middle can strip) and the
/// relay is not on this machine.
fn password_in_clear(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let plain = parsed.scheme() == "smtp"
        && !parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required");
    let host = parsed.host()?;
    let local = match host {
        // smtp:// is not a scheme the URL standard knows, so its hosts stay text.
        url::Host::Domain(name) => {
            name == "localhost"
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    (plain && parsed.password().is_some() && !local).then(|| host.to_string())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_takes_the_four_connection_forms_with_or_without_credentials() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://relay.example.com",
            "smtp://mailer:p%40ss%3Aword@relay.example.com:587?tls=required",
            "smtp://relay.example.com:587?tls=opportunistic",
            "smtps://mailer:pw@smtp.example.com",
            "smtps://smtp.example.com:465",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn a_bad_smtp_url_says_what_is_wrong_without_repeating_it() {
        for (bad, why) in [
            ("smtp://relay example.com", "not a valid URL"),
            ("smtp://[::1", "not a valid URL"),
            ("relay.example.com:25", "must start with smtp://"),
            ("http://relay.example.com", "must start with smtp://"),
            ("smtp://", "no host"),
            ("smtp://relay.example.com?tls=yes", "tls=required"),
            ("smtps://relay.example.com?tls=required", "always TLS"),
            ("smtp://relay.example.com?ssl=true", "no query parameter"),
            ("smtp://mailer@relay.example.com", "no password"),
            ("smtp://:secretpw@relay.example.com", "no user"),
            ("smtp://relay.example.com#x", "fragment"),
            (
                "smtp://mailer:%FF%FEsecretpw@relay.example.com",
                "SMTP client",
            ),
        ] {
            let problem = check_url(bad).expect_err(bad);
            assert!(problem.contains(why), "{bad}: {problem}");
            assert!(!problem.contains("secretpw"), "{bad}: {problem}");
        }
    }

    #[test]
    fn a_password_over_plain_text_to_another_machine_is_flagged() {
        assert_eq!(
            password_in_clear("smtp://u:p@relay.example.com"),
            Some("relay.example.com".into())
        );
        assert_eq!(
            password_in_clear("smtp://u:p@relay.example.com?tls=opportunistic"),
            Some("relay.example.com".into())
        );
        for fine in [
            "smtp://u:p@relay.example.com?tls=required",
            "smtps://u:p@relay.example.com",
            "smtp://u:p@127.0.0.1:2525",
            "smtp://u:p@localhost",
            "smtp://u:p@[::1]:25",
            "smtp://relay.example.com",
        ] {
            assert_eq!(password_in_clear(fine), None, "{fine}");
        }
    }
}
