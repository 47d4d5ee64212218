//! Loading the pepper: `KEYWARD_PEPPER`, else `pepper_file`, else a file generated once in the
//! data directory with mode 0600.

use std::io::Write;
use std::path::Path;

use keyward_core::secret::Pepper;

use crate::config::Config;
use crate::private_files;

const MIN_PEPPER_BYTES: usize = 16;

/// A loaded pepper and where it came from, for messages that must never show the pepper.
pub struct Loaded {
    pub pepper: Pepper,
    /// `KEYWARD_PEPPER`, `pepper_file PATH`, or the data directory's pepper file.
    pub source: String,
}

/// `has_data`: the database already holds data hashed with some pepper, so a missing pepper
/// must not be replaced by a new one, which would silently make every stored key, token and
/// session unusable.
pub fn load(config: &Config, has_data: bool) -> Result<Loaded, String> {
    if let Some(value) = &config.pepper {
        return checked(value.trim().as_bytes().to_vec(), "KEYWARD_PEPPER");
    }
    if let Some(path) = &config.pepper_file {
        private_files::warn_if_open(path, "pepper_file");
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read pepper_file {}: {e}", path.display()))?;
        return checked(trim(bytes), &format!("pepper_file {}", path.display()));
    }
    let path = config.data_dir.join("pepper");
    private_files::tighten(&path, private_files::FILE_MODE);
    match std::fs::read(&path) {
        Ok(bytes) => checked(trim(bytes), &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && has_data => Err(format!(
            "{} is missing but the database already holds data: restore the pepper file from \
             your backup (or set pepper_file / KEYWARD_PEPPER). A new pepper would make every \
             existing key fail to verify.",
            path.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded {
            pepper: generate(&path)?,
            source: path.display().to_string(),
        }),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The refusal when the database's recorded fingerprint is another pepper's: what happened,
/// and the ways out. It names where the pepper came from, never the pepper.
pub fn mismatch(source: &str, config: &Config) -> String {
    format!(
        "the pepper from {source} does not match this database: its keys, service tokens and \
         sessions were hashed with a different pepper, so none of them would verify. Start \
         keyward with the pepper this database was made with (restore {} from your backup, \
         or set pepper_file or KEYWARD_PEPPER to it), or point --data-dir / --database-url \
         at the database that belongs to this pepper.",
        config.data_dir.join("pepper").display()
    )
}

fn generate(path: &Path) -> Result<Pepper, String> {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let text = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, private_files::FILE_MODE);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new pepper; back it up with the database");
    Ok(Pepper::new(text.into_bytes()))
}

fn trim(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    bytes
}

fn checked(bytes: Vec<u8>, source: &str) -> Result<Loaded, String> {
    if bytes.len() < MIN_PEPPER_BYTES {
        return Err(format!(
            "{source} must hold at least {MIN_PEPPER_BYTES} bytes"
        ));
    }
    Ok(Loaded {
        pepper: Pepper::new(bytes),
        source: source.to_owned(),
    })
}
