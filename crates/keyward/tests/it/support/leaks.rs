//! The leak scan's collection side (issue 17): with `KEYWARD_TEST_LEAKS=<dir>` set, every
//! test process writes what the scan needs into `<dir>`, and `scripts/leak-scan.py` then
//! looks for every secret issued in everything kept.
//!
//! - `secrets/<pid>.txt`: each credential a test was issued, one per line: any string in a
//!   reply's JSON that is shaped like an API key or a service token, a session cookie, the
//!   keys and tokens the harness makes through the service, and credential-shaped words a
//!   CLI printed.
//! - `logs/<pid>.jsonl`: this process's in-process servers' logs, as JSON at debug level;
//!   `logs/serve-<pid>-<n>.log`: the stderr of each `keyward serve` and CLI run, with
//!   `log_format = "json"` and `RUST_LOG=debug` too.
//! - `data/<pid>-<n>/`: each in-process server's data when its test ends: the SQLite
//!   database with its WAL (so every audit event and row), the outbox's mail, and the text
//!   of `/metrics`. On PostgreSQL, `data/<database>.rows`: every row of the test's database,
//!   as JSON, taken just before it is dropped (`support::postgres`); the databases of the
//!   `keyward` binary's runs are dumped by the test command before it drops them.
//!
//! Without the variable, none of this runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// Where this run's evidence goes, if the scan is on.
pub fn dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os("KEYWARD_TEST_LEAKS")?);
        for sub in ["secrets", "logs", "data"] {
            std::fs::create_dir_all(dir.join(sub)).ok()?;
        }
        Some(dir)
    })
    .as_deref()
}

/// A number unique within this process, for file names.
fn next() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Sends this process's in-process server logs to `logs/<pid>.jsonl`, once.
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    let Some(dir) = dir() else { return };
    ONCE.get_or_init(|| {
        let path = dir
            .join("logs")
            .join(format!("{}.jsonl", std::process::id()));
        if let Ok(file) = std::fs::File::create(path) {
            keyward::logging::init_to(keyward::config::LogFormat::Json, DEBUG, Mutex::new(file));
        }
    });
}

/// The filter of every captured log: debug everywhere, but the HTTP client's and the TLS
/// and HTTP/2 libraries' own chatter, which never sees a server's secrets.
pub const DEBUG: &str = "debug,hyper=info,hyper_util=info,reqwest=info,h2=info,rustls=info";

/// A file for one spawned process's stderr.
pub fn process_log() -> Option<std::fs::File> {
    let dir = dir()?;
    let name = format!("serve-{}-{}.log", std::process::id(), next());
    std::fs::File::create(dir.join("logs").join(name)).ok()
}

fn write_secrets(secrets: &[String]) {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    let Some(dir) = dir() else { return };
    let file = FILE.get_or_init(|| {
        let path = dir
            .join("secrets")
            .join(format!("{}.txt", std::process::id()));
        std::fs::File::create(path).ok().map(Mutex::new)
    });
    if let Some(Ok(mut file)) = file.as_ref().map(Mutex::lock) {
        for secret in secrets {
            let _ = writeln!(file, "{secret}");
        }
    }
}

/// Records one credential the test was issued.
pub fn issued(secret: &str) {
    if dir().is_some() && !secret.is_empty() {
        write_secrets(&[secret.to_owned()]);
    }
}

/// Whether `s` is shaped like a keyward API key (any workspace prefix, either format) or a
/// service token.
pub fn credential_shaped(s: &str) -> bool {
    keyward_core::key_format::parse(s).is_ok()
        || s.strip_prefix(keyward_core::key_format::SERVICE_TOKEN_PREFIX)
            .is_some_and(|rest| rest.len() >= 20)
}

/// Records every credential-shaped string in a reply's JSON.
pub fn issued_in_json(body: &Value) {
    if dir().is_none() {
        return;
    }
    let mut found = Vec::new();
    walk(body, &mut found);
    write_secrets(&found);
}

fn walk(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) if credential_shaped(s) => found.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
        Value::Object(map) => map.values().for_each(|v| walk(v, found)),
        _ => {}
    }
}

/// Records every credential-shaped word of a CLI's output.
fn issued_in_text(text: &str) {
    if dir().is_none() {
        return;
    }
    let found: Vec<String> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ':' | '{' | '}'))
        .filter(|w| credential_shaped(w))
        .map(str::to_owned)
        .collect();
    write_secrets(&found);
}

/// A CLI run: what it printed to its user (stdout) is where an issued secret belongs, so
/// its credentials are recorded; what it wrote to stderr is kept, to be scanned for them.
pub fn cli_ran(stdout: &str, stderr: &str) {
    if dir().is_none() {
        return;
    }
    issued_in_text(stdout);
    if let Some(mut log) = process_log() {
        let _ = log.write_all(stderr.as_bytes());
    }
}

/// Keeps an in-process server's data for the scan: the files of its data directory (the
/// SQLite database and WAL, the outbox) and its `/metrics` text.
pub fn keep_data(data_dir: &Path, metrics: Option<String>) {
    let Some(dir) = dir() else { return };
    let target = dir
        .join("data")
        .join(format!("{}-{}", std::process::id(), next()));
    if std::fs::create_dir_all(&target).is_err() {
        return;
    }
    copy_tree(data_dir, &target);
    if let Some(text) = metrics {
        let _ = std::fs::write(target.join("metrics.txt"), text);
    }
}

/// Keeps a text under `data/` for the scan.
pub fn keep_text(name: &str, text: &str) {
    let Some(dir) = dir() else { return };
    let _ = std::fs::write(dir.join("data").join(name), text);
}

fn copy_tree(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // The pepper is a secret of the server's, not one it issued, and hashes made with it
        // are supposed to be in the database.
        if path.file_name().is_some_and(|n| n == "pepper") {
            continue;
        }
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            if std::fs::create_dir_all(&dest).is_ok() {
                copy_tree(&path, &dest);
            }
        } else {
            let _ = std::fs::copy(&path, &dest);
        }
    }
}
