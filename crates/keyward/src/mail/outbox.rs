//! The outbox (PRODUCT.md §8): with no `smtp_url`, each message becomes one `.eml` file in
//! `<data_dir>/outbox/`, plus one log line with its link, so a machine with no mail relay
//! can still sign people up.
//!
//! The files are written here rather than with lettre's file transport because that one
//! writes with the umask's mode (usually 0644) and in place: these files hold live
//! single-use tokens, so they are created 0600 from the start, and under a temporary name
//! renamed into place, so whoever watches the directory never reads half a message.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use keyward_core::mail::{Email, MailError, Mailer};
use lettre::message::Mailbox;

use crate::private_files;

/// Writes messages into a directory that only keyward's user may enter.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    from: Mailbox,
}

impl Outbox {
    /// Creates `dir` (mode 0700, narrowed if it was wider) now, so a data directory keyward
    /// cannot write stops it at start-up instead of at the first sign-up.
    pub fn create(dir: PathBuf, from: Mailbox) -> Result<Self, String> {
        private_files::create_dir(&dir)
            .map_err(|e| format!("cannot create the outbox {}: {e}", dir.display()))?;
        Ok(Self { dir, from })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let (id, message) = super::message(&self.from, email)?;
        let dir = self.dir.clone();
        let path = dir.join(format!("{id}.eml"));
        let bytes = message.formatted();
        let written = path.clone();
        // Small blocking file I/O, kept off the async workers that serve verification.
        tokio::task::spawn_blocking(move || write_message(&dir, &written, &bytes))
            .await
            .map_err(|e| MailError(format!("the outbox writer stopped: {e}")))?
            .map_err(|e| MailError(format!("cannot write {}: {e}", path.display())))?;
        // The link in a log line is what PRODUCT.md §8 asks of the outbox, and acceptable
        // only here: outbox mode is for a machine with no mail relay, whose operator is the
        // only one who reads both the log and the outbox (mode 0700) and hands the link on.
        // With SMTP the link goes to the recipient alone and is never logged.
        tracing::info!(
            to = %email.to,
            link = %email.link.expose_secret(),
            file = %path.display(),
            "email written to the outbox (no smtp_url is set): {}",
            email.subject
        );
        Ok(())
    }
}

/// `<id>.eml.part`, created 0600 and never reused, then renamed to `<id>.eml`. The
/// directory is made again if someone emptied the outbox with `rm -r`.
fn write_message(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    private_files::create_dir(dir)?;
    let partial = path.with_extension("eml.part");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, private_files::FILE_MODE);
    let result = options
        .open(&partial)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&partial, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}
