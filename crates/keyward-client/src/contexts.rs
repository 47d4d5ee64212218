//! Named connections (`keyward context add prod --url … --api-key …`), so that a key is not
//! pasted into every command. They live in one TOML file in the user's config directory
//! (`$XDG_CONFIG_HOME/keyward/contexts.toml` on Linux), mode 0600, replaced atomically so
//! that a crash mid-write never leaves half a file of credentials.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use keyward_core::key_format;
use keyward_core::secret::SecretString;
use serde::{Deserialize, Serialize};

const FILE_NAME: &str = "contexts.toml";

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("cannot find a config directory for this user (is $HOME set?)")]
    NoConfigDir,
    #[error("cannot {action} {path}: {reason}")]
    Io {
        action: &'static str,
        path: String,
        reason: String,
    },
    #[error("{path} is not a valid contexts file: {reason}")]
    Parse { path: String, reason: String },
    #[error("no context named {0:?}; `keyward context list` shows them")]
    Unknown(String),
    #[error("a context name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")]
    InvalidName,
}

/// One stored connection. The credentials redact themselves in `Debug`.
#[derive(Debug, Clone)]
pub struct Context {
    pub name: String,
    pub url: String,
    pub api_key: SecretString,
    /// For `keyward verify`, which takes a service token rather than an API key.
    pub service_token: Option<SecretString>,
}

/// The file's shape. Plain strings here, because this is what is written to disk; they are
/// wrapped into [`SecretString`] as soon as they are read.
#[derive(Default, Serialize, Deserialize)]
struct File {
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(default)]
    contexts: BTreeMap<String, Stored>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    url: String,
    api_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_token: Option<String>,
}

/// The contexts file, loaded.
pub struct Contexts {
    dir: PathBuf,
    file: File,
}

impl std::fmt::Debug for Contexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contexts")
            .field("dir", &self.dir)
            .field("names", &self.file.contexts.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Contexts {
    /// The platform's config directory for keyward, e.g. `$XDG_CONFIG_HOME/keyward`.
    pub fn default_dir() -> Result<PathBuf, ContextError> {
        directories::ProjectDirs::from("", "", "keyward")
            .map(|dirs| dirs.config_dir().to_path_buf())
            .ok_or(ContextError::NoConfigDir)
    }

    /// Loads `<dir>/contexts.toml`; a missing file is no contexts yet.
    pub fn load(dir: &Path) -> Result<Self, ContextError> {
        let path = dir.join(FILE_NAME);
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ContextError::Parse {
                path: path.display().to_string(),
                reason: e.message().to_owned(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(io_error("read", &path, &e)),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Writes the file: a temporary file in the same directory, mode 0600 from its creation,
    /// then renamed over the old one, which is atomic on one filesystem.
    pub fn save(&self) -> Result<(), ContextError> {
        create_private_dir(&self.dir)?;
        let path = self.path();
        let text = toml::to_string_pretty(&self.file).map_err(|e| ContextError::Parse {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| io_error("write", &path, &e))?;
        set_mode(tmp.path(), 0o600).map_err(|e| io_error("write", &path, &e))?;
        tmp.write_all(text.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io_error("write", &path, &e))?;
        tmp.persist(&path)
            .map_err(|e| io_error("write", &path, &e.error))?;
        Ok(())
    }

    /// Adds or replaces a context. The first one added becomes the current one, so that a
    /// single `context add` is enough to start.
    pub fn add(&mut self, context: Context) -> Result<(), ContextError> {
        check_name(&context.name)?;
        self.file.contexts.insert(
            context.name.clone(),
            Stored {
                url: context.url,
                api_key: context.api_key.expose_secret().to_owned(),
                service_token: context.service_token.map(|t| t.expose_secret().to_owned()),
            },
        );
        if self.file.current.is_none() {
            self.file.current = Some(context.name);
        }
        Ok(())
    }

    pub fn use_context(&mut self, name: &str) -> Result<(), ContextError> {
        if !self.file.contexts.contains_key(name) {
            return Err(ContextError::Unknown(name.to_owned()));
        }
        self.file.current = Some(name.to_owned());
        Ok(())
    }

    /// Removes a context; removing the current one leaves none current.
    pub fn remove(&mut self, name: &str) -> Result<(), ContextError> {
        if self.file.contexts.remove(name).is_none() {
            return Err(ContextError::Unknown(name.to_owned()));
        }
        if self.file.current.as_deref() == Some(name) {
            self.file.current = None;
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<Context, ContextError> {
        self.file
            .contexts
            .get(name)
            .map(|stored| to_context(name, stored))
            .ok_or_else(|| ContextError::Unknown(name.to_owned()))
    }

    pub fn current_name(&self) -> Option<&str> {
        self.file.current.as_deref()
    }

    /// The current context, if one is set and still exists.
    pub fn current(&self) -> Option<Context> {
        self.current_name().and_then(|name| self.get(name).ok())
    }

    /// Every context, by name.
    pub fn list(&self) -> Vec<Context> {
        self.file
            .contexts
            .iter()
            .map(|(name, stored)| to_context(name, stored))
            .collect()
    }
}

/// How a key is shown where the key itself must not be: keyward's own `key_prefix` (the
/// prefix and 8 characters of the body) for keyward keys; for anything else, e.g. a key
/// imported from another system, at most 8 characters and never more than a quarter of it.
pub fn display_prefix(key: &SecretString) -> String {
    let key = key.expose_secret();
    if let Ok(parsed) = key_format::parse(key) {
        let shown = parsed.prefix.len() + key_format::DISPLAY_BODY_LEN.min(parsed.body.len());
        return format!("{}…", &key[..shown]);
    }
    let shown: String = key.chars().take((key.chars().count() / 4).min(8)).collect();
    format!("{shown}…")
}

fn to_context(name: &str, stored: &Stored) -> Context {
    Context {
        name: name.to_owned(),
        url: stored.url.clone(),
        api_key: SecretString::new(stored.api_key.clone()),
        service_token: stored.service_token.clone().map(SecretString::new),
    }
}

fn check_name(name: &str) -> Result<(), ContextError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if first_ok && rest_ok && name.len() <= 64 {
        Ok(())
    } else {
        Err(ContextError::InvalidName)
    }
}

fn create_private_dir(dir: &Path) -> Result<(), ContextError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, &e))?;
    set_mode(dir, 0o700).map_err(|e| io_error("create", dir, &e))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

fn io_error(action: &'static str, path: &Path, e: &std::io::Error) -> ContextError {
    ContextError::Io {
        action,
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(name: &str, key: &str) -> Context {
        Context {
            name: name.into(),
            url: "http://127.0.0.1:8787".into(),
            api_key: SecretString::new(key.into()),
            service_token: None,
        }
    }

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn contexts_survive_a_save_and_load_and_the_first_becomes_current() {
        let dir = ok(tempfile::tempdir());
        let conf = dir.path().join("keyward");
        let mut contexts = ok(Contexts::load(&conf));
        ok(contexts.add(context("prod", "kw_a")));
        ok(contexts.add(context("staging", "kw_b")));
        ok(contexts.save());

        let loaded = ok(Contexts::load(&conf));
        assert_eq!(loaded.current_name(), Some("prod"));
        let names: Vec<String> = loaded.list().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["prod", "staging"]);
        assert_eq!(ok(loaded.get("staging")).api_key.expose_secret(), "kw_b");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_0600_and_its_directory_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = ok(tempfile::tempdir());
        let conf = dir.path().join("keyward");
        let mut contexts = ok(Contexts::load(&conf));
        ok(contexts.add(context("prod", "kw_a")));
        ok(contexts.save());
        let mode = |p: &Path| ok(std::fs::metadata(p)).permissions().mode() & 0o777;
        assert_eq!(mode(&contexts.path()), 0o600);
        assert_eq!(mode(&conf), 0o700);
    }

    #[test]
    fn removing_the_current_context_leaves_none_current() {
        let dir = ok(tempfile::tempdir());
        let mut contexts = ok(Contexts::load(dir.path()));
        ok(contexts.add(context("prod", "kw_a")));
        ok(contexts.remove("prod"));
        assert_eq!(contexts.current_name(), None);
        assert!(matches!(
            contexts.remove("prod"),
            Err(ContextError::Unknown(_))
        ));
        assert!(matches!(
            contexts.use_context("nope"),
            Err(ContextError::Unknown(_))
        ));
    }

    #[test]
    fn names_are_plain_words() {
        let dir = ok(tempfile::tempdir());
        let mut contexts = ok(Contexts::load(dir.path()));
        for bad in ["", "-x", "a b", "a/b", &"x".repeat(65)] {
            assert!(contexts.add(context(bad, "k")).is_err(), "{bad:?}");
        }
        ok(contexts.add(context("prod-eu.2", "k")));
    }

    #[test]
    fn a_broken_file_is_named_in_the_error() {
        let dir = ok(tempfile::tempdir());
        ok(std::fs::write(dir.path().join(FILE_NAME), "current = [\n"));
        let e = Contexts::load(dir.path()).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains(FILE_NAME)));
    }

    #[test]
    fn the_display_prefix_never_shows_the_whole_key() {
        let minted = key_format::generate(
            &ok(key_format::KeyPrefix::parse("sk_live_").ok_or("prefix")),
            key_format::KeyFormat::Base62,
        );
        let key = SecretString::new(minted.secret.expose_secret().to_owned());
        assert_eq!(display_prefix(&key), format!("{}…", minted.display_prefix));
        assert_eq!(
            display_prefix(&SecretString::new(
                "legacy-0123456789abcdef0123456789".into()
            )),
            "legacy-0…"
        );
        assert_eq!(
            display_prefix(&SecretString::new("legacy-012".into())),
            "le…"
        );
        assert_eq!(display_prefix(&SecretString::new("abcd".into())), "a…");
    }
}
