//! PRODUCT.md §3, "What a key can do", "Rank" and "Expiry": the exact intersection of a key's
//! scopes with its creator's snapshot, the workspace policy at use time, the creator's rank,
//! and expiries that can neither revive a key nor stretch a grace period.

use keyward_core::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{key_path, keys_path, member_path, members_path, sleep_past, soon, TestApp};

#[tokio::test]
async fn a_family_scope_narrows_to_what_the_creators_snapshot_held_everywhere() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let token = app.service_token().await;
    let user = app.user("narrow@example.com", true).await;
    let added = app
        .post(
            &members_path(ws),
            &owner.key,
            json!({"email": user.email, "role": "member", "scopes": ["apps:read", "apps:deploy"]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let family = app.key_for(&user, ws, None).await;
    let id = app.key_id(&family).await;
    let r = app
        .patch(&key_path(ws, &id), &owner.key, json!({"scopes": ["apps"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let holds = json!(["apps:deploy", "apps:read"]);
    let verdict = app.verify(&token, &family, None).await;
    assert_eq!(verdict.body["code"], "VALID", "{}", verdict.text);
    assert_eq!(verdict.body["key"]["scopes"], holds, "{}", verdict.text);
    let me = app.get("/api/v1/users/current", &family).await;
    assert_eq!(me.body["auth"]["scopes"], holds, "{}", me.text);
    assert_eq!(
        app.verify_code(&token, &family, Some(&["apps:deploy"]))
            .await,
        "VALID"
    );
    assert_eq!(
        app.verify_code(&token, &family, Some(&["billing:read"]))
            .await,
        "INSUFFICIENT_SCOPE"
    );

    // Rotating it hands out a secret valid for apps:deploy: only for one who holds that.
    let writer = app.scoped_key(&owner, &["api_keys:write"]).await;
    let rotate = app
        .post(&format!("{}/rotate", key_path(ws, &id)), &writer, json!({}))
        .await;
    assert_eq!(
        (rotate.status, rotate.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope"),
        "{}",
        rotate.text
    );
    assert_eq!(app.verify_code(&token, &family, None).await, "VALID");
}

#[tokio::test]
async fn an_admin_may_revoke_an_owners_key_but_not_edit_rotate_or_delete_it() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (_, admin_key) = app.member(ws, Role::Admin, true).await;
    let owners = app.create_key(&owner, json!({"name": "owner's"})).await;
    let path = key_path(ws, owners.body["id"].as_str().unwrap());
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let attempts = [
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"name": "mine now"})),
        ),
        (
            Method::PUT,
            path.clone(),
            Some(json!({"expires_at": later})),
        ),
        (Method::POST, format!("{path}/rotate"), None),
        (Method::DELETE, path.clone(), None),
    ];
    app.assert_each_refused(&admin_key, attempts, (StatusCode::FORBIDDEN, "forbidden"))
        .await;
    let key = app.get(&path, &owner.key).await;
    assert_eq!(
        (&key.body["name"], &key.body["status"]),
        (&json!("owner's"), &json!("active"))
    );

    let revoked = app
        .post(&format!("{path}/revoke"), &admin_key, json!({}))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body["status"], "revoked");
    let events = app
        .get(
            &format!(
                "/api/v1/workspaces/{ws}/audit-events?action=api_key.revoked&target_id={}",
                owners.body["id"].as_str().unwrap()
            ),
            &owner.key,
        )
        .await;
    let admin_key_id = app.key_id(&admin_key).await;
    assert_eq!(events.body[0]["actor"]["id"], json!(admin_key_id));
}

#[tokio::test]
async fn a_demoted_admin_cannot_edit_rotate_or_delete_a_key_made_while_admin() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    app.set_members_can_create_keys(&owner, true).await;
    let (admin, admin_key) = app.member(ws, Role::Admin, true).await;
    let made = app
        .post(
            &keys_path(ws),
            &admin_key,
            json!({"name": "admin era", "scopes": ["apps:read"]}),
        )
        .await;
    let path = key_path(ws, made.body["id"].as_str().unwrap());
    let r = app
        .patch(
            &member_path(ws, admin.id),
            &owner.key,
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let as_member = app.key_for(&admin, ws, None).await;

    let attempts = [
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"scopes": ["apps:deploy"]})),
        ),
        (Method::POST, format!("{path}/rotate"), None),
        (Method::DELETE, path.clone(), None),
    ];
    app.assert_each_refused(&as_member, attempts, (StatusCode::FORBIDDEN, "forbidden"))
        .await;
    assert_eq!(
        app.get(&path, &owner.key).await.body["scopes"],
        json!(["apps:read"])
    );
    let revoked = app
        .post(&format!("{path}/revoke"), &as_member, json!({}))
        .await;
    assert_eq!(
        revoked.status,
        StatusCode::OK,
        "revoking is a safety action: {}",
        revoked.text
    );
}

#[tokio::test]
async fn a_members_key_stops_writing_keys_when_members_can_create_keys_is_turned_off() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    app.set_members_can_create_keys(&owner, true).await;
    let (_, member_key) = app.member(ws, Role::Member, true).await;
    let made = app
        .post(
            &keys_path(ws),
            &member_key,
            json!({"name": "made while on"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let made_secret = made.body["key"].as_str().unwrap().to_owned();
    let made_path = key_path(ws, made.body["id"].as_str().unwrap());

    app.set_members_can_create_keys(&owner, false).await;
    for actor in [&member_key, &made_secret] {
        let attempts = [
            (Method::POST, keys_path(ws), Some(json!({"name": "x"}))),
            (Method::PATCH, made_path.clone(), Some(json!({"name": "x"}))),
            (Method::POST, format!("{made_path}/revoke"), None),
            (Method::POST, format!("{made_path}/rotate"), None),
        ];
        app.assert_each_refused(
            actor,
            attempts,
            (StatusCode::FORBIDDEN, "insufficient_scope"),
        )
        .await;
        let me = app.get("/api/v1/users/current", actor).await;
        assert!(
            !me.text.contains("api_keys:write"),
            "the policy narrows what users/current reports: {}",
            me.text
        );
    }
    let token = app.service_token().await;
    let verdict = app
        .verify(&token, &member_key, Some(&["api_keys:write"]))
        .await;
    assert_eq!(
        verdict.body["code"], "INSUFFICIENT_SCOPE",
        "{}",
        verdict.text
    );
    assert!(
        !verdict.body["key"]["scopes"]
            .to_string()
            .contains("api_keys:write"),
        "verify reports the same effective set: {}",
        verdict.text
    );
    let all = app.get(&keys_path(ws), &member_key).await;
    assert_eq!(
        all.body.as_array().unwrap().len(),
        3,
        "with the setting off a member reads every key: {}",
        all.text
    );

    app.set_members_can_create_keys(&owner, true).await;
    let again = app
        .post(&keys_path(ws), &member_key, json!({"name": "on again"}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[tokio::test]
async fn an_expired_key_cannot_be_revived_by_clearing_or_moving_its_expiry() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let created = app
        .create_key(&owner, json!({"name": "short", "expires_at": soon()}))
        .await;
    let secret = created.body["key"].as_str().unwrap();
    let path = key_path(owner.workspace_id, created.body["id"].as_str().unwrap());
    sleep_past(&created.body["expires_at"]).await;
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    for expires_at in [json!(null), json!(later)] {
        let r = app
            .patch(&path, &owner.key, json!({"expires_at": expires_at}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "conflict"),
            "{expires_at}: {}",
            r.text
        );
    }
    assert_eq!(app.get(&path, &owner.key).await.body["status"], "expired");
    assert_eq!(app.verify_code(&token, secret, None).await, "EXPIRED");
    let rename = app
        .patch(&path, &owner.key, json!({"name": "renamed"}))
        .await;
    assert_eq!(
        rename.status,
        StatusCode::OK,
        "other fields stay editable: {}",
        rename.text
    );
}

#[tokio::test]
async fn a_revoked_key_keeps_its_expiry() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "gone"})).await;
    let path = key_path(owner.workspace_id, created.body["id"].as_str().unwrap());
    app.post(&format!("{path}/revoke"), &owner.key, json!({}))
        .await;
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let r = app
        .patch(&path, &owner.key, json!({"expires_at": later}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(
        app.get(&path, &owner.key).await.body["expires_at"],
        json!(null)
    );
}

#[tokio::test]
async fn the_old_key_of_a_rotation_cannot_outlive_its_grace_period() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    let path = key_path(owner.workspace_id, created.body["id"].as_str().unwrap());
    let rotated = app
        .post(
            &format!("{path}/rotate"),
            &owner.key,
            json!({"grace_period_seconds": 3600}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
    let grace_end = app.get(&path, &owner.key).await.body["expires_at"].clone();
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    for expires_at in [json!(null), json!(later)] {
        let r = app
            .patch(&path, &owner.key, json!({"expires_at": expires_at}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "conflict"),
            "{expires_at}: {}",
            r.text
        );
    }
    assert_eq!(
        app.get(&path, &owner.key).await.body["expires_at"],
        grace_end
    );
    let sooner = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let shorten = app
        .patch(&path, &owner.key, json!({"expires_at": sooner}))
        .await;
    assert_eq!(
        shorten.status,
        StatusCode::OK,
        "ending the grace early is fine: {}",
        shorten.text
    );
}

#[tokio::test]
async fn no_expiry_edit_takes_a_workspace_past_its_plan_limit() {
    let app = TestApp::spawn_with(|c| {
        c.plans.insert(
            "two".into(),
            keyward::config::PlanConfig {
                max_active_keys: Some(2),
            },
        );
    })
    .await;
    let owner = app.owner().await;
    app.service
        .set_plan(owner.workspace_id, "two")
        .await
        .unwrap();
    let short = app
        .create_key(&owner, json!({"name": "short", "expires_at": soon()}))
        .await;
    assert_eq!(short.status, StatusCode::CREATED, "{}", short.text);
    sleep_past(&short.body["expires_at"]).await;
    let third = app.create_key(&owner, json!({"name": "third"})).await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.text);

    let path = key_path(owner.workspace_id, short.body["id"].as_str().unwrap());
    let revive = app
        .patch(&path, &owner.key, json!({"expires_at": null}))
        .await;
    assert_eq!(revive.status, StatusCode::CONFLICT, "{}", revive.text);
    let active = app
        .get(
            &format!("{}?status=active", keys_path(owner.workspace_id)),
            &owner.key,
        )
        .await;
    assert_eq!(active.body.as_array().unwrap().len(), 2, "{}", active.text);
}
