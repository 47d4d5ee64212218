//! Limits on what one client can make the server do (issue 17): failed authentications per
//! client, whose client that is behind a proxy (`trusted_proxies`), and the sizes of a
//! request's headers and query. Bodies (64 KiB) and failed log-ins per account and per IP
//! have their tests beside the features they guard: `errors.rs` and `sessions.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{keys_path, reply, Owner, Reply, TestApp};

/// `GET /users/current` with `bearer`, as forwarded by a proxy for `forwarded_for`.
async fn whoami(app: &TestApp, bearer: &str, forwarded_for: &str) -> Reply {
    let req = app
        .client
        .request(Method::GET, app.url("/api/v1/users/current"))
        .bearer_auth(bearer)
        .header("x-forwarded-for", forwarded_for);
    reply(req.send().await.unwrap()).await
}

/// Three failed authentications, which is the limit these tests set, from `forwarded_for`.
async fn fail_three_times(app: &TestApp, forwarded_for: &str) {
    for i in 0..3 {
        let r = whoami(app, &format!("kw_bad{i:0>35}"), forwarded_for).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "failure {i}: {}",
            r.text
        );
    }
}

/// Creates a key as `owner` through a request claiming `X-Forwarded-For: forwarded_for`,
/// and returns the `ip` its audit event recorded.
async fn audited_ip(app: &TestApp, owner: &Owner, forwarded_for: &str) -> Value {
    let created = app
        .client
        .post(app.url(&keys_path(owner.workspace_id)))
        .bearer_auth(&owner.key)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"name": "forwarded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let events = app
        .get(
            &format!(
                "/api/v1/workspaces/{}/audit-events?limit=1",
                owner.workspace_id
            ),
            &owner.key,
        )
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(events.body[0]["action"], json!("api_key.created"));
    events.body[0]["ip"].clone()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_failure_limit() {
    let app = TestApp::spawn_with(|c| {
        c.auth_failures_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await;
    let owner = app.owner().await;
    fail_three_times(&app, "198.51.100.1").await;
    let blocked = whoami(&app, &owner.key, "198.51.100.1").await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        blocked.text
    );
    // Another client behind the same proxy is not locked out by the first one's failures.
    let other = whoami(&app, &owner.key, "198.51.100.2").await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    // A client that writes its own X-Forwarded-For in front of the proxy's entry is still
    // the address the proxy saw.
    let spoofed = whoami(&app, &owner.key, "198.51.100.2, 198.51.100.1").await;
    assert_eq!(
        spoofed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        spoofed.text
    );

    // The audit log records the forwarded client.
    assert_eq!(
        audited_ip(&app, &owner, "203.0.113.50").await,
        json!("203.0.113.50")
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forged_forwarded_for_neither_evades_the_limit_nor_the_log() {
    let app = TestApp::spawn_with(|c| c.auth_failures_per_minute = 3).await;
    let owner = app.owner().await;
    // Each failure claims another client; they all come from one peer, and count as one.
    for (i, claimed) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .enumerate()
    {
        let r = whoami(&app, &format!("kw_bad{i:0>35}"), claimed).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    let r = whoami(&app, &owner.key, "198.51.100.4").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

#[tokio::test]
async fn a_forwarded_for_from_an_untrusted_peer_is_not_written_to_the_audit_log() {
    // The trusted range does not hold the test's loopback peer.
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["10.0.0.0/8".into()]).await;
    let owner = app.owner().await;
    assert_eq!(
        audited_ip(&app, &owner, "203.0.113.50").await,
        json!("127.0.0.1")
    );
}

#[tokio::test]
async fn oversized_headers_and_queries_are_refused_before_any_handler() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    // One header of 40 KiB.
    let big = "a".repeat(40 * 1024);
    let r = app
        .client
        .get(app.url("/api/v1/users/current"))
        .bearer_auth(&owner.key)
        .header("x-padding", &big)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(
        (r.status, r.code()),
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large"
        )
    );
    // More header lines than the HTTP parser reads (100): hyper refuses the request before
    // keyward sees it, with a bare 431.
    let mut req = app
        .client
        .get(app.url("/api/v1/users/current"))
        .bearer_auth(&owner.key);
    for i in 0..200 {
        req = req.header(format!("x-h{i}"), "1");
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // A query of 16 KiB (over the limit of 8; HTTP clients refuse to send past 64).
    let long = "a".repeat(16 * 1024);
    let r = app
        .client
        .get(app.url(&format!("/api/v1/users/current?pad={long}")))
        .bearer_auth(&owner.key)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::URI_TOO_LONG, "uri_too_long")
    );
    // The server is still there for a normal request.
    let r = app.get("/api/v1/users/current", &owner.key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
