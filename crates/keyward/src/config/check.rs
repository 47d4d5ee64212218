//! Checking config values at start-up (PRODUCT.md §8). An invalid value stops keyward with
//! exit code 2 and a message that names the key the way the user wrote it: the key and file
//! for a config file, `KEYWARD_…` for the environment, `--flag` for a flag.
//!
//! Messages never repeat the value of a key that can hold a secret (the pepper, database
//! and SMTP URLs with their passwords).

use figment::{Figment, Metadata, Source};
use keyward_core::key_format::KeyPrefix;
use keyward_core::scope::Catalog;

use super::Config;

/// Keys whose values may hold a password or the pepper: never quoted back.
const SECRET_KEYS: [&str; 3] = ["pepper", "database_url", "smtp_url"];

/// How the user wrote `key` (a dotted path such as `plans.free.max_active_keys`), from the
/// metadata of the provider its value came from.
pub(super) fn written(metadata: Option<&Metadata>, key: &str) -> String {
    match metadata {
        Some(md) if is_environment(md) => format!("KEYWARD_{}", key.to_uppercase()),
        Some(md) => match &md.source {
            Some(Source::File(path)) => format!("`{key}` in {}", path.display()),
            // Flags are merged as the serialized `Overrides` struct.
            _ if md.name.ends_with("Overrides") => format!("--{}", key.replace('_', "-")),
            _ => format!("`{key}`"),
        },
        None => format!("`{key}`"),
    }
}

fn is_environment(md: &Metadata) -> bool {
    md.name.contains("environment variable")
}

/// Turns figment's extraction error (a wrong type, an unknown variant) into one line per
/// problem, each naming its key as written.
pub(super) fn extraction_error(err: figment::Error) -> String {
    let problems: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let what = if SECRET_KEYS.iter().any(|s| key.starts_with(s)) {
                "has an invalid value".to_owned()
            } else {
                format!("is invalid: {}", e.kind)
            };
            format!("{} {what}", written(e.metadata.as_ref(), &key))
        })
        .collect();
    report(problems)
}

/// `invalid configuration: …`, one problem per line when there are several.
fn report(problems: Vec<String>) -> String {
    match problems.as_slice() {
        [one] => format!("invalid configuration: {one}"),
        _ => format!("invalid configuration:\n  {}", problems.join("\n  ")),
    }
}

/// Every rule on the values of an extracted config; all problems are reported at once.
pub(super) fn values(config: &Config, figment: &Figment) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut refuse = |key: &str, problem: String| {
        problems.push(format!(
            "{} {problem}",
            written(figment.find_metadata(key), key)
        ));
    };
    if !is_host_port(&config.listen) {
        refuse("listen", "must be HOST:PORT, e.g. 127.0.0.1:8787".into());
    }
    if config.data_dir.as_os_str().is_empty() {
        refuse("data_dir", "must not be empty".into());
    }
    if let Some(url) = &config.database_url {
        let url = &url.0;
        if crate::app::is_postgres_url(url) {
            if let Err(e) = url::Url::parse(url) {
                refuse(
                    "database_url",
                    format!("is not a valid postgres:// URL ({e})"),
                );
            }
        } else if !url.starts_with("sqlite:") {
            refuse(
                "database_url",
                "must be sqlite://PATH or postgres://USER@HOST/DATABASE".into(),
            );
        } else if url.contains(":memory:") || url.contains("mode=memory") {
            refuse(
                "database_url",
                "must name a file: in-memory SQLite loses every key at exit".into(),
            );
        }
    }
    if let Some(url) = &config.public_url {
        if !is_http_url(url) {
            refuse(
                "public_url",
                "must be an http:// or https:// URL, e.g. https://keys.example.com".into(),
            );
        }
    }
    if let Err(e) = Catalog::new(config.scopes.clone()) {
        refuse("scopes", format!("is invalid: {e}"));
    }
    if !config.plans.contains_key(&config.default_plan) {
        refuse(
            "default_plan",
            format!(
                "names the plan {:?}, which is not configured (plans: {}); add [plans.{}] \
                 or choose one of those",
                config.default_plan,
                config.plans.keys().cloned().collect::<Vec<_>>().join(", "),
                config.default_plan
            ),
        );
    }
    if config.max_keys_per_workspace == 0 {
        refuse(
            "max_keys_per_workspace",
            "must be at least 1: a cap of 0 would refuse every key".into(),
        );
    }
    if KeyPrefix::parse_for_workspace(&config.default_key_prefix).is_none() {
        refuse(
            "default_key_prefix",
            "must match ^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$, e.g. kw_ or sk_live_, and \
             must not be kwsvc_"
                .into(),
        );
    }
    if let Err(problem) = crate::http::compat::Profiles::from_names(&config.compat) {
        refuse("compat", problem);
    }
    if let Err(problem) =
        crate::http::github_signature::GitHubKeys::parse(&config.secret_scanning_public_keys)
    {
        refuse("secret_scanning_public_keys", problem);
    }
    if let Some(url) = &config.smtp_url {
        if let Err(problem) = crate::mail::smtp::check_url(&url.0) {
            refuse("smtp_url", problem);
        }
    }
    if let Err(e) = crate::mail::parse_mailbox(&config.mail_from) {
        refuse(
            "mail_from",
            format!(
                "must be one mailbox, e.g. `keyward <keys@example.com>` or keys@example.com \
                 ({e})"
            ),
        );
    }
    if config.last_used_flush_seconds == 0 {
        refuse("last_used_flush_seconds", "must be at least 1".into());
    }
    if config.auth_failures_per_minute == 0 {
        refuse(
            "auth_failures_per_minute",
            "must be at least 1: 0 would lock out every client after one typo".into(),
        );
    }
    if let Err(e) = crate::http::client_ip::TrustedProxies::parse(&config.trusted_proxies) {
        refuse("trusted_proxies", e);
    }
    if config.login_failures_per_minute == 0 {
        refuse(
            "login_failures_per_minute",
            "must be at least 1: 0 would refuse every log-in".into(),
        );
    }
    if !(1..=24 * 60).contains(&config.session_idle_minutes) {
        refuse(
            "session_idle_minutes",
            "must be between 1 and 1440 (a day)".into(),
        );
    }
    if !(1..=24 * 30).contains(&config.session_max_hours) {
        refuse(
            "session_max_hours",
            "must be between 1 and 720 (30 days)".into(),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(report(problems))
    }
}

/// `host:port` or `[v6]:port`, with a numeric port; the host is resolved when binding.
fn is_host_port(listen: &str) -> bool {
    match listen.rsplit_once(':') {
        Some((host, port)) => !host.trim().is_empty() && port.parse::<u16>().is_ok(),
        None => false,
    }
}

/// An absolute http(s) URL with a host and no query or fragment: the base of every link
/// keyward builds, and what decides whether its cookies are `Secure`.
fn is_http_url(raw: &str) -> bool {
    if raw.contains('#') {
        return false;
    }
    match raw.parse::<axum::http::Uri>() {
        Ok(uri) => {
            matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.host().is_some_and(|h| !h.is_empty())
                && uri.query().is_none()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_must_be_an_absolute_http_url() {
        for good in [
            "https://keys.example.com",
            "http://127.0.0.1:8787",
            "https://example.com/keyward/",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "keys.example.com",
            "ftp://keys.example.com",
            "https://",
            "/relative",
            "https://example.com/?a=b",
            "https://example.com/#x",
            "https://exa mple.com",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn listen_needs_a_host_and_a_numeric_port() {
        for good in ["127.0.0.1:8787", "localhost:0", "[::1]:8787", "0.0.0.0:80"] {
            assert!(is_host_port(good), "{good}");
        }
        for bad in ["8787", ":8787", "localhost", "localhost:http", "h:70000"] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }
}
