//! The HTTP edge of PRODUCT.md §7: who is counted as one client by the failure limit on a
//! dual-stack listener, wrong methods, credentials of the wrong kind, and missing fields.

use std::net::IpAddr;

use reqwest::StatusCode;

use crate::support::{reply, Reply, TestApp};

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
