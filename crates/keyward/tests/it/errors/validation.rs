//! 422 `validation_failed`: each rule of PRODUCT.md §7 names its field in `details`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{Owner, TestApp};

/// Creates a key with `body` and expects 422 with a detail naming each of `fields`.
async fn assert_invalid(app: &TestApp, owner: &Owner, body: Value, fields: &[&str]) {
    let r = app.create_key(owner, body.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{body} -> {}",
        r.text
    );
    let details = r.body["error"]["details"].as_array().expect("details");
    let named: Vec<&str> = details
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for field in fields {
        assert!(
            named.contains(field),
            "{body}: no detail for {field} in {named:?}"
        );
    }
    assert!(details
        .iter()
        .all(|d| d["message"].as_str().is_some_and(|m| !m.is_empty())));
}

#[tokio::test]
async fn a_name_empty_blank_over_100_characters_or_with_control_characters_is_422() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    for name in [
        "",
        "   \t ",
        &"n".repeat(101),
        "tab\there",
        "line\nbreak",
        "nul\u{0}",
        "del\u{7f}",
        "c1\u{85}control",
    ] {
        assert_invalid(&app, &owner, json!({ "name": name }), &["name"]).await;
    }
    let padded = format!("  {}  ", "n".repeat(100));
    let ok = app.create_key(&owner, json!({ "name": padded })).await;
    assert_eq!(ok.status, StatusCode::CREATED, "100 after trimming is fine");
    let wide = app
        .create_key(&owner, json!({ "name": "é".repeat(100) }))
        .await;
    assert_eq!(
        wide.status,
        StatusCode::CREATED,
        "characters, not bytes: {}",
        wide.text
    );
}

#[tokio::test]
async fn an_expiry_in_the_past_or_not_rfc_3339_is_422() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    for expires in [
        past.as_str(),
        "tomorrow",
        "2031-01-01",
        "2031-01-01 00:00:00",
    ] {
        let body = json!({"name": "x", "expires_at": expires});
        assert_invalid(&app, &owner, body, &["expires_at"]).await;
    }
}

#[tokio::test]
async fn a_scope_not_in_the_catalog_is_422() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let body = json!({"name": "x", "scopes": ["apps:read", "apps:destroy"]});
    assert_invalid(&app, &owner, body, &["scopes"]).await;
}

#[tokio::test]
async fn metadata_over_4_kib_or_not_an_object_is_422() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let big = json!({"name": "x", "metadata": {"pad": "x".repeat(4 * 1024)}});
    assert_invalid(&app, &owner, big, &["metadata"]).await;
    for not_object in [json!([1, 2]), json!("text"), json!(7)] {
        let body = json!({"name": "x", "metadata": not_object});
        assert_invalid(&app, &owner, body, &["metadata"]).await;
    }
}

#[tokio::test]
async fn several_bad_fields_give_one_detail_each() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let body = json!({"name": " ", "expires_at": "soon", "scopes": ["nope"], "metadata": []});
    assert_invalid(
        &app,
        &owner,
        body,
        &["name", "expires_at", "scopes", "metadata"],
    )
    .await;
}
