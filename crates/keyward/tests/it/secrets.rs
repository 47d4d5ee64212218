//! Secrets never reach the database, the logs or an audit event in plain text.

use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::binary::serve_logged;
use crate::support::{keys_path, TestApp};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_database_holds_only_the_peppered_hash_of_each_key_never_the_key() {
    let mut app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let mut secrets = vec![owner.key.clone(), token.clone()];
    for i in 0..5 {
        let r = app
            .create_key(&owner, json!({"name": format!("k{i}")}))
            .await;
        secrets.push(r.body["key"].as_str().unwrap().to_owned());
        let id = r.body["id"].as_str().unwrap();
        let rotated = app
            .post(
                &format!("{}/{id}/rotate", keys_path(owner.workspace_id)),
                &owner.key,
                json!({}),
            )
            .await;
        secrets.push(rotated.body["key"].as_str().unwrap().to_owned());
    }
    let (session, csrf) = app.session(&owner.user).await;
    secrets.extend([session, csrf]);
    app.stop().await;

    let files = app.stored().await;
    for secret in &secrets {
        let body = &secret[secret.len() - 38..secret.len() - 6];
        for (name, bytes) in &files {
            assert!(
                !contains(bytes, secret),
                "a secret is stored in plain text in {name}"
            );
            assert!(
                !contains(bytes, body),
                "a key body is stored in plain text in {name}"
            );
        }
    }
    // What is stored is HMAC-SHA256(pepper, secret): the lookup by that hash finds the key.
    let pepper = std::fs::read(app.dir.path().join("pepper")).unwrap();
    let hash = keyward_core::secret::Pepper::new(pepper).hash(&secrets[2]);
    let reopened = keyward::app::open_store(&app.config, keyward::app::OpenMode::ExistingOnly)
        .await
        .unwrap();
    let found = reopened.key_by_hash(&hash).await.unwrap();
    assert_eq!(found.map(|k| k.key.name), Some("k0".to_owned()));
}

#[test]
fn json_logs_at_debug_level_never_hold_a_secret() {
    let bin = env!("CARGO_BIN_EXE_keyward");
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin)
            .args(args)
            .arg("--data-dir")
            .arg(tmp.path())
            .env("KEYWARD_LOG_FORMAT", "json")
            .env("RUST_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(run(&["migrate"], "").status.success());
    let created = run(
        &[
            "admin",
            "user",
            "create",
            "--email",
            "log@example.com",
            "--password-stdin",
            "--verified",
            "--workspace",
            "L",
        ],
        "a very long password indeed\n",
    );
    assert!(created.status.success());
    let minted = run(
        &[
            "admin",
            "apikey",
            "create",
            "--name",
            "k",
            "--user-id",
            "log@example.com",
            "--json",
        ],
        "",
    );
    let minted: Value = serde_json::from_slice(&minted.stdout).unwrap();
    let key = minted["key"].as_str().unwrap().to_owned();
    let ws = minted["workspace_id"].as_str().unwrap().to_owned();
    let token =
        String::from_utf8(run(&["admin", "service-token", "create", "--name", "svc"], "").stdout)
            .unwrap();
    let token = token.trim().to_owned();

    let mut command = Command::new(bin);
    command
        .env("KEYWARD_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug");
    let server = serve_logged(command, tmp.path());
    let base = server.base.clone();
    let client = reqwest::blocking::Client::new();
    let mut secrets = vec![key.clone(), token.clone()];
    let made: Value = client
        .post(format!("{base}/api/v1/workspaces/{ws}/api-keys"))
        .bearer_auth(&key)
        .json(&json!({"name": "logged?"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    secrets.push(made["key"].as_str().unwrap().to_owned());
    for presented in [&secrets[2], &format!("{}x", secrets[2])] {
        client
            .post(format!("{base}/api/v1/keys/verify"))
            .bearer_auth(&token)
            .json(&json!({"key": presented}))
            .send()
            .unwrap();
        client
            .get(format!("{base}/api/v1/users/current"))
            .bearer_auth(presented)
            .send()
            .unwrap();
    }
    // A secret sent where a scope list belongs must not be echoed by the 400 either.
    let echoed = client
        .post(format!("{base}/api/v1/keys/verify"))
        .bearer_auth(&token)
        .json(&json!({"key": "x", "scopes": secrets[2]}))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!echoed.contains(&secrets[2]), "{echoed}");
    let logs = server.stop();
    assert!(
        logs.lines().count() >= 3,
        "expected debug logs, got: {logs}"
    );
    for line in logs.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret reached the log: {line}"
            );
        }
    }
}
