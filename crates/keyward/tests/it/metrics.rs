//! `GET /metrics` (PRODUCT.md §8): served with the content type of the format it writes,
//! and every label has a bounded set of values whatever clients send.

use reqwest::{Method, StatusCode};

use crate::support::TestApp;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn scrape(app: &TestApp) -> String {
    let r = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text
}

#[tokio::test]
async fn metrics_are_served_as_openmetrics_text_with_its_content_type() {
    let app = TestApp::spawn().await;
    app.call(Method::GET, "/healthz", None, None).await;
    let r = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.headers["content-type"], OPENMETRICS);
    assert!(
        r.text.ends_with("# EOF\n"),
        "OpenMetrics text ends with its EOF line: {}",
        r.text
    );
    assert!(
        r.text
            .lines()
            .any(|l| l.starts_with("keyward_http_requests_total{")),
        "counters carry the OpenMetrics _total suffix: {}",
        r.text
    );
}

#[tokio::test]
async fn metric_labels_stay_bounded_whatever_methods_and_paths_clients_send() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.get("/api/v1/users/current", &owner.key).await;
    let baseline = scrape(&app).await.len();

    let filler = "Q".repeat(2048);
    for i in 0..60 {
        let method = Method::from_bytes(format!("ZQXMETHOD{i}{filler}").as_bytes()).unwrap();
        for path in ["/api/v1/users/current", "/no/such/path"] {
            let r = app.call(method.clone(), path, Some(&owner.key), None).await;
            assert!(r.status.is_client_error(), "{method} {path}: {}", r.status);
        }
        app.get(&format!("/zqxpath{i}/{filler}"), &owner.key).await;
        app.get(&format!("/api/v1/workspaces/zqxpath{i}"), &owner.key)
            .await;
    }

    let text = scrape(&app).await;
    for marker in ["ZQXMETHOD", "zqxpath", "QQQQ"] {
        assert!(!text.contains(marker), "{marker} became a label:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("keyward_http_requests_total{")
                && l.contains("method=\"other\"")
                && l.contains("route=\"/api/v1/users/current\"")),
        "unknown methods count as `other`:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("keyward_http_requests_total{")
                && l.contains("route=\"unmatched\"")),
        "unmatched paths share one label:\n{text}"
    );
    assert!(
        text.len() < baseline + 16 * 1024,
        "240 odd requests grew /metrics from {baseline} to {} bytes",
        text.len()
    );
}
