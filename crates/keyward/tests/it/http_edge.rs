//! The HTTP edge of PRODUCT.md §7: who is counted as one client by the failure limit on a
//! dual-stack listener, wrong methods, credentials of the wrong kind, and missing fields.

use std::net::IpAddr;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{key_path, keys_path, reply, Reply, TestApp};

/// A server on `[::]:0` (IPv4 and IPv6 at once) with a failure limit of three a minute.
async fn dual_stack() -> TestApp {
    TestApp::spawn_with(|c| {
        c.listen = "[::]:0".into();
        c.auth_failures_per_minute = 3;
    })
    .await
}

fn port(app: &TestApp) -> &str {
    app.base.rsplit(':').next().unwrap()
}

/// `GET /users/current` sent from `local` to the server at `host` (`127.0.0.1` or `[::1]`).
async fn whoami_from(app: &TestApp, local: &str, host: &str, bearer: &str) -> Reply {
    let client = reqwest::Client::builder()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let url = format!("http://{host}:{}/api/v1/users/current", port(app));
    reply(client.get(url).bearer_auth(bearer).send().await.unwrap()).await
}

async fn fail_three_times(app: &TestApp, local: &str, host: &str) {
    for i in 0..3 {
        let r = whoami_from(app, local, host, &format!("kw_bad{i:0>35}")).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "failure {i}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn one_failing_ipv4_client_does_not_lock_out_other_ipv4_clients_on_a_dual_stack_listener() {
    let app = dual_stack().await;
    let owner = app.owner().await;
    fail_three_times(&app, "127.0.0.2", "127.0.0.1").await;
    let blocked = whoami_from(&app, "127.0.0.2", "127.0.0.1", &owner.key).await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the failing client itself is limited: {}",
        blocked.text
    );
    let other_v4 = whoami_from(&app, "127.0.0.1", "127.0.0.1", &owner.key).await;
    assert_eq!(other_v4.status, StatusCode::OK, "{}", other_v4.text);
    let v6 = whoami_from(&app, "::1", "[::1]", &owner.key).await;
    assert_eq!(v6.status, StatusCode::OK, "{}", v6.text);
}

#[tokio::test]
async fn a_failing_ipv6_loopback_client_does_not_lock_out_ipv4_clients() {
    let app = dual_stack().await;
    let owner = app.owner().await;
    fail_three_times(&app, "::1", "[::1]").await;
    let v6 = whoami_from(&app, "::1", "[::1]", &owner.key).await;
    assert_eq!(v6.status, StatusCode::TOO_MANY_REQUESTS, "{}", v6.text);
    let v4 = whoami_from(&app, "127.0.0.1", "127.0.0.1", &owner.key).await;
    assert_eq!(v4.status, StatusCode::OK, "{}", v4.text);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_an_allow_header() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let odd = Method::from_bytes(b"ZQXMETHOD").unwrap();
    let one_key = key_path(owner.workspace_id, &uuid::Uuid::now_v7().to_string());
    for (method, path, allowed) in [
        (Method::POST, "/api/v1/scopes".to_owned(), &["GET"][..]),
        (
            Method::DELETE,
            "/api/v1/workspaces".to_owned(),
            &["GET", "POST"],
        ),
        (Method::POST, one_key, &["GET", "PATCH", "PUT", "DELETE"]),
        (Method::GET, "/api/v1/keys/verify".to_owned(), &["POST"]),
        (odd, "/api/v1/users/current".to_owned(), &["GET"]),
    ] {
        let r = app
            .call(method.clone(), &path, Some(&owner.key), None)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            "{method} {path}: {}",
            r.text
        );
        let allow = r.headers["allow"].to_str().unwrap();
        for m in allowed {
            assert!(allow.split(',').any(|a| a.trim() == *m), "{path}: {allow}");
        }
        assert_eq!(
            r.body["error"]["request_id"].as_str(),
            r.headers["x-request-id"].to_str().ok(),
            "one envelope"
        );
    }
}

#[tokio::test]
async fn an_unknown_path_is_404_whatever_the_method() {
    let app = TestApp::spawn().await;
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let r = app.call(method, "/api/v1/no-such-thing", None, None).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }
}

#[tokio::test]
async fn an_api_key_on_the_verify_api_is_403_forbidden_naming_service_tokens() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let r = app.verify(&owner.key, &owner.key, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        r.text
    );
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("service token") && message.contains("kwsvc_"),
        "{message}"
    );
}

#[tokio::test]
async fn a_service_token_on_the_management_api_is_403_forbidden_naming_api_keys() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let whoami = app.get("/api/v1/users/current", &token).await;
    let create = app
        .post(&keys_path(owner.workspace_id), &token, json!({"name": "x"}))
        .await;
    for r in [whoami, create] {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{}",
            r.text
        );
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("API key"), "{message}");
    }
}

#[tokio::test]
async fn a_valid_credential_of_the_wrong_kind_does_not_count_as_a_failed_authentication() {
    let app = TestApp::spawn_with(|c| c.auth_failures_per_minute = 2).await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    for _ in 0..4 {
        let wrong_kind = app.get("/api/v1/users/current", &token).await;
        assert_eq!(wrong_kind.status, StatusCode::FORBIDDEN);
        let wrong_kind = app.verify(&owner.key, &owner.key, None).await;
        assert_eq!(wrong_kind.status, StatusCode::FORBIDDEN);
    }
    let r = app.get("/api/v1/users/current", &owner.key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(app.verify_code(&token, &owner.key, None).await, "VALID");
}

#[tokio::test]
async fn unknown_service_tokens_are_401_and_count_toward_the_failure_limit() {
    let app = TestApp::spawn_with(|c| c.auth_failures_per_minute = 2).await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let forged = format!("kwsvc_{}", "A".repeat(38));
    let on_verify = app.verify(&forged, &owner.key, None).await;
    let on_management = app.get("/api/v1/users/current", &forged).await;
    for r in [&on_verify, &on_management] {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{}",
            r.text
        );
    }
    let r = app.verify(&token, &owner.key, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

/// The `(field, message)` pairs of a 422's `details`.
fn details(r: &Reply) -> Vec<(String, String)> {
    r.body["error"]["details"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
                    (text("field"), text("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_missing_required_field_is_422_validation_failed_naming_the_field() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let ws = format!("/api/v1/workspaces/{}", owner.workspace_id);
    for (path, bearer, body, field) in [
        (keys_path(owner.workspace_id), &owner.key, json!({}), "name"),
        (
            "/api/v1/api-keys".to_owned(),
            &owner.key,
            json!({"scopes": ["*"]}),
            "name",
        ),
        (
            "/api/v1/workspaces".to_owned(),
            &owner.key,
            json!({}),
            "name",
        ),
        (
            format!("{ws}/members"),
            &owner.key,
            json!({"role": "member"}),
            "email",
        ),
        (
            "/api/v1/keys/verify".to_owned(),
            &token,
            json!({"scopes": []}),
            "key",
        ),
    ] {
        let r = app.post(&path, bearer, body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{path}: {}",
            r.text
        );
        let details = details(&r);
        assert!(
            details.iter().any(|(f, m)| f == field && !m.is_empty()),
            "{path}: {details:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_field_and_an_empty_one_get_the_same_status_and_code() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let missing = app.create_key(&owner, json!({})).await;
    let empty = app.create_key(&owner, json!({"name": "  "})).await;
    let shape = |r: &Reply| (r.status, r.code().to_owned(), details(r)[0].0.clone());
    assert_eq!(shape(&missing), shape(&empty));
    let wrong_type: Value = app.create_key(&owner, json!({"name": 5})).await.body;
    assert_eq!(
        wrong_type["error"]["code"], "bad_request",
        "wrong types stay 400"
    );
}
