//! The error contract of PRODUCT.md §7 over HTTP: one envelope, a request id on every
//! response, and each status with its code.

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{key_path, keys_path, reply, Owner, Reply, TestApp};

mod validation;

/// The body with its `request_id` removed, for comparing replies that must be identical.
fn without_request_id(r: &Reply) -> Value {
    let mut body = r.body.clone();
    body["error"].as_object_mut().unwrap().remove("request_id");
    body
}

fn header(r: &Reply, name: impl reqwest::header::AsHeaderName) -> &str {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// Posts `body` as-is with `content_type` to the owner's key collection.
async fn post_raw(app: &TestApp, owner: &Owner, content_type: &str, body: Vec<u8>) -> Reply {
    let resp = app
        .client
        .post(app.url(&keys_path(owner.workspace_id)))
        .bearer_auth(&owner.key)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    reply(resp).await
}

async fn assert_bad_request(app: &TestApp, owner: &Owner, body: &str) {
    let r = post_raw(app, owner, "application/json", body.as_bytes().to_vec()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "{body} -> {}",
        r.text
    );
    assert!(r.body["error"].get("details").is_none(), "{}", r.text);
}

#[tokio::test]
async fn every_response_success_or_error_carries_an_x_request_id_equal_to_the_bodys() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ok = app.get("/api/v1/users/current", &owner.key).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(!header(&ok, "x-request-id").is_empty());
    let health = reply(app.client.get(app.url("/healthz")).send().await.unwrap()).await;
    assert!(!header(&health, "x-request-id").is_empty());

    let missing = app.get("/api/v1/no-such-route", &owner.key).await;
    let unauth = app
        .call(Method::GET, "/api/v1/users/current", None, None)
        .await;
    let invalid = app.create_key(&owner, json!({"name": ""})).await;
    for r in [&missing, &unauth, &invalid] {
        let id = header(r, "x-request-id");
        assert!(!id.is_empty(), "{}", r.text);
        assert_eq!(r.body["error"]["request_id"], json!(id));
    }
    assert_ne!(
        header(&missing, "x-request-id"),
        header(&unauth, "x-request-id")
    );
}

#[tokio::test]
async fn an_error_is_one_envelope_with_details_only_for_validation_errors() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let missing = app
        .get(&key_path(owner.workspace_id, "nope"), &owner.key)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let error = missing.body["error"].as_object().unwrap();
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "message", "request_id"]);
    assert_eq!(missing.body.as_object().unwrap().len(), 1, "only `error`");
    assert!(header(&missing, CONTENT_TYPE).starts_with("application/json"));

    let invalid = app.create_key(&owner, json!({"name": ""})).await;
    let error = invalid.body["error"].as_object().unwrap();
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "details", "message", "request_id"]);
}

#[tokio::test]
async fn malformed_json_is_400_bad_request() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    assert_bad_request(&app, &owner, "{\"name\": ").await;
    assert_bad_request(&app, &owner, "not json").await;
}

#[tokio::test]
async fn a_wrong_type_is_400_bad_request() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    assert_bad_request(&app, &owner, r#"{"name": 123}"#).await;
    assert_bad_request(&app, &owner, r#"{"name": "x", "scopes": "apps:read"}"#).await;
    assert_bad_request(&app, &owner, "[]").await;
}

#[tokio::test]
async fn an_unknown_field_is_400_bad_request() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    assert_bad_request(&app, &owner, r#"{"name": "x", "colour": "red"}"#).await;
}

#[tokio::test]
async fn unknown_query_values_are_400_bad_request() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let base = keys_path(owner.workspace_id);
    for query in [
        "status=bogus",
        "limit=0",
        "limit=201",
        "limit=ten",
        "cursor=not-a-cursor",
        "colour=red",
    ] {
        let r = app.get(&format!("{base}?{query}"), &owner.key).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "?{query} -> {}",
            r.text
        );
    }
    let edge = app.get(&format!("{base}?limit=200"), &owner.key).await;
    assert_eq!(edge.status, StatusCode::OK, "200 is the largest page");
}

#[tokio::test]
async fn no_credential_is_401_with_a_bare_bearer_challenge() {
    let app = TestApp::spawn().await;
    let r = app
        .call(Method::GET, "/api/v1/users/current", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(header(&r, WWW_AUTHENTICATE), "Bearer");
}

#[tokio::test]
async fn unknown_revoked_expired_and_malformed_keys_get_one_identical_401_with_invalid_token() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let soon = crate::support::soon();
    let expiring = app
        .create_key(&owner, json!({"name": "soon", "expires_at": soon}))
        .await;
    let revoked = app.create_key(&owner, json!({"name": "gone"})).await;
    let revoke = format!(
        "{}/revoke",
        key_path(owner.workspace_id, revoked.body["id"].as_str().unwrap())
    );
    app.post(&revoke, &owner.key, json!({})).await;
    // An unknown key that looks like a real one: same prefix, another body.
    let unknown = format!("kw_{}", "A".repeat(38));
    crate::support::sleep_past(&serde_json::Value::String(soon.clone())).await;

    let mut replies = Vec::new();
    for token in [
        unknown.as_str(),
        revoked.body["key"].as_str().unwrap(),
        expiring.body["key"].as_str().unwrap(),
        "not-a-key",
    ] {
        replies.push(app.get("/api/v1/users/current", token).await);
    }
    let basic = app
        .client
        .get(app.url("/api/v1/users/current"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    replies.push(reply(basic).await);

    let first = without_request_id(&replies[0]);
    for r in &replies {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert_eq!(r.code(), "unauthorized");
        assert_eq!(
            header(r, WWW_AUTHENTICATE),
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(without_request_id(r), first, "the body never says which");
        assert_eq!(header(r, CONTENT_TYPE), header(&replies[0], CONTENT_TYPE));
    }
}

#[tokio::test]
async fn a_key_without_api_keys_write_cannot_create_keys() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let narrow = app
        .key_for(&owner.user, owner.workspace_id, Some(&["apps:read"]))
        .await;
    let r = app
        .post(
            &keys_path(owner.workspace_id),
            &narrow,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn an_unverified_owner_cannot_create_keys() {
    let app = TestApp::spawn().await;
    let owner = app.owner_with(false).await;
    let r = app.create_key(&owner, json!({"name": "x"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "email_unverified"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn the_free_plan_refuses_a_second_active_key() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.service
        .set_plan(owner.workspace_id, "free")
        .await
        .unwrap();
    let r = app.create_key(&owner, json!({"name": "second"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "plan_limit_reached"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_session_write_without_the_csrf_token_is_403_csrf_failed() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (cookie, csrf) = app.session(&owner.user).await;
    let send = |token: Option<&str>| {
        let mut req = app
            .client
            .post(app.url(&keys_path(owner.workspace_id)))
            .header("cookie", format!("keyward_session={cookie}"))
            .json(&json!({"name": "from the console"}));
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    let without = reply(send(None).await.unwrap()).await;
    assert_eq!(
        (without.status, without.code()),
        (StatusCode::FORBIDDEN, "csrf_failed"),
        "{}",
        without.text
    );
    let wrong = reply(send(Some("wrong")).await.unwrap()).await;
    assert_eq!(wrong.code(), "csrf_failed");
    let with = reply(send(Some(&csrf)).await.unwrap()).await;
    assert_eq!(with.status, StatusCode::CREATED, "{}", with.text);
}

#[tokio::test]
async fn missing_malformed_deleted_and_foreign_ids_get_byte_identical_404s() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let other = app.owner().await;
    let mine = app.create_key(&owner, json!({"name": "doomed"})).await;
    let deleted_id = mine.body["id"].as_str().unwrap();
    app.delete(&key_path(owner.workspace_id, deleted_id), &owner.key)
        .await;
    let theirs = app.create_key(&other, json!({"name": "theirs"})).await;
    let ws = owner.workspace_id;
    let paths = [
        key_path(ws, &uuid::Uuid::now_v7().to_string()),
        key_path(ws, "not-a-uuid"),
        key_path(ws, deleted_id),
        key_path(ws, theirs.body["id"].as_str().unwrap()),
        keys_path(other.workspace_id),
        format!("/api/v1/workspaces/{}", other.workspace_id),
    ];
    let mut replies = Vec::new();
    for path in &paths {
        replies.push(app.get(path, &owner.key).await);
    }
    let first = without_request_id(&replies[0]);
    for (path, r) in paths.iter().zip(&replies) {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert_eq!(r.code(), "not_found");
        assert_eq!(without_request_id(r), first, "{path}");
        assert_eq!(header(r, CONTENT_TYPE), header(&replies[0], CONTENT_TYPE));
        let id = r.body["error"]["request_id"].as_str().unwrap();
        assert_eq!(
            r.text.replace(id, ""),
            replies[0]
                .text
                .replace(replies[0].body["error"]["request_id"].as_str().unwrap(), "",),
            "{path}: identical bytes except the request id"
        );
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_payload_too_large() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let pad = "x".repeat(64 * 1024);
    let body = format!(r#"{{"name": "big", "metadata": {{"pad": "{pad}"}}}}"#);
    let r = post_raw(&app, &owner, "application/json", body.into_bytes()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["error"]["request_id"],
        json!(header(&r, "x-request-id"))
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let r = post_raw(&app, &owner, "text/plain", br#"{"name": "x"}"#.to_vec()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["error"]["request_id"],
        json!(header(&r, "x-request-id"))
    );
}

#[tokio::test]
async fn revoke_and_rotate_with_no_body_at_all_succeed() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let a = app.create_key(&owner, json!({"name": "a"})).await;
    let b = app.create_key(&owner, json!({"name": "b"})).await;
    let path = |r: &Reply, action: &str| {
        format!(
            "{}/{action}",
            key_path(owner.workspace_id, r.body["id"].as_str().unwrap())
        )
    };
    let revoked = app
        .call(Method::POST, &path(&a, "revoke"), Some(&owner.key), None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let rotated = app
        .call(Method::POST, &path(&b, "rotate"), Some(&owner.key), None)
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
}

#[tokio::test]
async fn too_many_failed_authentications_from_one_ip_get_429_even_with_a_valid_key() {
    let app = TestApp::spawn_with(|c| c.auth_failures_per_minute = 5).await;
    let owner = app.owner().await;
    for i in 0..5 {
        let r = app
            .get("/api/v1/users/current", &format!("kw_bad{i:0>35}"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let r = app.get("/api/v1/users/current", &owner.key).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["error"]["request_id"],
        json!(header(&r, "x-request-id"))
    );
    let wait: u64 = header(&r, RETRY_AFTER)
        .parse()
        .expect("Retry-After seconds");
    assert!((1..=60).contains(&wait), "{wait}");
}
