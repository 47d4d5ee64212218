//! PRODUCT.md §4, "Rotate": the old key names its successor, a grace period is at most 7 days
//! and does not count toward the plan, and a key in its grace period is not rotated again.
//! Also §6: `INSUFFICIENT_SCOPE` says which scopes were missing.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{key_path, keys_path, TestApp};

const SEVEN_DAYS: u64 = 7 * 86_400;

#[tokio::test]
async fn the_old_key_names_its_successor_in_rotated_to() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    assert_eq!(created.body["rotated_to"], json!(null), "{}", created.text);
    let old_id = created.body["id"].as_str().unwrap();
    let path = key_path(owner.workspace_id, old_id);
    let rotated = app
        .post(
            &format!("{path}/rotate"),
            &owner.key,
            json!({"grace_period_seconds": 60}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
    assert_eq!(rotated.body["rotated_from"], json!(old_id));
    assert_eq!(rotated.body["rotated_to"], json!(null));

    let old = app.get(&path, &owner.key).await;
    assert_eq!(old.body["rotated_to"], rotated.body["id"], "{}", old.text);
    let listed = app.get(&keys_path(owner.workspace_id), &owner.key).await;
    let listed_old = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == json!(old_id))
        .unwrap()
        .clone();
    assert_eq!(listed_old["rotated_to"], rotated.body["id"]);
}

#[tokio::test]
async fn a_grace_rotation_works_on_the_free_plan_and_the_grace_key_does_not_count() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.service
        .set_plan(owner.workspace_id, "free")
        .await
        .unwrap();
    let token = app.service_token().await;
    let path = key_path(owner.workspace_id, &app.key_id(&owner.key).await);
    let rotated = app
        .post(
            &format!("{path}/rotate"),
            &owner.key,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(
        rotated.status,
        StatusCode::CREATED,
        "zero-downtime rotation on a one-key plan: {}",
        rotated.text
    );
    let new_key = rotated.body["key"].as_str().unwrap();
    assert_eq!(app.verify_code(&token, &owner.key, None).await, "VALID");
    assert_eq!(app.verify_code(&token, new_key, None).await, "VALID");

    let another = app
        .post(
            &keys_path(owner.workspace_id),
            new_key,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(
        (another.status, another.code()),
        (StatusCode::FORBIDDEN, "plan_limit_reached"),
        "the successor counts: {}",
        another.text
    );
}

#[tokio::test]
async fn a_grace_period_is_at_most_seven_days() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    let path = key_path(owner.workspace_id, created.body["id"].as_str().unwrap());
    let too_long = app
        .post(
            &format!("{path}/rotate"),
            &owner.key,
            json!({"grace_period_seconds": SEVEN_DAYS + 1}),
        )
        .await;
    assert_eq!(
        too_long.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_long.text
    );
    assert_eq!(
        too_long.body["error"]["details"][0]["field"],
        "grace_period_seconds"
    );
    let old = app.get(&path, &owner.key).await;
    assert_eq!(
        (old.body["status"].clone(), old.body["expires_at"].clone()),
        (json!("active"), json!(null)),
        "the old key stays untouched"
    );
    let longest = app
        .post(
            &format!("{path}/rotate"),
            &owner.key,
            json!({"grace_period_seconds": SEVEN_DAYS}),
        )
        .await;
    assert_eq!(longest.status, StatusCode::CREATED, "{}", longest.text);
}

#[tokio::test]
async fn a_key_in_its_grace_period_cannot_be_rotated_again() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    let rotate = format!(
        "{}/rotate",
        key_path(owner.workspace_id, created.body["id"].as_str().unwrap())
    );
    let first = app
        .post(&rotate, &owner.key, json!({"grace_period_seconds": 60}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    for body in [json!({}), json!({"grace_period_seconds": 60})] {
        let again = app.post(&rotate, &owner.key, body.clone()).await;
        assert_eq!(
            (again.status, again.code()),
            (StatusCode::CONFLICT, "conflict"),
            "{body}: {}",
            again.text
        );
        assert!(
            again.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("grace"),
            "{}",
            again.text
        );
    }
}

#[tokio::test]
async fn insufficient_scope_on_verify_names_the_missing_scopes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let key = app.scoped_key(&owner, &["apps:read"]).await;
    let r = app
        .verify(
            &token,
            &key,
            Some(&["apps:read", "billing:read", "apps:deploy"]),
        )
        .await;
    assert_eq!(r.body["code"], "INSUFFICIENT_SCOPE", "{}", r.text);
    assert_eq!(
        r.body["missing_scopes"],
        json!(["billing:read", "apps:deploy"]),
        "{}",
        r.text
    );
    let ok = app.verify(&token, &key, Some(&["apps:read"])).await;
    assert_eq!(ok.body["code"], "VALID");
    assert!(ok.body.get("missing_scopes").is_none(), "{}", ok.text);
}

/// The free plan (one active key) with the owner's key rotated once with a grace period:
/// returns the path of the old key and the successor's secret and path.
async fn free_plan_mid_rotation(
    app: &TestApp,
    owner: &crate::support::Owner,
) -> (String, String, String) {
    app.service
        .set_plan(owner.workspace_id, "free")
        .await
        .unwrap();
    let old = key_path(owner.workspace_id, &app.key_id(&owner.key).await);
    let rotated = app
        .post(
            &format!("{old}/rotate"),
            &owner.key,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
    let secret = rotated.body["key"].as_str().unwrap().to_owned();
    let new = key_path(owner.workspace_id, rotated.body["id"].as_str().unwrap());
    (old, secret, new)
}

#[tokio::test]
async fn a_successor_is_not_rotated_while_its_predecessor_is_still_in_grace() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let (old, secret, new) = free_plan_mid_rotation(&app, &owner).await;
    let chained = app
        .post(
            &format!("{new}/rotate"),
            &secret,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(
        (chained.status, chained.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        chained.text
    );
    assert_eq!(app.verify_code(&token, &owner.key, None).await, "VALID");

    let ended = app.post(&format!("{old}/revoke"), &secret, json!({})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    let again = app
        .post(
            &format!("{new}/rotate"),
            &secret,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[tokio::test]
async fn a_grace_key_counts_toward_the_plan_again_once_its_successor_is_gone() {
    for end_successor in ["revoke", "delete"] {
        let app = TestApp::spawn().await;
        let owner = app.owner().await;
        let token = app.service_token().await;
        let (_, secret, new) = free_plan_mid_rotation(&app, &owner).await;
        let ended = match end_successor {
            "revoke" => {
                app.post(&format!("{new}/revoke"), &owner.key, json!({}))
                    .await
            }
            _ => app.delete(&new, &owner.key).await,
        };
        assert!(ended.status.is_success(), "{}", ended.text);
        assert_ne!(app.verify_code(&token, &secret, None).await, "VALID");

        let another = app
            .post(
                &keys_path(owner.workspace_id),
                &owner.key,
                json!({"name": "x"}),
            )
            .await;
        assert_eq!(
            (another.status, another.code()),
            (StatusCode::FORBIDDEN, "plan_limit_reached"),
            "after {end_successor}: {}",
            another.text
        );
    }
}
