//! A write re-checks its caller under the workspace lock (PRODUCT.md §3): a request that
//! authenticated just before its key was revoked, or its user removed or demoted, writes
//! nothing with the power it has lost, and a key minted during a removal never outlives it.

use keyward_core::model::Role;
use keyward_core::service::{MemberPatch, NewKey, Principal, RequestMeta};
use keyward_core::Error;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{key_path, member_path, TestApp};

/// Resolves a Bearer key to its principal the way a request does, before any write begins.
async fn principal_of(app: &TestApp, key: &str, ws: uuid::Uuid) -> Principal {
    let caller = app
        .service
        .authenticate_key(key, RequestMeta::default())
        .await
        .unwrap();
    app.service.principal(&caller, ws).await.unwrap()
}

#[tokio::test]
async fn a_request_that_authenticated_before_its_user_was_removed_writes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (admin, admin_key) = app.member(ws, Role::Admin, true).await;
    let (member, _) = app.member(ws, Role::Member, true).await;
    let stale = principal_of(&app, &admin_key, ws).await;

    let removed = app.delete(&member_path(ws, admin.id), &owner.key).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let new_key = NewKey {
        name: "after removal".into(),
        ..NewKey::default()
    };
    let created = app.service.create_key(&stale, new_key).await;
    assert!(
        matches!(created, Err(Error::Unauthorized { .. })),
        "{created:?}"
    );
    let patch = MemberPatch {
        role: Some("admin".into()),
        scopes: None,
    };
    let promoted = app.service.update_member(&stale, member.id, patch).await;
    assert!(
        matches!(promoted, Err(Error::Unauthorized { .. })),
        "{promoted:?}"
    );
    let listed = app.get(&crate::support::keys_path(ws), &owner.key).await;
    assert!(!listed.text.contains("after removal"), "{}", listed.text);
}

#[tokio::test]
async fn a_session_demoted_while_its_request_waits_writes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (admin, _) = app.member(ws, Role::Admin, true).await;
    let (cookie, csrf) = app.session(&admin).await;
    let caller = app
        .service
        .authenticate_session(&cookie, Some(&csrf), true, RequestMeta::default())
        .await
        .unwrap();
    let stale = app.service.principal(&caller, ws).await.unwrap();

    let demoted = app
        .patch(
            &member_path(ws, admin.id),
            &owner.key,
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    let created = app
        .service
        .create_key(
            &stale,
            NewKey {
                name: "as an admin no more".into(),
                ..NewKey::default()
            },
        )
        .await;
    assert!(matches!(created, Err(Error::Conflict(_))), "{created:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_created_while_their_creator_is_removed_never_outlive_the_removal() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let token = app.service_token().await;
    let (admin, admin_key) = app.member(ws, Role::Admin, true).await;
    let mut creates = Vec::new();
    for i in 0..30 {
        let (client, url, key) = (
            app.client.clone(),
            app.url(&crate::support::keys_path(ws)),
            admin_key.clone(),
        );
        creates.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "name": format!("racing {i}") }))
                .send()
                .await
                .unwrap();
            let body: Value = r.json().await.unwrap_or_default();
            body["key"].as_str().map(str::to_owned)
        }));
    }
    let removed = app.delete(&member_path(ws, admin.id), &owner.key).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    for task in creates {
        if let Some(secret) = task.await.unwrap() {
            assert_ne!(
                app.verify_code(&token, &secret, None).await,
                "VALID",
                "a key of a removed member verifies"
            );
        }
    }
}

#[tokio::test]
async fn a_request_that_authenticated_before_its_key_was_revoked_writes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let leaked = app.scoped_key(&owner, &["*"]).await;
    let caller = app
        .service
        .authenticate_key(&leaked, RequestMeta::default())
        .await
        .unwrap();
    let stale = app.service.principal(&caller, ws).await.unwrap();

    let leaked_path = key_path(ws, &app.key_id(&leaked).await);
    let revoked = app
        .post(&format!("{leaked_path}/revoke"), &owner.key, json!({}))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let new_key = NewKey {
        name: "minted by a revoked key".into(),
        ..NewKey::default()
    };
    let created = app.service.create_key(&stale, new_key).await;
    assert!(
        matches!(created, Err(Error::Unauthorized { .. })),
        "{created:?}"
    );
}
