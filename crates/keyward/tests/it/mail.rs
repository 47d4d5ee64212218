//! Email delivery (PRODUCT.md §8), through `keyward::mail::mailer` as the server builds it:
//! over SMTP to a real SMTP server on loopback (Python's aiosmtpd) when `smtp_url` is set,
//! else one `.eml` file per message in a private `<data_dir>/outbox/` plus one log line
//! with the link.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyward::config::{Config, SmtpUrl};
use keyward::mail::{mailer, parse_mailbox, Smtp};
use keyward_core::mail::{Email, Mailer};
use keyward_core::secret::SecretString;

use crate::support::eml;
use crate::support::smtp::SmtpSink;

/// A link long enough to need quoted-printable, as real verification links do.
const LINK: &str =
    "https://keys.example.com/verify-email?token=kwv_3mQ9xZ7pLk2Rt8Vw4Ny6Hb1Jc5Fd0Gs_single_use";

fn verification_email() -> Email {
    Email {
        to: "ada@example.com".into(),
        subject: "Confirm your email for keyward — Grüße".into(),
        text: format!("Welcome! Confirm your email address:\n\n{LINK}\n\nThe link works once, for 24 hours.\n"),
        link: SecretString::new(LINK.into()),
    }
}

fn config(dir: &std::path::Path, smtp_url: Option<String>) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        smtp_url: smtp_url.map(SmtpUrl),
        mail_from: "Acme Keys <keys@acme.example>".into(),
        ..Config::default()
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Everything logged while `f` runs on this thread (the tests run on a current-thread
/// runtime, so that is everything the mailer logs).
async fn logs_of<F: std::future::Future>(f: F) -> (F::Output, String) {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let output = f.await;
    drop(guard);
    let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (output, logged)
}

#[tokio::test]
async fn without_smtp_url_each_message_is_one_eml_file_in_a_private_outbox() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = mailer(&config(tmp.path(), None)).unwrap();
    let outbox = tmp.path().join("outbox");
    assert_eq!(
        mode(&outbox),
        0o700,
        "made private at start-up, before any mail"
    );

    mailer.send(&verification_email()).await.unwrap();

    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "exactly one file, no leftovers: {files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    assert_eq!(mode(&files[0]), 0o600, "it holds a live single-use link");
    assert_eq!(mode(&outbox), 0o700);

    let messages = eml::outbox(tmp.path());
    let message = &messages[0];
    assert_eq!(message.header("To"), Some("ada@example.com"));
    assert_eq!(
        message.header("From"),
        Some("\"Acme Keys\" <keys@acme.example>")
    );
    assert_eq!(
        message.header("Subject"),
        Some("Confirm your email for keyward — Grüße")
    );
    assert_eq!(
        message.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(message.header("Date").is_some() && message.header("Message-ID").is_some());
    assert_eq!(message.link_containing("token="), Some(LINK.to_owned()));
    assert!(
        message.body.contains("The link works once"),
        "{}",
        message.body
    );
}

#[tokio::test]
async fn each_message_gets_its_own_file_in_the_order_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = mailer(&config(tmp.path(), None)).unwrap();
    for to in ["a@example.com", "b@example.com", "c@example.com"] {
        let email = Email {
            to: to.into(),
            ..verification_email()
        };
        mailer.send(&email).await.unwrap();
    }
    let to: Vec<_> = eml::outbox(tmp.path())
        .iter()
        .map(|m| m.header("To").unwrap().to_owned())
        .collect();
    assert_eq!(to, ["a@example.com", "b@example.com", "c@example.com"]);
}

#[tokio::test]
async fn an_outbox_emptied_by_the_operator_is_made_again_on_the_next_message() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = mailer(&config(tmp.path(), None)).unwrap();
    std::fs::remove_dir_all(tmp.path().join("outbox")).unwrap();
    mailer.send(&verification_email()).await.unwrap();
    assert_eq!(eml::outbox(tmp.path()).len(), 1);
    assert_eq!(mode(&tmp.path().join("outbox")), 0o700);
}

#[tokio::test]
async fn the_outbox_logs_one_line_with_the_recipient_and_the_link() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = mailer(&config(tmp.path(), None)).unwrap();
    let (sent, logged) = logs_of(mailer.send(&verification_email())).await;
    sent.unwrap();
    let lines: Vec<&str> = logged.lines().filter(|l| l.contains(LINK)).collect();
    assert_eq!(lines.len(), 1, "{logged}");
    assert!(
        lines[0].contains("INFO") && lines[0].contains("ada@example.com"),
        "{logged}"
    );
}

#[tokio::test]
async fn with_smtp_url_the_message_reaches_the_relay_with_its_headers_and_body() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let mailer = mailer(&config(tmp.path(), Some(sink.url()))).unwrap();

    let (sent, logged) = logs_of(mailer.send(&verification_email())).await;
    sent.unwrap();

    let received = sink.messages();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(
        message.mail_from, "keys@acme.example",
        "the envelope sender"
    );
    assert_eq!(
        message.rcpt_tos,
        ["ada@example.com"],
        "the envelope recipient"
    );
    assert_eq!(message.login, None, "no credentials in the URL, no AUTH");
    // As Python's email package reads it: a well-formed UTF-8 text message.
    assert!(message.defects.is_empty(), "{:?}", message.defects);
    assert_eq!(message.headers["from"], "Acme Keys <keys@acme.example>");
    assert_eq!(message.headers["to"], "ada@example.com");
    assert_eq!(
        message.headers["subject"],
        "Confirm your email for keyward — Grüße"
    );
    assert_eq!(message.headers["auto-submitted"], "auto-generated");
    assert!(message.headers["message-id"].ends_with("@acme.example>"));
    assert_eq!(message.content_type, "text/plain");
    assert_eq!(message.charset.as_deref(), Some("utf-8"));
    let body = message.body.as_deref().unwrap().replace("\r\n", "\n");
    // lettre ends DATA with CRLF . CRLF even after a body's own final CRLF, so the relay
    // sees one more empty line at the end; nothing a reader could notice.
    assert_eq!(body.trim_end(), verification_email().text.trim_end());
    assert_eq!(
        message.eml().link_containing("token="),
        Some(LINK.to_owned())
    );

    assert!(
        !logged.contains("token="),
        "with SMTP the link goes to the recipient alone: {logged}"
    );
    assert!(
        !tmp.path().join("outbox").exists(),
        "nothing goes to the outbox when SMTP is set"
    );
}

#[tokio::test]
async fn credentials_in_smtp_url_log_in_to_the_relay_percent_decoded() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("smtp://mailer:p%40ss%3Aw%C3%B6rd@127.0.0.1:{}", sink.port);
    let mailer = mailer(&config(tmp.path(), Some(url))).unwrap();
    mailer.send(&verification_email()).await.unwrap();
    let received = sink.messages();
    assert_eq!(received[0].login.as_deref(), Some("mailer"));
    assert_eq!(received[0].password.as_deref(), Some("p@ss:wörd"));
}

#[tokio::test]
async fn an_unreachable_relay_is_a_mail_error_not_a_panic() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("smtp://mailer:hunter2@127.0.0.1:{port}");
    let mailer = mailer(&config(tmp.path(), Some(url))).unwrap();
    let started = Instant::now();
    let err = mailer.send(&verification_email()).await.unwrap_err();
    assert!(started.elapsed() < keyward::mail::smtp::TIMEOUT, "{err}");
    let err = err.to_string();
    assert!(err.contains("email could not be sent"), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("token="), "{err}");
}

#[tokio::test]
async fn a_relay_that_never_answers_is_a_mail_error_once_the_timeout_is_over() {
    // Connections complete in the kernel's backlog, but nobody ever says hello.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let from = parse_mailbox("keys@acme.example").unwrap();
    let timeout = Duration::from_millis(500);
    let smtp = Smtp::new(&url, from, timeout).unwrap();
    let started = Instant::now();
    let err = smtp.send(&verification_email()).await.unwrap_err();
    let took = started.elapsed();
    assert!(took >= timeout && took < timeout * 4, "{took:?}: {err}");
}

#[test]
fn the_smtp_mailer_never_prints_its_url() {
    let from = parse_mailbox("keys@acme.example").unwrap();
    let smtp = Smtp::new(
        "smtp://mailer:hunter2@relay.example.com?tls=required",
        from,
        Duration::from_secs(1),
    )
    .unwrap();
    let printed = format!("{smtp:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
}
