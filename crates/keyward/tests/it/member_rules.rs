//! PRODUCT.md §3, "Members and roles follow the same rule" and "Removal": nobody makes an
//! owner, an admin or a member's scopes out of power they do not hold, and a removed member's
//! keys stop at once.

use keyward_core::model::Role;
use keyward_core::service::NewMember;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{member_path, members_path, TestApp};

/// The members of a workspace as `email -> role`, read with the owner's key.
async fn roles(app: &TestApp, owner_key: &str, ws: uuid::Uuid) -> Vec<(String, String)> {
    let list = app.get(&members_path(ws), owner_key).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let mut out: Vec<(String, String)> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_key_holding_only_members_write_cannot_make_an_owner_or_admin_or_touch_the_owner() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let writer = app.scoped_key(&owner, &["members:write"]).await;
    let (member, _) = app.member(ws, Role::Member, true).await;
    app.user("mallory@example.com", true).await;
    let before = roles(&app, &owner.key, ws).await;

    let attempts: [(Method, String, Option<Value>); 6] = [
        (
            Method::POST,
            members_path(ws),
            Some(json!({"email": "mallory@example.com", "role": "owner"})),
        ),
        (
            Method::POST,
            members_path(ws),
            Some(json!({"email": "mallory@example.com", "role": "admin"})),
        ),
        (
            Method::PATCH,
            member_path(ws, member.id),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::PATCH,
            member_path(ws, member.id),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::PATCH,
            member_path(ws, owner.user.id),
            Some(json!({"role": "member"})),
        ),
        (Method::DELETE, member_path(ws, owner.user.id), None),
    ];
    app.assert_each_refused(
        &writer,
        attempts,
        (StatusCode::FORBIDDEN, "insufficient_scope"),
    )
    .await;
    assert_eq!(roles(&app, &owner.key, ws).await, before, "nothing changed");
}

#[tokio::test]
async fn a_members_write_key_made_by_an_admin_cannot_promote_or_demote_admins() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (admin, _) = app.member(ws, Role::Admin, true).await;
    let (other_admin, _) = app.member(ws, Role::Admin, true).await;
    let (member, _) = app.member(ws, Role::Member, true).await;
    let writer = app.key_for(&admin, ws, Some(&["members:write"])).await;

    let promote = app
        .patch(
            &member_path(ws, member.id),
            &writer,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(
        (promote.status, promote.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope"),
        "{}",
        promote.text
    );
    let demote = app
        .patch(
            &member_path(ws, other_admin.id),
            &writer,
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(demote.status, StatusCode::FORBIDDEN, "{}", demote.text);
    let remove = app.delete(&member_path(ws, other_admin.id), &writer).await;
    assert_eq!(remove.status, StatusCode::FORBIDDEN, "{}", remove.text);

    // A plain member can still be added, with none of the product scopes the key lacks.
    app.user("newbie@example.com", true).await;
    let added = app
        .post(
            &members_path(ws),
            &writer,
            json!({"email": "newbie@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["scopes"], json!([]), "{}", added.text);
}

#[tokio::test]
async fn a_membership_may_only_be_given_scopes_the_actor_holds() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let writer = app
        .scoped_key(&owner, &["members:write", "apps:read"])
        .await;
    app.user("dana@example.com", true).await;

    let wider = app
        .post(
            &members_path(ws),
            &writer,
            json!({"email": "dana@example.com", "role": "member", "scopes": ["apps:deploy"]}),
        )
        .await;
    assert_eq!(
        (wider.status, wider.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope"),
        "{}",
        wider.text
    );
    let family = app
        .post(
            &members_path(ws),
            &writer,
            json!({"email": "dana@example.com", "role": "member", "scopes": ["apps"]}),
        )
        .await;
    assert_eq!(family.status, StatusCode::FORBIDDEN, "{}", family.text);

    let added = app
        .post(
            &members_path(ws),
            &writer,
            json!({"email": "dana@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(
        added.body["scopes"],
        json!(["apps:read"]),
        "no scopes means the product scopes the actor holds"
    );
    let dana = added.body["user_id"].as_str().unwrap().parse().unwrap();
    for scopes in [json!(["billing:read"]), json!(null)] {
        let r = app
            .patch(&member_path(ws, dana), &writer, json!({"scopes": scopes}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "insufficient_scope"),
            "{scopes}: {}",
            r.text
        );
    }
    let full = app
        .patch(&member_path(ws, dana), &owner.key, json!({"scopes": null}))
        .await;
    assert_eq!(full.status, StatusCode::OK, "full access may reset scopes");
    assert_eq!(full.body["scopes"], json!(null));
}

#[tokio::test]
async fn turning_on_members_can_create_keys_needs_full_access() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let settings = app.scoped_key(&owner, &["workspace:write"]).await;
    let path = format!("/api/v1/workspaces/{ws}");
    let r = app
        .patch(&path, &settings, json!({"members_can_create_keys": true}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope"),
        "{}",
        r.text
    );
    assert_eq!(
        app.get(&path, &owner.key).await.body["members_can_create_keys"],
        false
    );
    let rename = app
        .patch(&path, &settings, json!({"name": "Renamed"}))
        .await;
    assert_eq!(rename.status, StatusCode::OK, "{}", rename.text);
    let r = app
        .patch(&path, &owner.key, json!({"members_can_create_keys": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn removing_a_member_revokes_every_key_they_made_there_and_only_there() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let token = app.service_token().await;
    let (admin, admin_key) = app.member(ws, Role::Admin, true).await;
    let made = app
        .post(
            &crate::support::keys_path(ws),
            &admin_key,
            json!({"name": "made by the admin"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let made_key = made.body["key"].as_str().unwrap().to_owned();

    // The same user in another workspace keeps its keys there.
    let elsewhere = app.owner().await;
    let op = app.service.operator(elsewhere.workspace_id).await.unwrap();
    let input = NewMember {
        email: admin.email.clone(),
        role: "admin".into(),
        scopes: None,
    };
    app.service.add_member(&op, input).await.unwrap();
    let elsewhere_key = app.key_for(&admin, elsewhere.workspace_id, None).await;

    let removed = app.delete(&member_path(ws, admin.id), &owner.key).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    for secret in [&admin_key, &made_key] {
        assert_eq!(app.verify_code(&token, secret, None).await, "REVOKED");
    }
    assert_eq!(app.verify_code(&token, &elsewhere_key, None).await, "VALID");

    // The removed admin's key cannot put its user back.
    let back = app
        .post(
            &members_path(ws),
            &admin_key,
            json!({"email": admin.email, "role": "admin"}),
        )
        .await;
    assert_eq!(back.status, StatusCode::UNAUTHORIZED, "{}", back.text);

    let events = app
        .get(
            &format!("/api/v1/workspaces/{ws}/audit-events?action=api_key.revoked"),
            &owner.key,
        )
        .await;
    let events = events.body.as_array().unwrap();
    assert_eq!(events.len(), 2, "one event per revoked key: {events:?}");
    for e in events {
        assert_eq!(e["details"]["reason"], "member_removed", "{e}");
        assert_eq!(e["actor"]["type"], "api_key");
    }
    let removal = app
        .get(
            &format!("/api/v1/workspaces/{ws}/audit-events?action=member.removed"),
            &owner.key,
        )
        .await;
    assert_eq!(
        removal.body[0]["details"]["revoked_keys"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{}",
        removal.text
    );
}

#[tokio::test]
async fn the_revoke_keys_query_parameter_is_gone_and_is_refused_rather_than_ignored() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (member, member_key) = app.member(ws, Role::Member, true).await;
    let r = app
        .delete(
            &format!("{}?revoke_keys=false", member_path(ws, member.id)),
            &owner.key,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "{}",
        r.text
    );
    assert_eq!(
        app.get("/api/v1/users/current", &member_key).await.status,
        StatusCode::OK,
        "the member and its key are untouched"
    );
}
