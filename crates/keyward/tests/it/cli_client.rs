//! The client commands of the real `keyward` binary against a real server: contexts,
//! `whoami`, `apikey`, `member`, `audit` and `verify`, their tables and `--json`, the
//! secret printed once, and the exit codes (0 ok, 1 API error, 2 usage, 3 unreachable).

use serde_json::Value;

use crate::support::cli::Cli;
use crate::support::{key_path, Owner, TestApp};

/// An owner with a stored, current context named `main` for `app`.
async fn user_with_context(app: &TestApp) -> (Cli, Owner) {
    let owner = app.owner().await;
    let cli = Cli::new();
    cli.run(&[
        "context",
        "add",
        "main",
        "--url",
        &app.base,
        "--api-key",
        &owner.key,
    ])
    .await
    .ok();
    (cli, owner)
}

fn prefix_of(secret: &str) -> &str {
    // keyward's display form: `kw_` and the first 8 characters of the body.
    &secret[..11]
}

#[tokio::test]
async fn a_context_stores_the_key_in_a_0600_file_and_shows_only_its_prefix() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let cli = Cli::new();

    let added = cli
        .run_stdin(
            &[
                "context",
                "add",
                "prod",
                "--url",
                &app.base,
                "--api-key-stdin",
            ],
            &format!("{}\n", owner.key),
        )
        .await;
    assert!(
        added.ok().contains("now the current one"),
        "{}",
        added.stdout
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.contexts_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Written through a temporary file renamed into place: nothing else is left behind.
        let dir = cli.contexts_file().parent().unwrap().to_path_buf();
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["contexts.toml"]);
    }

    for args in [
        &["context", "list"][..],
        &["context", "show"],
        &["context", "show", "prod", "--json"],
        &["context", "list", "--json"],
    ] {
        let out = cli.run(args).await;
        assert!(
            out.ok().contains(prefix_of(&owner.key)),
            "{args:?}: {}",
            out.stdout
        );
        assert!(!out.stdout.contains(&owner.key), "{args:?} printed the key");
        assert!(!out.stderr.contains(&owner.key), "{args:?} printed the key");
    }
    let listed = cli.run(&["context", "list", "--json"]).await.json();
    assert_eq!(listed[0]["name"], "prod");
    assert_eq!(listed[0]["current"], true);

    // And the stored context works.
    let me = cli.run(&["whoami", "--json"]).await.json();
    assert_eq!(me["user"]["email"], owner.user.email.as_str());
}

#[tokio::test]
async fn use_switches_contexts_and_remove_forgets_one() {
    let app = TestApp::spawn().await;
    let (cli, first) = user_with_context(&app).await;
    let second = app.owner().await;
    cli.run(&[
        "context",
        "add",
        "other",
        "--url",
        &app.base,
        "--api-key",
        &second.key,
    ])
    .await
    .ok();

    // Adding a second context does not switch to it.
    let me = cli.run(&["whoami", "--json"]).await.json();
    assert_eq!(me["user"]["email"], first.user.email.as_str());

    cli.run(&["context", "use", "other"]).await.ok();
    let me = cli.run(&["whoami", "--json"]).await.json();
    assert_eq!(me["user"]["email"], second.user.email.as_str());

    cli.run(&["context", "remove", "other"]).await.ok();
    let gone = cli.run(&["context", "use", "other"]).await;
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(
        gone.stderr.contains("no context named \"other\""),
        "{}",
        gone.stderr
    );
    // With the current context removed there is none, and commands say how to add one.
    let none = cli.run(&["apikey", "list"]).await;
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("keyward context add"),
        "{}",
        none.stderr
    );
}

#[tokio::test]
async fn the_environment_overrides_the_current_context_and_the_flag_overrides_both() {
    let app = TestApp::spawn().await;
    let (mut cli, first) = user_with_context(&app).await;
    let second = app.owner().await;
    let third = app.owner().await;
    cli.run(&[
        "context",
        "add",
        "third",
        "--url",
        &app.base,
        "--api-key",
        &third.key,
    ])
    .await
    .ok();

    cli.set_env("KEYWARD_API_KEY", &second.key);
    let me = cli.run(&["whoami", "--json"]).await.json();
    assert_eq!(
        me["user"]["email"],
        second.user.email.as_str(),
        "KEYWARD_API_KEY wins over the context"
    );

    let me = cli
        .run(&["whoami", "--context", "third", "--json"])
        .await
        .json();
    assert_eq!(
        me["user"]["email"],
        third.user.email.as_str(),
        "--context wins over the environment"
    );

    // KEYWARD_URL alone swaps the server and keeps the context's key.
    let mut elsewhere = Cli::new();
    elsewhere.set_env("KEYWARD_URL", &app.base);
    elsewhere.set_env("KEYWARD_API_KEY", &first.key);
    let me = elsewhere.run(&["whoami", "--json"]).await.json();
    assert_eq!(
        me["user"]["email"],
        first.user.email.as_str(),
        "no context at all, only the environment"
    );
}

#[tokio::test]
async fn whoami_json_is_the_apis_json() {
    let app = TestApp::spawn().await;
    let (cli, owner) = user_with_context(&app).await;
    let from_cli = cli.run(&["whoami", "--json"]).await.json();
    let from_api = app.get("/api/v1/users/current", &owner.key).await.body;
    assert_eq!(from_cli, from_api);

    let table = cli.run(&["whoami"]).await;
    let text = table.ok();
    assert!(text.contains(&owner.user.email), "{text}");
    assert!(text.contains("owner"), "{text}");
    assert!(!text.contains(&owner.key));
}

#[tokio::test]
async fn create_piped_prints_only_the_secret_which_then_works() {
    let app = TestApp::spawn().await;
    let (cli, owner) = user_with_context(&app).await;

    let out = cli
        .run(&[
            "apikey",
            "create",
            "--name",
            "ci",
            "--expires-in",
            "90d",
            "--scopes",
            "apps:read",
        ])
        .await;
    let secret = out.ok().trim_end_matches('\n');
    assert_eq!(
        out.stdout,
        format!("{secret}\n"),
        "nothing but the secret on stdout"
    );
    assert!(secret.starts_with("kw_"), "{secret}");
    assert_eq!(app.get("/api/v1/users/current", secret).await.status, 200);

    let key = app.get("/api/v1/api-keys", &owner.key).await.body[0].clone();
    assert_eq!(key["name"], "ci");
    assert_eq!(key["scopes"], serde_json::json!(["apps:read"]));
    let expires =
        chrono::DateTime::parse_from_rfc3339(key["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((89.9..=90.0).contains(&days), "expires in {days} days");

    // --json gives the API's object, secret included, once.
    let json = cli
        .run(&["apikey", "create", "--name", "ci-json", "--json"])
        .await
        .json();
    assert!(json["key"].as_str().unwrap().starts_with("kw_"));
    assert_eq!(json["name"], "ci-json");
}

#[tokio::test]
async fn create_on_a_terminal_shows_the_secret_with_a_warning_in_colour_unless_no_color() {
    let app = TestApp::spawn().await;
    let (cli, _owner) = user_with_context(&app).await;

    let shown = cli
        .run_on_terminal(&["apikey", "create", "--name", "laptop"], &[])
        .await;
    let screen = shown.ok();
    assert!(screen.contains("Created laptop"), "{screen}");
    assert!(screen.contains("will not be shown again"), "{screen}");
    assert!(
        screen.contains("\u{1b}["),
        "a terminal gets colour: {screen:?}"
    );

    let plain = cli
        .run_on_terminal(&["apikey", "list"], &[("NO_COLOR", "1")])
        .await;
    assert!(plain.ok().contains("laptop"), "{}", plain.stdout);
    assert!(
        !plain.stdout.contains("\u{1b}["),
        "NO_COLOR is honoured: {:?}",
        plain.stdout
    );

    let coloured = cli.run_on_terminal(&["apikey", "list"], &[]).await;
    assert!(coloured.ok().contains("\u{1b}["), "{:?}", coloured.stdout);
    // Piped output never has colour.
    assert!(!cli.run(&["apikey", "list"]).await.ok().contains('\u{1b}'));
}

#[tokio::test]
async fn list_is_a_table_in_80_columns_and_all_follows_the_pages() {
    let app = TestApp::spawn().await;
    let (cli, owner) = user_with_context(&app).await;
    for name in [
        "alpha-deploy",
        "beta-read-only-key-with-a-rather-long-name",
        "gamma",
    ] {
        cli.run(&[
            "apikey",
            "create",
            "--name",
            name,
            "--scopes",
            "apps:read,billing:read",
        ])
        .await
        .ok();
    }

    let table = cli.run(&["apikey", "list"]).await;
    let text = table.ok();
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    for word in [
        "NAME",
        "STATUS",
        "alpha-deploy",
        "gamma",
        "active",
        "full access",
        "apps:read",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    assert!(!text.contains(&owner.key));

    let first_page = cli.run(&["apikey", "list", "--limit", "2", "--json"]).await;
    assert_eq!(first_page.json().as_array().unwrap().len(), 2);
    let note = cli.run(&["apikey", "list", "--limit", "2"]).await;
    assert!(note.stderr.contains("--all"), "{}", note.stderr);

    let all = cli
        .run(&["apikey", "list", "--limit", "2", "--all", "--json"])
        .await
        .json();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let api: Vec<String> = app
        .get("/api/v1/api-keys", &owner.key)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, api, "same keys, same order as the API");

    let searched = cli
        .run(&["apikey", "list", "--search", "beta", "--json"])
        .await
        .json();
    assert_eq!(searched.as_array().unwrap().len(), 1);
    let revoked = cli
        .run(&["apikey", "list", "--status", "revoked", "--json"])
        .await
        .json();
    assert_eq!(revoked, Value::Array(vec![]));
    let none = cli.run(&["apikey", "list", "--status", "revoked"]).await;
    assert_eq!(
        none.ok().trim(),
        "No API keys match.",
        "a filter that matches nothing says so"
    );
}

#[tokio::test]
async fn a_key_goes_from_show_to_rename_update_rotate_revoke_and_delete() {
    let app = TestApp::spawn().await;
    let (cli, owner) = user_with_context(&app).await;
    let secret = cli
        .run(&["apikey", "create", "--name", "ci"])
        .await
        .ok()
        .trim()
        .to_owned();
    let id = app.key_id(&secret).await;

    // Named by id, by name and by key_prefix: the same key.
    for name in [id.as_str(), "ci", prefix_of(&secret)] {
        let shown = cli.run(&["apikey", "show", name, "--json"]).await.json();
        assert_eq!(shown["id"], id.as_str(), "{name}");
        assert!(shown.get("key").is_none(), "show never has the secret");
    }
    let shown = cli.run(&["apikey", "show", "ci"]).await;
    assert!(
        shown.ok().contains(&id) && !shown.stdout.contains(&secret),
        "{}",
        shown.stdout
    );

    let renamed = cli
        .run(&["apikey", "rename", "ci", "ci-2027", "--json"])
        .await
        .json();
    assert_eq!(renamed["name"], "ci-2027");

    let updated = cli
        .run(&[
            "apikey",
            "update",
            "ci-2027",
            "--scopes",
            "apps:read",
            "--json",
        ])
        .await
        .json();
    assert_eq!(updated["scopes"], serde_json::json!(["apps:read"]));
    let narrowed = app.get("/api/v1/api-keys", &secret).await;
    assert_eq!(
        narrowed.code(),
        "insufficient_scope",
        "the narrowed key lost api_keys:read"
    );
    let nothing = cli.run(&["apikey", "update", "ci-2027"]).await;
    assert_eq!(
        nothing.code, 2,
        "update with nothing to change is a usage error"
    );

    // Rotate with a grace period: a new secret, and the old one still works for now.
    let rotated = cli
        .run(&["apikey", "rotate", "ci-2027", "--grace", "1h"])
        .await;
    let new_secret = rotated.ok().trim().to_owned();
    assert!(new_secret.starts_with("kw_") && new_secret != secret);
    assert_eq!(
        app.get("/api/v1/users/current", &new_secret).await.status,
        200
    );
    assert_eq!(app.get("/api/v1/users/current", &secret).await.status, 200);
    let old = app
        .get(&key_path(owner.workspace_id, &id), &owner.key)
        .await
        .body;
    assert!(old["rotated_to"].is_string(), "{old}");
    let expires =
        chrono::DateTime::parse_from_rfc3339(old["expires_at"].as_str().unwrap()).unwrap();
    let left = expires.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        left.num_minutes() >= 58 && left.num_minutes() <= 60,
        "{left}"
    );

    // Two keys are now named ci-2027: a name is refused, the id is not.
    let ambiguous = cli.run(&["apikey", "revoke", "ci-2027"]).await;
    assert_eq!(ambiguous.code, 2);
    assert!(
        ambiguous.stderr.contains("2 keys are named"),
        "{}",
        ambiguous.stderr
    );
    let revoked = cli.run(&["apikey", "revoke", &id, "--json"]).await.json();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(app.get("/api/v1/users/current", &secret).await.status, 401);

    // Delete asks; with stdin not a terminal it refuses to, and deletes nothing.
    let refused = cli.run(&["apikey", "delete", &id]).await;
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        app.get(&key_path(owner.workspace_id, &id), &owner.key)
            .await
            .status,
        200
    );

    cli.run(&["apikey", "delete", &id, "--yes"]).await.ok();
    assert_eq!(
        app.get(&key_path(owner.workspace_id, &id), &owner.key)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn members_are_listed_added_invited_updated_and_removed() {
    let app = TestApp::spawn().await;
    let (cli, owner) = user_with_context(&app).await;
    let colleague = app.user("colleague@example.com", true).await;

    let added = cli.run(&["member", "add", "colleague@example.com"]).await;
    assert!(
        added.ok().contains("Added colleague@example.com as member"),
        "{}",
        added.stdout
    );
    let invited = cli
        .run(&[
            "member",
            "add",
            "newcomer@example.com",
            "--role",
            "admin",
            "--json",
        ])
        .await
        .json();
    assert_eq!(invited["email"], "newcomer@example.com");
    assert_eq!(invited["role"], "admin");
    assert!(
        invited["expires_at"].is_string(),
        "an invitation: {invited}"
    );

    let listed = cli.run(&["member", "list"]).await;
    assert!(
        listed.ok().contains("colleague@example.com"),
        "{}",
        listed.stdout
    );
    // (The owner's test address is 50 characters, which the 80-column table wraps.)
    let emails = cli.run(&["member", "list", "--json"]).await.json();
    assert!(emails
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["email"] == owner.user.email.as_str()));

    let updated = cli
        .run(&[
            "member",
            "update",
            "COLLEAGUE@example.com",
            "--role",
            "admin",
            "--json",
        ])
        .await
        .json();
    assert_eq!(updated["role"], "admin");
    assert_eq!(updated["user_id"], colleague.id.to_string());

    let refused = cli
        .run(&["member", "remove", "colleague@example.com"])
        .await;
    assert_eq!(refused.code, 2, "asks first, and stdin is no terminal");
    cli.run(&["member", "remove", &colleague.id.to_string(), "--yes"])
        .await
        .ok();
    let members = cli.run(&["member", "list", "--json"]).await.json();
    assert_eq!(members.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_audit_log_lists_what_happened_with_filters() {
    let app = TestApp::spawn().await;
    let (cli, _owner) = user_with_context(&app).await;
    let secret = cli
        .run(&["apikey", "create", "--name", "audited"])
        .await
        .ok()
        .trim()
        .to_owned();
    let id = app.key_id(&secret).await;
    cli.run(&["apikey", "revoke", &id]).await.ok();

    let table = cli.run(&["audit", "list"]).await;
    let text = table.ok();
    assert!(
        text.contains("api_key.revoked") && text.contains("audited ("),
        "{text}"
    );
    assert!(!text.contains(&secret));

    let revocations = cli
        .run(&["audit", "list", "--action", "api_key.revoked", "--json"])
        .await
        .json();
    let events = revocations.as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["target"]["id"], id.as_str());
    let about_key = cli
        .run(&["audit", "list", "--target", &id, "--all", "--json"])
        .await
        .json();
    assert_eq!(
        about_key.as_array().unwrap().len(),
        2,
        "created and revoked"
    );
}

#[tokio::test]
async fn verify_uses_a_service_token_and_exits_zero_only_when_valid() {
    let app = TestApp::spawn().await;
    let (mut cli, owner) = user_with_context(&app).await;
    let secret = cli
        .run(&["apikey", "create", "--name", "svc", "--scopes", "apps:read"])
        .await
        .ok()
        .trim()
        .to_owned();

    // A service token stored with a context serves `verify` too.
    let stored = Cli::new();
    let token = app.service_token().await;
    stored
        .run(&[
            "context",
            "add",
            "svc",
            "--url",
            &app.base,
            "--api-key",
            &owner.key,
            "--service-token",
            &token,
        ])
        .await
        .ok();
    assert!(stored
        .run(&["verify", &secret])
        .await
        .ok()
        .contains("VALID"));

    let without = cli.run(&["verify", &secret]).await;
    assert_eq!(without.code, 2, "{}", without.stderr);
    assert!(
        without.stderr.contains("KEYWARD_SERVICE_TOKEN"),
        "{}",
        without.stderr
    );

    cli.set_env("KEYWARD_SERVICE_TOKEN", &token);
    let valid = cli.run(&["verify", &secret, "--scope", "apps:read"]).await;
    assert!(valid.ok().contains("VALID"), "{}", valid.stdout);
    let json = cli.run(&["verify", &secret, "--json"]).await.json();
    assert_eq!(json["code"], "VALID");
    assert_eq!(json["key"]["name"], "svc");

    let missing = cli
        .run(&["verify", &secret, "--scope", "apps:deploy", "--json"])
        .await;
    assert_eq!(missing.code, 1);
    let answer: Value = serde_json::from_str(&missing.stdout).unwrap();
    assert_eq!(answer["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(answer["missing_scopes"], serde_json::json!(["apps:deploy"]));

    let from_stdin = cli
        .run_stdin(&["verify", "-"], &format!("{secret}\n"))
        .await;
    assert!(from_stdin.ok().contains("VALID"));
    let malformed = cli.run(&["verify", "kw_not-a-key"]).await;
    assert_eq!(malformed.code, 1);
    assert!(
        malformed.stdout.contains("MALFORMED"),
        "{}",
        malformed.stdout
    );
    // The owner's API key is not a service token.
    cli.set_env("KEYWARD_SERVICE_TOKEN", &owner.key);
    let wrong_kind = cli.run(&["verify", &secret]).await;
    assert_eq!(wrong_kind.code, 1);
    assert!(
        wrong_kind.stderr.contains("forbidden"),
        "{}",
        wrong_kind.stderr
    );
}

#[tokio::test]
async fn exit_codes_say_api_error_usage_or_unreachable() {
    let app = TestApp::spawn().await;
    let (mut cli, _owner) = user_with_context(&app).await;

    let refused = cli.run(&["apikey", "create", "--name", " "]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("validation_failed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("name:"),
        "the field is named: {}",
        refused.stderr
    );

    let usage = cli.run(&["apikey", "create"]).await;
    assert_eq!(usage.code, 2, "a missing --name: {}", usage.stderr);
    let bad_duration = cli
        .run(&["apikey", "create", "--name", "x", "--expires-in", "soon"])
        .await;
    assert_eq!(bad_duration.code, 2);
    assert!(
        bad_duration.stderr.contains("90d"),
        "{}",
        bad_duration.stderr
    );

    cli.set_env("KEYWARD_URL", "http://127.0.0.1:9");
    let unreachable = cli.run(&["apikey", "list"]).await;
    assert_eq!(unreachable.code, 3);
    assert!(
        unreachable
            .stderr
            .contains("http://127.0.0.1:9/api/v1/api-keys"),
        "{}",
        unreachable.stderr
    );

    let mut revoked = Cli::new();
    revoked.set_env("KEYWARD_URL", &app.base);
    revoked.set_env("KEYWARD_API_KEY", "kw_not-a-real-key");
    let unauthorized = revoked.run(&["whoami"]).await;
    assert_eq!(unauthorized.code, 1);
    assert!(
        unauthorized.stderr.contains("unauthorized"),
        "{}",
        unauthorized.stderr
    );
}

#[tokio::test]
async fn completions_man_pages_and_help_describe_every_command() {
    let cli = Cli::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = cli.run(&["completions", shell]).await;
        assert!(script.ok().contains("apikey"), "{shell}");
        assert!(script.stdout.contains("rotate"), "{shell}");
    }
    let page = cli.run(&["man"]).await;
    assert!(
        page.ok().contains(".TH keyward"),
        "{}",
        &page.stdout[..200.min(page.stdout.len())]
    );

    let dir = tempfile::tempdir().unwrap();
    cli.run(&["man", "--out-dir", dir.path().to_str().unwrap()])
        .await
        .ok();
    for page in [
        "keyward.1",
        "keyward-apikey.1",
        "keyward-apikey-rotate.1",
        "keyward-context-add.1",
        "keyward-admin-user-create.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }

    // Every command and subcommand shows an example in its --help.
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".1")
            .to_owned();
        let words: Vec<&str> = name.split('-').skip(1).collect();
        let words = rejoin(&words);
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        let help = cli.run(&args).await;
        if !help.ok().contains("Example") {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "no example in --help of: {missing:?}");
}

/// Man page names join words with `-`, as do some commands (`service-token`, `set-plan`,
/// `import-keys`): put those back together.
fn rejoin(words: &[&str]) -> Vec<String> {
    const JOINED: [&str; 3] = ["service-token", "set-plan", "import-keys"];
    let mut out: Vec<String> = Vec::new();
    for word in words {
        if let Some(last) = out.last_mut() {
            let candidate = format!("{last}-{word}");
            if JOINED.contains(&candidate.as_str()) {
                *last = candidate;
                continue;
            }
        }
        out.push((*word).to_owned());
    }
    out
}
