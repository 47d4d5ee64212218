//! The verify API (PRODUCT.md §6): every answer code, freshness after writes, and who may
//! call it.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{key_path, TestApp};

#[tokio::test]
async fn verify_answers_every_code() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let scoped = app
        .create_key(&owner, json!({"name": "reader", "scopes": ["apps:read"]}))
        .await;
    let secret = scoped.body["key"].as_str().unwrap();

    let valid = app.verify(&token, secret, Some(&["apps:read"])).await;
    assert_eq!(
        (
            valid.status,
            valid.body["valid"].clone(),
            valid.body["code"].clone()
        ),
        (StatusCode::OK, json!(true), json!("VALID"))
    );
    assert_eq!(valid.body["key"]["id"], scoped.body["id"]);
    for field in [
        "id",
        "workspace_id",
        "name",
        "key_prefix",
        "scopes",
        "expires_at",
        "created_by",
        "metadata",
    ] {
        assert!(
            valid.body["key"].get(field).is_some(),
            "verified key lacks {field}"
        );
    }
    let short = app.verify(&token, secret, Some(&["apps:deploy"])).await;
    assert_eq!(short.body["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(short.body["valid"], false);
    assert!(
        short.body["key"].is_object(),
        "INSUFFICIENT_SCOPE carries the key"
    );

    let mut typo = secret.to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    let malformed = app.verify(&token, &typo, None).await;
    assert_eq!(malformed.body["code"], "MALFORMED");
    assert!(malformed.body.get("key").is_none());

    let prefix = keyward_core::key_format::KeyPrefix::parse("kw_").unwrap();
    let stranger =
        keyward_core::key_format::generate(&prefix, keyward_core::key_format::KeyFormat::Base62);
    assert_eq!(
        app.verify_code(&token, stranger.secret.expose_secret(), None)
            .await,
        "NOT_FOUND"
    );

    let soon = crate::support::soon();
    let expiring = app
        .create_key(&owner, json!({"name": "short-lived", "expires_at": soon}))
        .await;
    crate::support::sleep_past(&serde_json::Value::String(soon.clone())).await;
    assert_eq!(
        app.verify_code(&token, expiring.body["key"].as_str().unwrap(), None)
            .await,
        "EXPIRED"
    );

    app.post(
        &format!(
            "{}/revoke",
            key_path(owner.workspace_id, scoped.body["id"].as_str().unwrap())
        ),
        &owner.key,
        json!({}),
    )
    .await;
    let revoked = app.verify(&token, secret, None).await;
    assert_eq!(revoked.body["code"], "REVOKED");
    assert!(revoked.body.get("key").is_none());
}

#[tokio::test]
async fn revocation_deletion_and_scope_edits_are_honoured_by_the_very_next_verification() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let make =
        |name: &'static str| app.create_key(&owner, json!({"name": name, "scopes": ["apps"]}));
    let edited = make("edited").await;
    let deleted = make("deleted").await;
    let path =
        |r: &crate::support::Reply| key_path(owner.workspace_id, r.body["id"].as_str().unwrap());

    assert_eq!(
        app.verify_code(
            &token,
            edited.body["key"].as_str().unwrap(),
            Some(&["apps:deploy"])
        )
        .await,
        "VALID"
    );
    app.patch(&path(&edited), &owner.key, json!({"scopes": ["apps:read"]}))
        .await;
    assert_eq!(
        app.verify_code(
            &token,
            edited.body["key"].as_str().unwrap(),
            Some(&["apps:deploy"])
        )
        .await,
        "INSUFFICIENT_SCOPE"
    );
    assert_eq!(
        app.verify_code(&token, deleted.body["key"].as_str().unwrap(), None)
            .await,
        "VALID"
    );
    app.delete(&path(&deleted), &owner.key).await;
    assert_eq!(
        app.verify_code(&token, deleted.body["key"].as_str().unwrap(), None)
            .await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn verify_needs_a_service_token_and_a_key_is_not_one() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let with_key = app.verify(&owner.key, &owner.key, None).await;
    assert_eq!(
        with_key.status,
        StatusCode::FORBIDDEN,
        "a valid credential of the wrong kind"
    );
    let anonymous = app
        .call(
            reqwest::Method::POST,
            "/api/v1/keys/verify",
            None,
            Some(json!({"key": owner.key})),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let token = app.service_token().await;
    let bad_body = app
        .post("/api/v1/keys/verify", &token, json!({"secret": "x"}))
        .await;
    assert_eq!(bad_body.status, StatusCode::BAD_REQUEST);
}
