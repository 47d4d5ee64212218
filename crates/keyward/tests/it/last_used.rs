//! `last_used_at`: every use of a key updates it, through batched writes.

use serde_json::json;

use crate::support::{key_path, TestApp};

fn writes(metrics: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with("keyward_last_used_writes_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn management_calls_and_verifications_both_update_last_used_at() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    let (secret, id) = (
        created.body["key"].as_str().unwrap(),
        created.body["id"].as_str().unwrap(),
    );
    let path = key_path(owner.workspace_id, id);
    assert!(app.get(&path, &owner.key).await.body["last_used_at"].is_null());

    app.get("/api/v1/users/current", secret).await;
    let after_call = app.get(&path, &owner.key).await.body["last_used_at"].clone();
    assert!(after_call.is_string(), "a management call is a use");

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let token = app.service_token().await;
    app.verify(&token, secret, None).await;
    let after_verify = app.get(&path, &owner.key).await.body["last_used_at"].clone();
    assert!(
        after_verify.as_str() > after_call.as_str(),
        "a verification is a use too"
    );
}

#[tokio::test]
async fn uses_are_written_in_batches_at_most_once_per_key_per_interval() {
    let app = TestApp::spawn_with(|c| c.last_used_flush_seconds = 1).await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let id = app.get("/api/v1/users/current", &owner.key).await.body["auth"]["key_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for _ in 0..50 {
        app.verify(&token, &owner.key, None).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let stored = app
        .service
        .store()
        .key(owner.workspace_id, id)
        .await
        .unwrap()
        .unwrap()
        .last_used_at;
    assert!(stored.is_some(), "the batch wrote it");
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let written = writes(&metrics);
    assert!(
        (1.0..=3.0).contains(&written),
        "51 uses of one key in about two intervals gave {written} writes"
    );
}
