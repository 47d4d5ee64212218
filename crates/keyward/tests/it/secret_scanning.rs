//! Leaked keys reported by GitHub's secret scanning (`POST /api/v1/secret-scanning/github`):
//! a report signed by a configured key revokes every native and imported key it names, at
//! once, with the report's URL in the audit log; anything unsigned, or signed wrongly, is
//! 401 and revokes nothing; and a reported token is never logged or stored.

use std::time::Instant;

use keyward_core::key_format::{self, KeyFormat, KeyPrefix};
use keyward_core::secret::SecretString;
use keyward_core::service::{ImportRow, RowOutcome};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::binary::{bootstrap, on_data_dir, serve_logged};
use crate::support::github::{reported, GitHub, REPORT_PATH};
use crate::support::{Owner, TestApp};

async fn app_trusting(github: &GitHub) -> TestApp {
    let public_key = github.public_key();
    TestApp::spawn_with(|c| c.secret_scanning_public_keys = vec![public_key]).await
}

/// A secret another system issued: not shaped like a keyward key, so found by its SHA-256.
fn legacy_secret() -> String {
    format!("legacy_{}", Uuid::now_v7().simple())
}

/// A keyward-shaped key, checksum and all, that was never issued.
fn unissued_key() -> String {
    let prefix = KeyPrefix::parse("kw_").unwrap();
    let minted = key_format::generate(&prefix, KeyFormat::Base62);
    minted.secret.expose_secret().to_owned()
}

/// Imports `secrets` into the workspace as the admin CLI would, in one transaction.
async fn import(app: &TestApp, workspace_id: Uuid, secrets: &[String]) {
    let rows = secrets
        .iter()
        .enumerate()
        .map(|(n, secret)| ImportRow {
            line: n as u64 + 2,
            workspace: Some(workspace_id.to_string()),
            name: Some(format!("legacy {n}")),
            key: Some(SecretString::new(secret.clone())),
            ..ImportRow::default()
        })
        .collect();
    let mut importer = app.service.importer().await.unwrap();
    let results = importer.import_batch(rows).await.unwrap();
    assert!(results
        .iter()
        .all(|r| matches!(r.outcome, RowOutcome::Imported(_))));
    // The server checks for imports every 10 s; this one is its own, so tell it now.
    app.service.verifier().refresh_imports().await.unwrap();
}

/// Every audit event about `target_id`, newest first.
async fn events_about(app: &TestApp, owner: &Owner, target_id: &str) -> Vec<Value> {
    let path = format!(
        "/api/v1/workspaces/{}/audit-events?target_id={target_id}",
        owner.workspace_id
    );
    let r = app.get(&path, &owner.key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

fn labelled(token: &str, label: &str) -> Value {
    json!({"token_raw": token, "token_type": "keyward_api_key", "label": label})
}

#[tokio::test]
async fn a_signed_report_revokes_native_and_imported_keys_and_labels_every_token() {
    let github = GitHub::new("github-key-1");
    let mut app = app_trusting(&github).await;
    let owner = app.owner().await;
    let native = app.key_for(&owner.user, owner.workspace_id, None).await;
    let legacy = legacy_secret();
    import(&app, owner.workspace_id, std::slice::from_ref(&legacy)).await;
    let unknown = unissued_key();
    let token = app.service_token().await;
    let (native_id, legacy_id) = (app.key_id(&native).await, app.key_id(&legacy).await);

    let url = "https://github.com/octocat/hello/blob/4f2a/.env";
    let body = json!([
        reported(&native, url),
        reported(&legacy, "https://gist.github.com/octocat/1"),
        reported(&unknown, ""),
    ])
    .to_string();
    let r = app.report_leaks(&body, &github.headers(&body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!([
            labelled(&native, "true_positive"),
            labelled(&legacy, "true_positive"),
            labelled(&unknown, "false_positive"),
        ])
    );
    for secret in [&native, &legacy] {
        assert_eq!(app.verify_code(&token, secret, None).await, "REVOKED");
    }
    assert_eq!(
        app.verify_code(&token, &owner.key, None).await,
        "VALID",
        "a key nobody reported keeps working"
    );

    let events = events_about(&app, &owner, &native_id).await;
    let leaked = events
        .iter()
        .find(|e| e["action"] == "api_key.leaked")
        .unwrap_or_else(|| panic!("no api_key.leaked in {events:?}"));
    assert_eq!(
        leaked["details"]["report"],
        json!({"by": "github_secret_scanning", "url": url, "source": "commit", "type": "keyward_api_key"})
    );
    assert_eq!(leaked["details"]["source"], "native");
    assert_eq!(leaked["actor"]["type"], "system");
    assert_eq!(leaked["ip"], "127.0.0.1", "the reporter's address");
    let revoked = events.iter().find(|e| e["action"] == "api_key.revoked");
    assert_eq!(revoked.unwrap()["details"]["reason"], "leaked");
    let legacy_events = events_about(&app, &owner, &legacy_id).await;
    let actions: Vec<&str> = legacy_events
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"api_key.leaked") && actions.contains(&"api_key.revoked"));
    assert!(legacy_events
        .iter()
        .any(|e| e["details"]["source"] == "imported"
            && e["details"]["report"]["url"] == "https://gist.github.com/octocat/1"));

    // No audit event and no stored byte holds a reported token, the unknown one included.
    let all = app
        .get(
            &format!(
                "/api/v1/workspaces/{}/audit-events?limit=200",
                owner.workspace_id
            ),
            &owner.key,
        )
        .await;
    app.stop().await;
    let stored = app.stored().await;
    for secret in [&native, &legacy, &unknown] {
        assert!(
            !all.text.contains(secret.as_str()),
            "a token is in the audit log"
        );
        for (name, bytes) in &stored {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a reported token is stored in {name}");
        }
    }
}

#[tokio::test]
async fn an_unsigned_or_wrongly_signed_report_is_401_and_revokes_nothing() {
    let github = GitHub::new("github-key-1");
    let impostor = GitHub::new("github-key-1");
    let app = app_trusting(&github).await;
    let owner = app.owner().await;
    let native = app.key_for(&owner.user, owner.workspace_id, None).await;
    let token = app.service_token().await;
    let body = json!([reported(&native, "https://github.com/a/b")]).to_string();
    let signed = github.headers(&body);
    let (id, signature) = (signed[0].clone(), signed[1].clone());
    let cases = [
        ("no signature headers", body.clone(), vec![]),
        ("the identifier alone", body.clone(), vec![id.clone()]),
        ("the signature alone", body.clone(), vec![signature.clone()]),
        (
            "another key's signature",
            body.clone(),
            impostor.headers(&body),
        ),
        (
            "an unknown key identifier",
            body.clone(),
            vec![(id.0, "github-key-2".to_owned()), signature.clone()],
        ),
        (
            "the body altered after signing",
            body.replace("a/b", "a/c"),
            signed.clone(),
        ),
        (
            "a signature that is not DER",
            body.clone(),
            vec![id.clone(), (signature.0, "bm90IGEgc2lnbmF0dXJl".to_owned())],
        ),
    ];
    for (what, sent, headers) in &cases {
        let r = app.report_leaks(sent, headers).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{what}: {}",
            r.text
        );
        assert!(!r.text.contains(&native), "{what}: the token came back");
    }
    assert_eq!(app.verify_code(&token, &native, None).await, "VALID");
    let native_id = app.key_id(&native).await;
    assert!(app.audit_actions(&owner, &native_id).await == ["api_key.created"]);

    // The same report, signed as it was sent, does revoke: the refusals above were the
    // signature's doing.
    let r = app.report_leaks(&body, &signed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.verify_code(&token, &native, None).await, "REVOKED");
}

#[tokio::test]
async fn with_no_public_keys_configured_every_report_is_401() {
    let github = GitHub::new("github-key-1");
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let body = json!([reported(&owner.key, "")]).to_string();
    let r = app.report_leaks(&body, &github.headers(&body)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(app.verify_code(&token, &owner.key, None).await, "VALID");
}

#[tokio::test]
async fn a_signed_but_malformed_report_gets_the_usual_envelope_never_a_500() {
    let github = GitHub::new("github-key-1");
    let app = app_trusting(&github).await;
    let over_limit = format!("[{}]", " ".repeat(1024 * 1024));
    let cases = [
        ("", StatusCode::BAD_REQUEST, "bad_request"),
        ("not json", StatusCode::BAD_REQUEST, "bad_request"),
        (r#"{"token": "x"}"#, StatusCode::BAD_REQUEST, "bad_request"),
        (
            r#"[{"token": ["zqxmarker"]}]"#,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            r#"[{"type": "x"}]"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &over_limit,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let r = app.report_leaks(body, &github.headers(body)).await;
        let what = &body[..body.len().min(40)];
        assert_eq!((r.status, r.code()), (status, code), "{what}: {}", r.text);
        assert!(!r.text.contains("zqxmarker"), "{what}: echoed: {}", r.text);
    }
    let missing = app
        .report_leaks(r#"[{"type": "x"}]"#, &github.headers(r#"[{"type": "x"}]"#))
        .await;
    assert_eq!(missing.body["error"]["details"][0]["field"], "token");

    let mut plain = app
        .client
        .post(app.url(REPORT_PATH))
        .header("content-type", "text/plain")
        .body("[]");
    for (name, value) in github.headers("[]") {
        plain = plain.header(name, value);
    }
    let r = crate::support::reply(plain.send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);

    let empty = app.report_leaks("[]", &github.headers("[]")).await;
    assert_eq!(
        (empty.status, empty.body.clone()),
        (StatusCode::OK, json!([]))
    );
}

#[tokio::test]
async fn a_report_of_a_thousand_tokens_is_answered_in_order_within_githubs_timeout() {
    let github = GitHub::new("github-key-1");
    let public_key = github.public_key();
    let app = TestApp::spawn_with(|c| {
        c.secret_scanning_public_keys = vec![public_key];
        c.max_keys_per_workspace = 1_000;
    })
    .await;
    let owner = app.owner().await;
    let mut native = Vec::new();
    for _ in 0..100 {
        native.push(app.key_for(&owner.user, owner.workspace_id, None).await);
    }
    let legacy: Vec<String> = (0..400).map(|_| legacy_secret()).collect();
    import(&app, owner.workspace_id, &legacy).await;
    let mut tokens: Vec<(String, bool)> = Vec::new();
    tokens.extend(native.iter().chain(&legacy).map(|s| (s.clone(), true)));
    tokens.extend((0..250).map(|_| (unissued_key(), false)));
    tokens.extend((0..250).map(|n| (format!("not-a-key-{n}-{}", Uuid::now_v7()), false)));
    // Interleaved (7 and 1,000 share no factor), so real and unknown tokens alternate.
    let tokens: Vec<(String, bool)> = (0..1_000).map(|n| tokens[n * 7 % 1_000].clone()).collect();
    let matches: Vec<Value> = tokens
        .iter()
        .enumerate()
        .map(|(n, (t, _))| {
            reported(
                t,
                &format!("https://github.com/octocat/repo/blob/{n}/config.yml"),
            )
        })
        .collect();
    let body = Value::from(matches).to_string();

    let started = Instant::now();
    let r = app.report_leaks(&body, &github.headers(&body)).await;
    let took = started.elapsed();
    eprintln!("a report of 1,000 tokens (500 keys) took {took:?}");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // GitHub waits 30 s for partners that send feedback (about 5 s is usual here, in a debug
    // build; the bound leaves room for a loaded test machine).
    assert!(took.as_secs() < 30, "took {took:?}");
    let answered = r.body.as_array().unwrap();
    assert_eq!(answered.len(), 1_000);
    for ((sent, is_key), answer) in tokens.iter().zip(answered) {
        let label = if *is_key {
            "true_positive"
        } else {
            "false_positive"
        };
        assert_eq!(answer, &labelled(sent, label));
    }
    let token = app.service_token().await;
    for secret in native.iter().chain(&legacy) {
        assert_eq!(app.verify_code(&token, secret, None).await, "REVOKED");
    }
}

#[test]
fn reported_tokens_never_reach_the_logs_even_at_debug_level() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, key) = bootstrap(tmp.path());
    let github = GitHub::new("github-key-1");
    let trusted = serde_json::to_string(&[github.public_key()]).unwrap();
    let mut command = on_data_dir(tmp.path());
    command
        .env("KEYWARD_SECRET_SCANNING_PUBLIC_KEYS", trusted)
        .env("KEYWARD_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug");
    let server = serve_logged(command, tmp.path());
    let base = server.base.clone();
    let (unknown, unsigned) = (unissued_key(), unissued_key());
    let http = reqwest::blocking::Client::new();
    let send = |body: &str, headers: Vec<(&str, String)>| {
        let mut req = http
            .post(format!("{base}{REPORT_PATH}"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(name, value);
        }
        req.send().unwrap().status().as_u16()
    };
    let body = json!([
        reported(&key, "https://x.example/1"),
        reported(&unknown, "")
    ])
    .to_string();
    assert_eq!(send(&body, github.headers(&body)), 200);
    let forged = json!([reported(&unsigned, "")]).to_string();
    assert_eq!(send(&forged, github.headers("[]")), 401);
    let wrong_type = format!(r#"[{{"token": ["{unknown}"]}}]"#);
    assert_eq!(send(&wrong_type, github.headers(&wrong_type)), 400);
    let logs = server.stop();
    assert!(
        logs.matches("/api/v1/secret-scanning/github").count() >= 3,
        "the three requests were not logged:\n{logs}"
    );
    for secret in [&key, &unknown, &unsigned] {
        assert!(
            !logs.contains(secret.as_str()),
            "a reported token reached the log"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_report_and_its_answer() {
    let app = TestApp::spawn().await;
    let doc = app
        .call(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let op = &doc["paths"][REPORT_PATH]["post"];
    assert_eq!(op["security"], json!([{}]), "no keyward credential: {op}");
    let headers: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        headers,
        [
            "Github-Public-Key-Identifier",
            "Github-Public-Key-Signature"
        ]
    );
    let schemas = &doc["components"]["schemas"];
    let request = &op["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(request["type"], "array", "{request}");
    assert_eq!(schemas["ReportedToken"]["required"], json!(["token"]));
    let answer = &op["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        answer["items"]["$ref"],
        "#/components/schemas/TokenFeedback"
    );
    assert_eq!(
        schemas["Label"]["enum"],
        json!(["true_positive", "false_positive"])
    );
    for status in ["400", "401", "413", "415", "422", "429"] {
        assert!(
            op["responses"].get(status).is_some(),
            "{status} undocumented"
        );
    }
}
