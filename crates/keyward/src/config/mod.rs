//! Layered configuration (PRODUCT.md §8): built-in defaults, then `keyward.toml`, then
//! `KEYWARD_*` environment variables, then command-line flags. Unknown keys are reported
//! (`unknown`); invalid values stop start-up with exit code 2 (`check`).

mod check;
mod secret_scanning;
mod unknown;

pub use secret_scanning::SecretScanningKey;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use keyward_core::key_format::KeyFormat;
use serde::{Deserialize, Deserializer, Serialize};

/// Every config key; anything else in the file is reported as unknown.
pub const KEYS: [&str; 27] = [
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "pepper_file",
    "pepper",
    "allow_signup",
    "scopes",
    "plans",
    "default_plan",
    "max_keys_per_workspace",
    "default_key_prefix",
    "default_key_format",
    "smtp_url",
    "mail_from",
    "cache_ttl_seconds",
    "cache_max_entries",
    "stale_grace_seconds",
    "last_used_flush_seconds",
    "auth_failures_per_minute",
    "login_failures_per_minute",
    "trusted_proxies",
    "session_idle_minutes",
    "session_max_hours",
    "log_format",
    "compat",
    "secret_scanning_public_keys",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanConfig {
    pub max_active_keys: Option<u64>,
}

/// A database URL whose `Debug` hides any password in it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redact_password(&self.0, f)
    }
}

/// An SMTP URL, `smtp://USER:PASSWORD@host:587?tls=required`, whose `Debug` hides the
/// password: the config is printed in debug logs, the relay's password never is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redact_password(&self.0, f)
    }
}

/// `scheme://user:<redacted>@rest` for a URL with credentials; others print as they are.
fn redact_password(url: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            write!(
                f,
                "{}://{}:<redacted>@{}",
                &url[..scheme],
                user,
                &url[at + 1..]
            )
        }
        _ => f.write_str(url),
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `sqlite://path` or `postgres://…`; defaults to `<data_dir>/keyward.db` (SQLite).
    pub database_url: Option<DatabaseUrl>,
    /// The externally visible base URL, e.g. `https://keys.example.com`.
    pub public_url: Option<String>,
    pub pepper_file: Option<PathBuf>,
    /// The pepper itself, normally only from `KEYWARD_PEPPER`.
    pub pepper: Option<String>,
    pub allow_signup: bool,
    #[serde(deserialize_with = "list_or_commas")]
    pub scopes: Vec<String>,
    pub plans: BTreeMap<String, PlanConfig>,
    pub default_plan: String,
    pub max_keys_per_workspace: u64,
    pub default_key_prefix: String,
    /// The shape of new workspaces' keys: `base62` or `hex64` (PRODUCT.md §2).
    pub default_key_format: KeyFormat,
    /// Outgoing email goes to this relay; without it, to `<data_dir>/outbox/`.
    pub smtp_url: Option<SmtpUrl>,
    /// The From of every message keyward sends: `Name <address>` or an address.
    pub mail_from: String,
    pub cache_ttl_seconds: u64,
    /// At most this many keys in the verification cache.
    pub cache_max_entries: u64,
    pub stale_grace_seconds: u64,
    pub last_used_flush_seconds: u64,
    pub auth_failures_per_minute: u32,
    /// Failed console log-ins allowed per account, and per client IP, in a minute.
    pub login_failures_per_minute: u32,
    /// Peers whose `X-Forwarded-For` names the client (CIDR ranges or addresses); by
    /// default none, and the TCP peer is the client.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// A console session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// A console session ends this many hours after log-in, however busy.
    pub session_max_hours: u32,
    pub log_format: LogFormat,
    /// The wire profiles served beside the native API (PRODUCT.md §11), by name.
    #[serde(deserialize_with = "list_or_commas")]
    pub compat: Vec<String>,
    /// The keys GitHub signs secret-scanning reports with; none turns the endpoint away
    /// (`POST /api/v1/secret-scanning/github` answers 401).
    #[serde(deserialize_with = "secret_scanning::keys_or_github_json")]
    pub secret_scanning_public_keys: Vec<SecretScanningKey>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url)
            .field("pepper", &self.pepper.as_ref().map(|_| "<redacted>"))
            .field("scopes", &self.scopes)
            .field("plans", &self.plans)
            .field("default_plan", &self.default_plan)
            .field("max_keys_per_workspace", &self.max_keys_per_workspace)
            .field("smtp_url", &self.smtp_url)
            .field("mail_from", &self.mail_from)
            .field("compat", &self.compat)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "secret_scanning_public_keys",
                &self.secret_scanning_public_keys.len(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        let plans = BTreeMap::from([
            (
                "free".to_owned(),
                PlanConfig {
                    max_active_keys: Some(1),
                },
            ),
            ("pro".to_owned(), PlanConfig::default()),
            ("unlimited".to_owned(), PlanConfig::default()),
        ]);
        Self {
            listen: "127.0.0.1:8787".into(),
            data_dir: PathBuf::from("./keyward-data"),
            database_url: None,
            public_url: None,
            pepper_file: None,
            pepper: None,
            allow_signup: true,
            scopes: Vec::new(),
            plans,
            default_plan: "pro".into(),
            max_keys_per_workspace: 50,
            default_key_prefix: "kw_".into(),
            default_key_format: KeyFormat::Base62,
            smtp_url: None,
            mail_from: "keyward <keyward@localhost>".into(),
            cache_ttl_seconds: 60,
            cache_max_entries: 1_000_000,
            stale_grace_seconds: 30,
            last_used_flush_seconds: 60,
            auth_failures_per_minute: 100,
            login_failures_per_minute: 10,
            trusted_proxies: Vec::new(),
            session_idle_minutes: 30,
            session_max_hours: 12,
            log_format: LogFormat::Text,
            compat: Vec::new(),
            secret_scanning_public_keys: Vec::new(),
        }
    }
}

/// Values given as command-line flags; they override everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// A loaded config, plus warnings about keys it did not recognise.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Why the config cannot be used (exit code 2), with the warnings found on the way: an
/// unknown key is often the cause of a missing or wrong value, so both are shown.
#[derive(Debug)]
pub struct ConfigError {
    pub message: String,
    pub warnings: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        Self {
            message,
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// Loads the layers. `file` is `--config`; without it `./keyward.toml` is read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Loaded, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(format!(
                    "config file {} does not exist; check --config",
                    path.display()
                )
                .into())
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("keyward.toml")),
        }
        // Only known keys: the client CLI's KEYWARD_URL, KEYWARD_API_KEY, … are not ours.
        // The pepper is read below, as text.
        figment = figment
            .merge(
                Env::prefixed("KEYWARD_")
                    .filter(|k| unknown::is_config_variable(k.as_str()) && k != "pepper"),
            )
            .merge(Serialized::defaults(overrides));
        let mut warnings = unknown::config_keys(&figment);
        warnings.extend(unknown::variables(std::env::vars_os()));
        let checked = figment
            .extract::<Config>()
            .map_err(check::extraction_error)
            .and_then(|mut config| {
                // Figment parses environment values, so an all-digit pepper would become a
                // number (and a type error quoting it). The pepper is the variable's text.
                if let Some(raw) = std::env::var_os("KEYWARD_PEPPER") {
                    config.pepper = Some(raw.into_string().map_err(|_| {
                        "invalid configuration: KEYWARD_PEPPER is not valid UTF-8".to_owned()
                    })?);
                }
                check::values(&config, &figment).map(|()| config)
            });
        match checked {
            Ok(config) => Ok(Loaded { config, warnings }),
            Err(message) => Err(ConfigError { message, warnings }),
        }
    }

    /// The base URL emailed links start with: `public_url`, or the listen address.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Whether the console's cookie must be `Secure`: when people reach keyward over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.0.clone(),
            None => format!("sqlite://{}", self.data_dir.join("keyward.db").display()),
        }
    }
}

/// `scopes = ["a", "b"]` in TOML, or `KEYWARD_SCOPES=a,b` in the environment (the same for
/// `compat` and `trusted_proxies`).
fn list_or_commas<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::List(list) => list,
        Raw::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
// figment's Jail fixes the closures' error type to its own large `figment::Error`.
#[allow(clippy::result_large_err)]
mod tests;
