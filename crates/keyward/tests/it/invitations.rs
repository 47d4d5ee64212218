//! Issue 12 §3: adding someone with no account invites them. The emailed link works once,
//! for seven days, leads to sign-up, and joins the workspace in the invited role; pending
//! invitations are listed, can be withdrawn, and are audited.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::accounts::{token_of, PASSWORD};
use crate::support::{members_path, TestApp};

fn invitations_path(ws: Uuid) -> String {
    format!("/api/v1/workspaces/{ws}/invitations")
}

async fn accept_by_signup(app: &TestApp, email: &str, token: &str) -> crate::support::Reply {
    let body = json!({"email": email, "password": PASSWORD, "name": "Invitee",
                      "invitation_token": token});
    app.call(Method::POST, "/api/v1/auth/signup", None, Some(body))
        .await
}

#[tokio::test]
async fn an_unknown_email_is_invited_and_joins_with_the_invited_role_through_sign_up() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let invited = app
        .post(
            &members_path(ws),
            &owner.key,
            json!({"email": "New@Example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(invited.status, StatusCode::ACCEPTED, "{}", invited.text);
    assert_eq!(invited.body["email"], "new@example.com");
    assert_eq!(invited.body["role"], "admin");

    let pending = app.get(&invitations_path(ws), &owner.key).await;
    assert_eq!(
        pending.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        pending.text
    );
    let audit = app
        .get(
            &format!("/api/v1/workspaces/{ws}/audit-events?action=member.invited"),
            &owner.key,
        )
        .await;
    assert_eq!(
        audit.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        audit.text
    );

    let link = app.last_link("/invitations/accept");
    let token = token_of(&link);
    let joined = accept_by_signup(&app, "new@example.com", &token).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.text);
    assert_eq!(
        joined.body["email_verified"], true,
        "the link proved the address"
    );

    let members = app.get(&members_path(ws), &owner.key).await;
    let admin = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "new@example.com")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(admin["role"], "admin", "{}", members.text);

    let added = app
        .get(
            &format!("/api/v1/workspaces/{ws}/audit-events?action=member.added"),
            &owner.key,
        )
        .await;
    let event = &added.body[0];
    assert_eq!(event["actor"]["type"], "user", "{}", added.text);
    assert_eq!(event["target"]["id"], joined.body["id"], "{}", added.text);
    assert_eq!(
        event["details"]["invitation_id"], invited.body["id"],
        "{}",
        added.text
    );

    // The link worked once, and the invitation is no longer pending.
    let again = accept_by_signup(&app, "other@example.com", &token).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    let pending = app.get(&invitations_path(ws), &owner.key).await;
    assert_eq!(pending.body, json!([]));

    // The new admin has no workspace of its own: only the one it was invited to.
    let s = app.logged_in("new@example.com").await;
    let mine = app
        .as_session(&s, Method::GET, "/api/v1/workspaces", None, false)
        .await;
    assert_eq!(mine.body.as_array().map(Vec::len), Some(1), "{}", mine.text);
}

#[tokio::test]
async fn an_invitation_joins_only_the_address_it_was_sent_to() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.post(
        &members_path(owner.workspace_id),
        &owner.key,
        json!({"email": "right@example.com", "role": "member"}),
    )
    .await;
    let token = token_of(&app.last_link("/invitations/accept"));
    let wrong = accept_by_signup(&app, "wrong@example.com", &token).await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    let login = app.login("wrong@example.com", PASSWORD).await;
    assert_eq!(
        login.status,
        StatusCode::UNAUTHORIZED,
        "no account was left behind"
    );
}

#[tokio::test]
async fn a_withdrawn_invitation_no_longer_works_and_withdrawal_is_audited() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let inv = app
        .post(
            &members_path(ws),
            &owner.key,
            json!({"email": "maybe@example.com", "role": "member"}),
        )
        .await;
    let id = inv.body["id"].as_str().unwrap().to_owned();
    let twice = app
        .post(
            &members_path(ws),
            &owner.key,
            json!({"email": "maybe@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::CONFLICT,
        "one pending invitation per email"
    );

    let gone = app
        .delete(&format!("{}/{id}", invitations_path(ws)), &owner.key)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let again = app
        .delete(&format!("{}/{id}", invitations_path(ws)), &owner.key)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let token = token_of(&app.last_link("/invitations/accept"));
    let r = accept_by_signup(&app, "maybe@example.com", &token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let audit = app
        .get(
            &format!("/api/v1/workspaces/{ws}/audit-events?action=member.invitation_withdrawn"),
            &owner.key,
        )
        .await;
    assert_eq!(
        audit.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        audit.text
    );
}

#[tokio::test]
async fn an_invitation_expires_after_seven_days() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.post(
        &members_path(owner.workspace_id),
        &owner.key,
        json!({"email": "slow@example.com", "role": "member"}),
    )
    .await;
    let token = token_of(&app.last_link("/invitations/accept"));
    let db = app.db().await;
    let (created, expires): (i64, i64) =
        sqlx::query_as("SELECT created_at, expires_at FROM invitations")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(expires - created, 7 * 24 * 3600 * 1000);
    sqlx::query("UPDATE invitations SET expires_at = created_at")
        .execute(&db)
        .await
        .unwrap();
    let r = accept_by_signup(&app, "slow@example.com", &token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

#[tokio::test]
async fn invitations_follow_the_rules_of_adding_members() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (_, admin_key) = app.member(ws, keyward_core::model::Role::Admin, true).await;
    let (_, member_key) = app
        .member(ws, keyward_core::model::Role::Member, true)
        .await;

    let by_member = app
        .post(
            &members_path(ws),
            &member_key,
            json!({"email": "x@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(
        by_member.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_member.text
    );
    let owner_by_admin = app
        .post(
            &members_path(ws),
            &admin_key,
            json!({"email": "boss@example.com", "role": "owner"}),
        )
        .await;
    assert_eq!(
        owner_by_admin.status,
        StatusCode::FORBIDDEN,
        "{}",
        owner_by_admin.text
    );
    let narrow = app
        .scoped_key(&owner, &["members:write", "members:read"])
        .await;
    let admin_by_narrow = app
        .post(
            &members_path(ws),
            &narrow,
            json!({"email": "adm@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(
        admin_by_narrow.status,
        StatusCode::FORBIDDEN,
        "{}",
        admin_by_narrow.text
    );
    assert!(app.outbox_links("/invitations/accept").is_empty());
    // Members may see who is invited, but not withdraw; an admin cannot withdraw an owner's
    // invitation, which it could not have sent.
    let by_owner = app
        .post(
            &members_path(ws),
            &owner.key,
            json!({"email": "co-owner@example.com", "role": "owner"}),
        )
        .await;
    assert_eq!(by_owner.status, StatusCode::ACCEPTED, "{}", by_owner.text);
    let withdraw = format!(
        "{}/{}",
        invitations_path(ws),
        by_owner.body["id"].as_str().unwrap()
    );
    let list = app.get(&invitations_path(ws), &member_key).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().map(Vec::len), Some(1), "{}", list.text);
    let member_withdraws = app.delete(&withdraw, &member_key).await;
    assert_eq!(
        member_withdraws.status,
        StatusCode::FORBIDDEN,
        "{}",
        member_withdraws.text
    );
    let admin_withdraws = app.delete(&withdraw, &admin_key).await;
    assert_eq!(
        admin_withdraws.status,
        StatusCode::FORBIDDEN,
        "{}",
        admin_withdraws.text
    );
    let still = app.get(&invitations_path(ws), &owner.key).await;
    assert_eq!(
        still.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        still.text
    );
}

#[tokio::test]
async fn an_invitation_from_someone_removed_since_is_void() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (admin, admin_key) = app.member(ws, keyward_core::model::Role::Admin, true).await;
    let r = app
        .post(
            &members_path(ws),
            &admin_key,
            json!({"email": "friend@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let token = token_of(&app.last_link("/invitations/accept"));
    let removed = app
        .delete(&format!("{}/{}", members_path(ws), admin.id), &owner.key)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let r = accept_by_signup(&app, "friend@example.com", &token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let members = app.get(&members_path(ws), &owner.key).await;
    assert!(!members.text.contains("friend@example.com"));
}

#[tokio::test]
async fn an_existing_account_accepts_an_invitation_with_its_session() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    app.post(
        &members_path(ws),
        &owner.key,
        json!({"email": "late@example.com", "role": "member"}),
    )
    .await;
    let token = token_of(&app.last_link("/invitations/accept"));
    // The invitee signed up on their own in the meantime.
    app.signup("late@example.com", "Late").await;
    let s = app.logged_in("late@example.com").await;
    let no_csrf = app
        .as_session(
            &s,
            Method::POST,
            "/api/v1/auth/accept-invitation",
            Some(json!({ "token": token })),
            false,
        )
        .await;
    assert_eq!(no_csrf.code(), "csrf_failed");
    let r = app
        .as_session(
            &s,
            Method::POST,
            "/api/v1/auth/accept-invitation",
            Some(json!({ "token": token })),
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], json!(ws));
    assert_eq!(r.body["role"], "member");
}

#[tokio::test]
async fn sign_up_closed_still_admits_invited_people() {
    let app = TestApp::spawn_with(|c| c.allow_signup = false).await;
    let owner = app.owner().await;
    app.post(
        &members_path(owner.workspace_id),
        &owner.key,
        json!({"email": "guest@example.com", "role": "member"}),
    )
    .await;
    let token = token_of(&app.last_link("/invitations/accept"));
    let r = accept_by_signup(&app, "guest@example.com", &token).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
