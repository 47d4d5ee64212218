//! A real SMTP server for tests: `support/smtp_sink.py` (Python's aiosmtpd) on a free
//! loopback port, storing what it receives where [`SmtpSink::messages`] reads it. Killed on
//! drop, and it also exits by itself when the test process goes away.
//!
//! Python comes from `$TEST_PYTHON`, or the virtualenv `scripts/test.sh` makes in
//! `target/openapi-venv`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::eml::Eml;

const PYTHON_ENV: &str = "TEST_PYTHON";

pub struct SmtpSink {
    pub port: u16,
    child: Child,
    /// Held open: the sink exits when its standard input closes.
    _stdin: ChildStdin,
    dir: tempfile::TempDir,
}

/// One message as the server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// The envelope: `MAIL FROM` and `RCPT TO`, which decide where the message goes.
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// What the client logged in with, when it did.
    pub login: Option<String>,
    pub password: Option<String>,
    /// The message exactly as it came over the wire.
    pub raw: String,
    /// Header names in lower case, values decoded, as Python's email package reads them.
    pub headers: std::collections::BTreeMap<String, String>,
    pub content_type: String,
    pub charset: Option<String>,
    /// The text/plain body, decoded by Python's email package.
    pub body: Option<String>,
    /// What Python's parser found wrong with the message; empty for a well-formed one.
    pub defects: Vec<String>,
}

impl Received {
    /// The same message read by this crate's own parser, for its `link_containing`.
    pub fn eml(&self) -> Eml {
        Eml::parse(&self.raw)
    }
}

/// The Python that has aiosmtpd: `$TEST_PYTHON`, or the one `scripts/test.sh` installs.
fn python() -> PathBuf {
    if let Some(path) = std::env::var_os(PYTHON_ENV) {
        return path.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/openapi-venv/bin/python")
}

fn how_to_install() -> String {
    format!(
        "The SMTP tests need Python with aiosmtpd. Run ./scripts/test.sh, which installs it \
         into target/openapi-venv; or run `python3 -m venv target/openapi-venv && \
         target/openapi-venv/bin/pip install aiosmtpd`; or set {PYTHON_ENV} to a Python \
         that has aiosmtpd."
    )
}

impl SmtpSink {
    /// Starts the server and waits until it accepts connections.
    pub fn start() -> SmtpSink {
        let python = python();
        assert!(
            python.exists(),
            "no Python at {}. {}",
            python.display(),
            how_to_install()
        );
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("sink.log")).unwrap();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {}: {e}. {}", python.display(), how_to_install())
            });
        let stdin = child.stdin.take().unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let Some(port) = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.path().join("sink.log")).unwrap_or_default();
            panic!(
                "the SMTP sink did not start:\n{first}{log}\n{}",
                how_to_install()
            );
        };
        SmtpSink {
            port,
            child,
            _stdin: stdin,
            dir,
        }
    }

    /// `smtp://127.0.0.1:<port>`, plain text, as `smtp_url` takes it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits up to 10 s for at least `count` messages, without blocking the runtime (a
    /// server in the same test may be the one sending them).
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= count || tokio::time::Instant::now() >= deadline {
                assert!(
                    messages.len() >= count,
                    "expected {count} messages, the SMTP sink has {}",
                    messages.len()
                );
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
