//! Edges where a rule could be sidestepped: rotation as a way to gain power, paths that
//! cannot be decoded, and inputs that must never be echoed.

use keyward_core::model::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{key_path, keys_path, TestApp};

#[tokio::test]
async fn an_admin_cannot_rotate_an_owners_key_to_get_a_key_that_acts_as_the_owner() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (_, admin_key) = app.member(owner.workspace_id, Role::Admin, true).await;
    let owners = app.create_key(&owner, json!({"name": "owner's"})).await;
    let path = key_path(owner.workspace_id, owners.body["id"].as_str().unwrap());
    let refused = app
        .post(&format!("{path}/rotate"), &admin_key, json!({}))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        refused.text
    );
    assert!(refused.body.get("key").is_none());
    assert_eq!(
        app.get(&path, &owner.key).await.body["status"],
        "active",
        "the old key is untouched"
    );
}

#[tokio::test]
async fn a_narrow_key_cannot_rotate_a_full_access_key_into_its_hands() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let narrow = app
        .key_for(
            &owner.user,
            owner.workspace_id,
            Some(&["api_keys:read", "api_keys:write"]),
        )
        .await;
    let full = app.create_key(&owner, json!({"name": "full"})).await;
    let path = key_path(owner.workspace_id, full.body["id"].as_str().unwrap());
    let refused = app
        .post(&format!("{path}/rotate"), &narrow, json!({}))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let own = app
        .create_key(
            &owner,
            json!({"name": "narrow too", "scopes": ["api_keys:read"]}),
        )
        .await;
    let own_path = key_path(owner.workspace_id, own.body["id"].as_str().unwrap());
    assert_eq!(
        app.post(&format!("{own_path}/rotate"), &narrow, json!({}))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_path_that_cannot_be_decoded_is_the_same_json_404_as_a_missing_id() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let garbled = app.get("/api/v1/workspaces/%FF/api-keys", &owner.key).await;
    let missing = app.get(&keys_path(uuid::Uuid::now_v7()), &owner.key).await;
    assert_eq!(garbled.status, StatusCode::NOT_FOUND);
    let strip = |r: &crate::support::Reply| {
        let mut b = r.body.clone();
        b["error"]["request_id"] = json!(null);
        b
    };
    assert_eq!(strip(&garbled), strip(&missing));
}

#[tokio::test]
async fn deleting_an_active_key_records_its_revocation_but_an_expired_key_is_not_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let active = app.create_key(&owner, json!({"name": "active"})).await;
    let active_id = active.body["id"].as_str().unwrap();
    app.delete(&key_path(owner.workspace_id, active_id), &owner.key)
        .await;
    assert_eq!(
        app.audit_actions(&owner, active_id).await,
        ["api_key.deleted", "api_key.revoked", "api_key.created"]
    );

    let soon = crate::support::soon();
    let expiring = app
        .create_key(&owner, json!({"name": "expiring", "expires_at": soon}))
        .await;
    crate::support::sleep_past(&serde_json::Value::String(soon.clone())).await;
    let path = key_path(owner.workspace_id, expiring.body["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&path, &owner.key).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&path, &owner.key).await.status,
        StatusCode::NOT_FOUND
    );
    // Deleted rows stay in the store (for the audit trail); look this one up by its hash.
    let pepper = std::fs::read(app.dir.path().join("pepper")).unwrap();
    let hash =
        keyward_core::secret::Pepper::new(pepper).hash(expiring.body["key"].as_str().unwrap());
    let stored = app
        .service
        .store()
        .key_by_hash(&hash)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.key.deleted_at.is_some());
    assert!(
        stored.key.revoked_at.is_none(),
        "an expired key is deleted, not revoked"
    );
}

#[tokio::test]
async fn an_admin_cannot_touch_an_owners_membership_even_its_scopes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (_, admin_key) = app.member(owner.workspace_id, Role::Admin, true).await;
    let path = format!(
        "/api/v1/workspaces/{}/members/{}",
        owner.workspace_id, owner.user.id
    );
    let refused = app
        .patch(&path, &admin_key, json!({"scopes": ["apps:read"]}))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
}

#[tokio::test]
async fn a_secret_pasted_into_scopes_is_refused_without_being_echoed() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let refused = app
        .create_key(
            &owner,
            json!({"name": "oops", "scopes": ["apps:read", owner.key]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.text.contains(&owner.key), "{}", refused.text);
    assert!(refused.text.contains("item 1"), "{}", refused.text);
    let unknown = app
        .create_key(&owner, json!({"name": "typo", "scopes": ["apps:raed"]}))
        .await;
    assert!(
        !unknown.text.contains("apps:raed") && unknown.text.contains("item 0"),
        "scope-shaped mistakes are named by position, not value: {}",
        unknown.text
    );
}

#[tokio::test]
async fn a_workspace_cannot_take_the_service_token_prefix() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let r = app
        .patch(
            &format!("/api/v1/workspaces/{}", owner.workspace_id),
            &owner.key,
            json!({"key_prefix": "kwsvc_"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["details"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("key_prefix"))
    );
}

#[tokio::test]
async fn expiries_past_the_year_9999_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let r = app
        .create_key(
            &owner,
            json!({"name": "forever-ish", "expires_at": "+10000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let last = app
        .create_key(
            &owner,
            json!({"name": "last", "expires_at": "9999-12-31T23:59:59Z"}),
        )
        .await;
    let rotated = app
        .post(
            &format!(
                "{}/rotate",
                key_path(owner.workspace_id, last.body["id"].as_str().unwrap())
            ),
            &owner.key,
            json!({}),
        )
        .await;
    let expires = rotated.body["expires_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(expires).is_ok(),
        "{expires} is not RFC 3339"
    );
}

#[tokio::test]
async fn a_member_limited_to_its_own_keys_sees_only_their_events_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let audit = format!("/api/v1/workspaces/{}/audit-events", owner.workspace_id);
    let (_, member_key) = app.member(owner.workspace_id, Role::Member, true).await;
    let secret_project = app
        .create_key(&owner, json!({"name": "secret-project-key"}))
        .await;
    assert_eq!(secret_project.status, StatusCode::CREATED);
    // By default a member sees every key read-only, so the whole log too.
    assert!(app
        .get(&audit, &member_key)
        .await
        .text
        .contains("secret-project-key"));

    let ws = format!("/api/v1/workspaces/{}", owner.workspace_id);
    app.patch(&ws, &owner.key, json!({"members_can_create_keys": true}))
        .await;
    let (_, own_key) = app.member(owner.workspace_id, Role::Member, true).await;
    let mine = app
        .post("/api/v1/api-keys", &own_key, json!({"name": "my-own-key"}))
        .await;
    assert_eq!(mine.status, StatusCode::CREATED);
    let seen = app.get(&audit, &own_key).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.text.contains("my-own-key"), "{}", seen.text);
    assert!(
        !seen.text.contains("secret-project-key"),
        "another user's key leaked through the log"
    );
    assert!(!seen
        .text
        .contains(secret_project.body["key_prefix"].as_str().unwrap()));
}
