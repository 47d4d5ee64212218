//! The verification cache (issue: verification at the speed of the wire): a key verified
//! once is answered from memory, and every write that changes what a key may do is honoured
//! by the very next verification on this server (PRODUCT.md §6), whatever kind of write it
//! is; writes by another process (the admin CLI) within 1 s. Each test first proves the key
//! was served from the cache, so that a passing check cannot come from a database read.

use std::time::{Duration, Instant};

use keyward_core::model::Role;
use keyward_core::secret::SecretString;
use keyward_core::service::ImportRow;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::binary;
use crate::support::{key_path, member_path, Owner, TestApp};

async fn metrics_text(app: &TestApp) -> String {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    r.text().await.unwrap()
}

/// The cache's hit and miss counts, read from `/metrics` as an operator would.
async fn hits_and_misses(app: &TestApp) -> (u64, u64) {
    let text = metrics_text(app).await;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    (
        value("keyward_cache_hits_total"),
        value("keyward_cache_misses_total"),
    )
}

/// Verifies `key` until an answer comes from the cache, and asserts that one did.
///
/// The second verification is normally that hit. The server's poll of the key-change log
/// also reads this server's own earlier writes, up to 250 ms later, and a policy change
/// there flushes the whole cache; should that land between the two verifications, the pair
/// is tried again.
async fn warm(app: &TestApp, token: &str, key: &str, scopes: Option<&[&str]>, code: &str) {
    let mut seen = Vec::new();
    for _ in 0..3 {
        assert_eq!(app.verify_code(token, key, scopes).await, code);
        let (hits, misses) = hits_and_misses(app).await;
        assert_eq!(app.verify_code(token, key, scopes).await, code);
        let after = hits_and_misses(app).await;
        if after == (hits + 1, misses) {
            return;
        }
        seen.push(((hits, misses), after));
    }
    panic!("no second verification was a cache hit: (hits, misses) before and after: {seen:?}");
}

async fn made(app: &TestApp, owner: &Owner, body: serde_json::Value) -> (String, String) {
    let r = app.create_key(owner, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["key"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_to_a_cached_key_is_honoured_by_the_next_verification() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;

    // Revoke.
    let (id, key) = made(&app, &owner, json!({"name": "revoked"})).await;
    warm(&app, &token, &key, None, "VALID").await;
    app.post(
        &format!("{}/revoke", key_path(owner.workspace_id, &id)),
        &owner.key,
        json!({}),
    )
    .await;
    assert_eq!(app.verify_code(&token, &key, None).await, "REVOKED");

    // Delete.
    let (id, key) = made(&app, &owner, json!({"name": "deleted"})).await;
    warm(&app, &token, &key, None, "VALID").await;
    app.delete(&key_path(owner.workspace_id, &id), &owner.key)
        .await;
    assert_eq!(app.verify_code(&token, &key, None).await, "NOT_FOUND");

    // An edit that narrows the scopes.
    let (id, key) = made(&app, &owner, json!({"name": "narrowed"})).await;
    warm(&app, &token, &key, Some(&["apps:deploy"]), "VALID").await;
    let r = app
        .patch(
            &key_path(owner.workspace_id, &id),
            &owner.key,
            json!({"scopes": ["apps:read"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.verify_code(&token, &key, Some(&["apps:deploy"])).await,
        "INSUFFICIENT_SCOPE"
    );

    // A rotation without grace retires the old key at once; the new one verifies.
    let (id, key) = made(&app, &owner, json!({"name": "rotated"})).await;
    warm(&app, &token, &key, None, "VALID").await;
    let r = app
        .post(
            &format!("{}/rotate", key_path(owner.workspace_id, &id)),
            &owner.key,
            json!({}),
        )
        .await;
    assert_eq!(app.verify_code(&token, &key, None).await, "REVOKED");
    let successor = r.body["key"].as_str().unwrap();
    assert_eq!(app.verify_code(&token, successor, None).await, "VALID");

    // The key that authenticates management calls is cached too: revoked, it gets 401 next.
    let (id, key) = made(&app, &owner, json!({"name": "bearer"})).await;
    for _ in 0..2 {
        assert_eq!(
            app.get("/api/v1/users/current", &key).await.status,
            StatusCode::OK
        );
    }
    app.post(
        &format!("{}/revoke", key_path(owner.workspace_id, &id)),
        &owner.key,
        json!({}),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/users/current", &key).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_member_and_turning_the_policy_off_reach_cached_keys_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    app.set_members_can_create_keys(&owner, true).await;
    let (member, member_key) = app.member(owner.workspace_id, Role::Member, true).await;
    let (_, other_key) = app.member(owner.workspace_id, Role::Member, true).await;

    // The policy: a member key's api_keys:write lapses the moment the setting goes off.
    warm(&app, &token, &other_key, Some(&["api_keys:write"]), "VALID").await;
    app.set_members_can_create_keys(&owner, false).await;
    assert_eq!(
        app.verify_code(&token, &other_key, Some(&["api_keys:write"]))
            .await,
        "INSUFFICIENT_SCOPE"
    );

    // Removal revokes the member's keys in the same transaction.
    warm(&app, &token, &member_key, None, "VALID").await;
    let r = app
        .delete(&member_path(owner.workspace_id, member.id), &owner.key)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(app.verify_code(&token, &member_key, None).await, "REVOKED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_key_still_expires_on_time() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let soon = crate::support::soon();
    let (_, key) = made(&app, &owner, json!({"name": "brief", "expires_at": soon})).await;
    warm(&app, &token, &key, None, "VALID").await;
    crate::support::sleep_past(&json!(soon)).await;
    assert_eq!(app.verify_code(&token, &key, None).await, "EXPIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_retried_costs_one_lookup_and_an_import_of_it_is_seen_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;

    // A well-formed key nobody issued: the retry is answered from the negative cache.
    let stranger = keyward_core::key_format::generate(
        &keyward_core::key_format::KeyPrefix::parse("kw_").unwrap(),
        keyward_core::key_format::KeyFormat::Base62,
    );
    warm(
        &app,
        &token,
        stranger.secret.expose_secret(),
        None,
        "NOT_FOUND",
    )
    .await;

    // An old system's key, tried before it is imported, then imported: the negative entry
    // must not hide it. (One import first, so that such strings are looked up at all.)
    let import = |secret: &str, line: u64| ImportRow {
        line,
        workspace: Some(owner.workspace_id.to_string()),
        name: Some("legacy".into()),
        key: Some(SecretString::new(secret.to_owned())),
        sha256: None,
        key_prefix: None,
        scopes: None,
        expires_at: None,
        created_by: None,
        created_at: None,
    };
    let mut importer = app.service.importer().await.unwrap();
    importer
        .import_batch(vec![import("legacy_first_0123456789abcdef", 1)])
        .await
        .unwrap();
    app.service.verifier().refresh_imports().await.unwrap();
    let later = "legacy_later_0123456789abcdef";
    warm(&app, &token, later, None, "MALFORMED").await;
    importer.import_batch(vec![import(later, 2)]).await.unwrap();
    assert_eq!(app.verify_code(&token, later, None).await, "VALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_by_the_admin_cli_reaches_the_servers_cache_within_a_second() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let (id, key) = made(&app, &owner, json!({"name": "from afar"})).await;
    warm(&app, &token, &key, None, "VALID").await;

    let (code, _, err) = binary::admin(app.dir.path(), &["admin", "apikey", "revoke", &id], None);
    assert_eq!(code, 0, "{err}");
    let started = Instant::now();
    while app.verify_code(&token, &key, None).await != "REVOKED" {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the CLI's revocation was not honoured within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_cache_hits_misses_evictions_and_entries() {
    let app = TestApp::spawn_with(|c| c.cache_max_entries = 2).await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    for n in 0..5 {
        let (_, key) = made(&app, &owner, json!({ "name": format!("k{n}") })).await;
        assert_eq!(app.verify_code(&token, &key, None).await, "VALID");
    }
    let text = metrics_text(&app).await;
    for series in [
        "keyward_cache_hits_total",
        "keyward_cache_misses_total",
        "keyward_cache_evictions_total",
        "keyward_cache_entries",
    ] {
        assert!(text.contains(series), "{series} in {text}");
    }
    let entries: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("keyward_cache_entries ")?.parse().ok())
        .unwrap();
    assert!(
        entries <= 2,
        "the cache holds at most cache_max_entries: {entries}"
    );
}
