//! Tests of the configuration layers, unknown-key warnings and value checks.

use super::*;

#[test]
fn layers_apply_in_order_defaults_then_file_then_environment_then_flags() {
    figment::Jail::expect_with(|jail| {
        // The developer's or CI's own KEYWARD_* variables must not leak into these.
        jail.clear_env();
        jail.create_file(
            "keyward.toml",
            "listen = \"127.0.0.1:1111\"\nmax_keys_per_workspace = 7\nscopes = [\"apps:read\"]\n[plans.team]\nmax_active_keys = 3\n",
        )?;
        jail.set_env("KEYWARD_LISTEN", "127.0.0.1:2222");
        jail.set_env("KEYWARD_SCOPES", "apps:read, apps:deploy");
        jail.set_env(
            "KEYWARD_API_KEY",
            "belongs to the client CLI, not to the server config",
        );
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        let c = &loaded.config;
        assert_eq!(c.listen, "127.0.0.1:2222", "the environment beats the file");
        assert_eq!(c.max_keys_per_workspace, 7, "the file beats the defaults");
        assert_eq!(
            c.scopes,
            ["apps:read", "apps:deploy"],
            "KEYWARD_SCOPES is comma-separated"
        );
        assert_eq!(c.plans["team"].max_active_keys, Some(3));
        assert!(
            c.plans.contains_key("free"),
            "configured plans add to the built-in ones"
        );
        assert_eq!(
            c.last_used_flush_seconds, 60,
            "untouched keys keep their defaults"
        );
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        let flags = Overrides {
            listen: Some("127.0.0.1:3333".into()),
            ..Overrides::default()
        };
        assert_eq!(
            Config::load(None, &flags).unwrap().config.listen,
            "127.0.0.1:3333",
            "flags beat everything"
        );
        Ok(())
    });
}

#[test]
fn unknown_keys_are_reported_and_a_missing_config_file_is_an_error() {
    figment::Jail::expect_with(|jail| {
        // The developer's or CI's own KEYWARD_* variables must not leak into these.
        jail.clear_env();
        jail.create_file("keyward.toml", "lisen = \"127.0.0.1:1\"\n")?;
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        assert!(
            loaded.warnings.iter().any(|w| w.contains("lisen")),
            "{:?}",
            loaded.warnings
        );
        let missing = Config::load(Some(Path::new("nope.toml")), &Overrides::default());
        assert!(missing.is_err_and(|e| e.message.contains("nope.toml")));
        Ok(())
    });
}

#[test]
fn a_default_plan_that_is_not_configured_is_refused_with_a_fix() {
    figment::Jail::expect_with(|jail| {
        // The developer's or CI's own KEYWARD_* variables must not leak into these.
        jail.clear_env();
        jail.set_env("KEYWARD_DEFAULT_PLAN", "gold");
        let err = Config::load(None, &Overrides::default())
            .unwrap_err()
            .message;
        assert!(err.contains("[plans.gold]"), "{err}");
        Ok(())
    });
}

#[test]
fn invalid_values_name_the_flag_the_variable_or_the_file_they_came_from() {
    figment::Jail::expect_with(|jail| {
        // The developer's or CI's own KEYWARD_* variables must not leak into these.
        jail.clear_env();
        jail.create_file("keyward.toml", "max_keys_per_workspace = 0\n")?;
        jail.set_env("KEYWARD_LAST_USED_FLUSH_SECONDS", "0");
        let flags = Overrides {
            listen: Some("no-port".into()),
            ..Overrides::default()
        };
        let err = Config::load(None, &flags).unwrap_err().message;
        assert!(err.contains("--listen must be HOST:PORT"), "{err}");
        assert!(err.contains("KEYWARD_LAST_USED_FLUSH_SECONDS"), "{err}");
        assert!(
            err.contains("`max_keys_per_workspace` in") && err.contains("keyward.toml"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn unknown_nested_keys_are_reported_with_the_plan_they_are_in() {
    figment::Jail::expect_with(|jail| {
        // The developer's or CI's own KEYWARD_* variables must not leak into these.
        jail.clear_env();
        jail.create_file(
            "keyward.toml",
            "[plans.free]\nmax_active_key = 3\n[plans.team]\nmax_active_keys = 9\n",
        )?;
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("`plans.free.max_active_key`"));
        assert_eq!(loaded.config.plans["team"].max_active_keys, Some(9));
        Ok(())
    });
}

#[test]
fn a_secret_value_of_the_wrong_type_is_never_quoted() {
    figment::Jail::expect_with(|jail| {
        // The developer's or CI's own KEYWARD_* variables must not leak into these.
        jail.clear_env();
        jail.create_file("keyward.toml", "database_url = 123456789\n")?;
        let err = Config::load(None, &Overrides::default())
            .unwrap_err()
            .message;
        assert!(
            err.contains("database_url") && !err.contains("123456789"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn database_url_debug_hides_the_password() {
    let url = DatabaseUrl("postgres://kw:hunter2@db:5432/kw".into());
    let printed = format!("{url:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("db:5432"), "{printed}");
}

#[test]
fn smtp_url_debug_and_config_debug_hide_the_smtp_password() {
    let url = SmtpUrl("smtps://mailer:s3cr%40t@smtp.example.com:465".into());
    let printed = format!("{url:?}");
    assert!(!printed.contains("s3cr"), "{printed}");
    assert!(printed.contains("mailer") && printed.contains("smtp.example.com:465"));
    let config = Config {
        smtp_url: Some(url),
        ..Config::default()
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains("s3cr"), "{printed}");
    assert!(printed.contains("smtp.example.com"), "{printed}");
}

#[test]
fn mail_from_defaults_to_keyward_at_localhost_and_takes_a_mailbox() {
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(loaded.config.mail_from, "keyward <keyward@localhost>");
        assert_eq!(loaded.config.smtp_url, None);

        jail.set_env("KEYWARD_MAIL_FROM", "Acme Keys <keys@acme.example>");
        jail.set_env(
            "KEYWARD_SMTP_URL",
            "smtp://mailer:pw@127.0.0.1:2525?tls=required",
        );
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(loaded.config.mail_from, "Acme Keys <keys@acme.example>");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        jail.set_env("KEYWARD_MAIL_FROM", "not a mailbox");
        let err = Config::load(None, &Overrides::default())
            .unwrap_err()
            .message;
        assert!(
            err.contains("KEYWARD_MAIL_FROM must be one mailbox"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn a_bad_smtp_url_is_named_and_never_quoted() {
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "keyward.toml",
            "smtp_url = \"smtp://mailer:hunter2@relay.example?ssl=true\"\n",
        )?;
        let err = Config::load(None, &Overrides::default())
            .unwrap_err()
            .message;
        assert!(
            err.contains("`smtp_url` in") && err.contains("query parameter"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        Ok(())
    });
}

#[test]
fn githubs_secret_scanning_keys_come_as_toml_tables_or_as_githubs_own_json() {
    use crate::http::github_signature::tests::{GITHUB_ID, GITHUB_KEY};
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "keyward.toml",
            &format!(
                "[[secret_scanning_public_keys]]\nkey_identifier = \"{GITHUB_ID}\"\n\
                 key = \"\"\"\n{GITHUB_KEY}\"\"\"\n"
            ),
        )?;
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        let keys = &loaded.config.secret_scanning_public_keys;
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key_identifier, GITHUB_ID);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        // What `curl https://api.github.com/meta/public_keys/secret_scanning` prints.
        let served = serde_json::json!({"public_keys": [
            {"key_identifier": GITHUB_ID, "key": GITHUB_KEY, "is_current": true},
            {"key_identifier": "second", "key": GITHUB_KEY, "is_current": false},
        ]});
        jail.set_env("KEYWARD_SECRET_SCANNING_PUBLIC_KEYS", served.to_string());
        let loaded = Config::load(None, &Overrides::default()).unwrap();
        let ids: Vec<&str> = loaded
            .config
            .secret_scanning_public_keys
            .iter()
            .map(|k| k.key_identifier.as_str())
            .collect();
        assert_eq!(ids, [GITHUB_ID, "second"], "the environment beats the file");

        let broken = serde_json::json!([{"key_identifier": "k1", "key": "not a key"}]);
        jail.set_env("KEYWARD_SECRET_SCANNING_PUBLIC_KEYS", broken.to_string());
        let err = Config::load(None, &Overrides::default())
            .unwrap_err()
            .message;
        assert!(
            err.contains("KEYWARD_SECRET_SCANNING_PUBLIC_KEYS entry 1 (\"k1\")"),
            "{err}"
        );
        Ok(())
    });
}
