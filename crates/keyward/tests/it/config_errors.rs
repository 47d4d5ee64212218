//! Start-up configuration errors, through the real binary (PRODUCT.md §8): invalid values
//! stop it with exit code 2 and name the key as the user wrote it; unknown keys and unknown
//! `KEYWARD_*` variables are reported, and the client CLI's variables are left alone.

use std::path::Path;

use crate::support::binary::admin_env;

/// `keyward admin user list` with a config file holding `toml` and extra environment. The
/// data directory is empty, so a start-up that gets past the config exits 1 (no database).
fn start(dir: &Path, toml: &str, env: &[(&str, &str)]) -> (i32, String) {
    let config = dir.join("keyward.toml");
    std::fs::write(&config, toml).unwrap();
    let config = config.to_str().unwrap().to_owned();
    let (code, _, err) = admin_env(
        dir,
        &["admin", "user", "list", "--config", &config],
        None,
        env,
    );
    (code, err)
}

#[test]
fn invalid_values_stop_start_up_with_exit_2_naming_the_key_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 13] = [
        ("max_keys_per_workspace", "0", "MAX_KEYS_PER_WORKSPACE"),
        ("public_url", "\"ftp://keys.example.com\"", "PUBLIC_URL"),
        ("public_url", "\"keys.example.com\"", "PUBLIC_URL"),
        ("default_key_prefix", "\"Sk-Live\"", "DEFAULT_KEY_PREFIX"),
        ("default_plan", "\"gold\"", "DEFAULT_PLAN"),
        ("last_used_flush_seconds", "0", "LAST_USED_FLUSH_SECONDS"),
        ("auth_failures_per_minute", "0", "AUTH_FAILURES_PER_MINUTE"),
        ("listen", "\"no port\"", "LISTEN"),
        ("smtp_url", "\"ftp://relay.example.com\"", "SMTP_URL"),
        (
            "smtp_url",
            "\"smtp://relay.example.com?ssl=true\"",
            "SMTP_URL",
        ),
        ("mail_from", "\"keyward at localhost\"", "MAIL_FROM"),
        ("default_key_format", "\"hex\"", "DEFAULT_KEY_FORMAT"),
        (
            "max_keys_per_workspace",
            "\"many\"",
            "MAX_KEYS_PER_WORKSPACE",
        ),
    ];
    for (key, value, env) in cases {
        let (code, err) = start(tmp.path(), &format!("{key} = {value}\n"), &[]);
        assert_eq!(code, 2, "{key} = {value}: {err}");
        assert!(
            err.contains(key) && err.contains("keyward.toml"),
            "{key} = {value} must be named with its file: {err}"
        );
        // The same value from the environment is named as the variable.
        let raw = value.trim_matches('"');
        let var = format!("KEYWARD_{env}");
        let (code, err) = start(tmp.path(), "", &[(&var, raw)]);
        assert_eq!(code, 2, "{var}={raw}: {err}");
        assert!(err.contains(&var), "{var} must be named: {err}");
    }
    let (code, err) = start(tmp.path(), "scopes = [\"apps:read\", \"Bad Scope\"]\n", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scopes") && err.contains("Bad Scope"), "{err}");
    let (code, err) = start(tmp.path(), "", &[("KEYWARD_SCOPES", "apps:read,*")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KEYWARD_SCOPES"), "{err}");
    let (code, err) = start(
        tmp.path(),
        "trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n",
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("trusted_proxies") && err.contains("10.0.0.0/33"),
        "{err}"
    );
    let (code, err) = start(
        tmp.path(),
        "",
        &[("KEYWARD_TRUSTED_PROXIES", "10.0.0.0/8,lb")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("KEYWARD_TRUSTED_PROXIES") && err.contains("\"lb\""),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only keyward.toml"
    );
}

#[test]
fn a_valid_config_gets_past_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = "public_url = \"https://keys.example.com\"\nscopes = [\"apps:read\"]\n\
                default_plan = \"free\"\ndefault_key_prefix = \"sk_live_\"\n\
                smtp_url = \"smtps://mailer:pw@smtp.example.com\"\n\
                mail_from = \"Acme Keys <keys@acme.example>\"\n\
                [plans.free]\nmax_active_keys = 1\n";
    let (code, err) = start(tmp.path(), toml, &[("KEYWARD_LISTEN", "[::1]:8787")]);
    assert_eq!(code, 1, "only the missing database stops it: {err}");
    assert!(err.contains("no keyward database"), "{err}");
    assert!(!err.contains("WARN"), "nothing to warn about: {err}");
}

#[test]
fn a_bad_smtp_url_is_named_but_its_password_never_repeated() {
    let tmp = tempfile::tempdir().unwrap();
    for url in [
        "smtp://mailer:hunter2@relay.example.com?tls=yes",
        "smtps://mailer:hunter2@",
        "smtp://mailer:hunter2@relay example.com",
    ] {
        let (code, err) = start(tmp.path(), &format!("smtp_url = \"{url}\"\n"), &[]);
        assert_eq!(code, 2, "{url}: {err}");
        assert!(err.contains("`smtp_url` in"), "{url}: {err}");
        assert!(!err.contains("hunter2"), "{url}: {err}");
        let (code, err) = start(tmp.path(), "", &[("KEYWARD_SMTP_URL", url)]);
        assert_eq!(code, 2, "{url}: {err}");
        assert!(err.contains("KEYWARD_SMTP_URL"), "{url}: {err}");
        assert!(!err.contains("hunter2"), "{url}: {err}");
    }
}

#[test]
fn unknown_nested_keys_and_variables_are_reported_but_client_variables_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = "lisen = \"127.0.0.1:1\"\n[plans.free]\nmax_active_key = 3\n";
    let env = [
        ("KEYWARD_MAX_KEYS_PER_WORKSPAC", "5"),
        ("KEYWARD_URL", "https://keys.example.com"),
        ("KEYWARD_API_KEY", "kw_client_cli_key"),
        ("KEYWARD_SERVICE_TOKEN", "kwsvc_client_cli_token"),
        ("KEYWARD_CONTEXT", "prod"),
    ];
    let (code, err) = start(tmp.path(), toml, &env);
    assert_eq!(code, 1, "unknown keys are warnings, not errors: {err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
    let warned = |needle: &str| warnings.iter().any(|l| l.contains(needle));
    assert!(warned("plans.free.max_active_key"), "{err}");
    assert!(warned("max_active_keys"), "suggests the right key: {err}");
    assert!(warned("`lisen`") && warned("keyward.toml"), "{err}");
    assert!(warned("KEYWARD_MAX_KEYS_PER_WORKSPAC"), "{err}");
    for client in [
        "KEYWARD_URL",
        "KEYWARD_API_KEY",
        "KEYWARD_SERVICE_TOKEN",
        "KEYWARD_CONTEXT",
    ] {
        assert!(
            !err.contains(client),
            "{client} belongs to the client CLI: {err}"
        );
    }
    assert!(!err.contains("kw_client_cli_key") && !err.contains("kwsvc_client"));
}

#[test]
fn a_numeric_pepper_from_the_environment_is_text_and_never_echoed() {
    let tmp = tempfile::tempdir().unwrap();
    let pepper = "12345678901234567890";
    let env = [("KEYWARD_PEPPER", pepper)];
    let (code, _, err) = admin_env(tmp.path(), &["migrate"], None, &env);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = admin_env(tmp.path(), &["admin", "user", "list"], None, &env);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(pepper), "{err}");
    let (code, _, err) = admin_env(
        tmp.path(),
        &["admin", "user", "list"],
        None,
        &[("KEYWARD_PEPPER", "1234567890123456789")],
    );
    assert_eq!(code, 1, "a different pepper, read as text: {err}");
    assert!(err.contains("does not match"), "{err}");
}
