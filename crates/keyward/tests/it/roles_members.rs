//! PRODUCT.md §3–§4: the members endpoints, workspace settings, and the session cookie path.

use keyward_core::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{keys_path, reply, Reply, TestApp};

fn members_path(ws: Uuid) -> String {
    format!("/api/v1/workspaces/{ws}/members")
}

fn member_path(ws: Uuid, user: Uuid) -> String {
    format!("/api/v1/workspaces/{ws}/members/{user}")
}

/// A request with the console's session cookie, and optionally its CSRF token and workspace.
async fn with_session(
    app: &TestApp,
    method: Method,
    path: &str,
    (cookie, csrf): (&str, Option<&str>),
    workspace: Option<Uuid>,
    body: Option<Value>,
) -> Reply {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("Cookie", format!("keyward_session={cookie}"));
    if let Some(csrf) = csrf {
        req = req.header("X-CSRF-Token", csrf);
    }
    if let Some(ws) = workspace {
        req = req.header("X-Workspace-ID", ws.to_string());
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    reply(req.send().await.unwrap()).await
}

#[tokio::test]
async fn members_are_added_by_email_once_and_emails_without_an_account_are_invited() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let user = app.user("dana@example.com", true).await;
    let body = json!({"email": "dana@example.com", "role": "admin"});
    let added = app.post(&members_path(ws), &owner.key, body.clone()).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["user_id"], json!(user.id));
    assert_eq!(added.body["role"], "admin");

    let again = app.post(&members_path(ws), &owner.key, body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.code(), "conflict");

    let unknown = app
        .post(
            &members_path(ws),
            &owner.key,
            json!({"email": "nobody@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED, "{}", unknown.text);
    assert_eq!(unknown.body["email"], "nobody@example.com");

    let list = app.get(&members_path(ws), &owner.key).await;
    assert_eq!(
        list.body.as_array().unwrap().len(),
        2,
        "invited is not a member yet"
    );
}

#[tokio::test]
async fn an_admin_cannot_make_change_or_remove_owners() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (_, admin) = app.member(ws, Role::Admin, true).await;
    let (member, _) = app.member(ws, Role::Member, true).await;
    app.user("erin@example.com", true).await;

    let attempts = [
        (
            Method::POST,
            members_path(ws),
            Some(json!({"email": "erin@example.com", "role": "owner"})),
        ),
        (
            Method::PATCH,
            member_path(ws, member.id),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::PATCH,
            member_path(ws, owner.user.id),
            Some(json!({"role": "member"})),
        ),
        (Method::DELETE, member_path(ws, owner.user.id), None),
    ];
    app.assert_each_refused(&admin, attempts, (StatusCode::FORBIDDEN, "forbidden"))
        .await;
    let r = app
        .patch(
            &member_path(ws, member.id),
            &admin,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "an admin manages non-owners: {}",
        r.text
    );
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_or_removed() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let me = member_path(ws, owner.user.id);
    let demote = app.patch(&me, &owner.key, json!({"role": "admin"})).await;
    assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.text);
    assert_eq!(demote.code(), "conflict");
    let remove = app.delete(&me, &owner.key).await;
    assert_eq!(remove.status, StatusCode::CONFLICT, "{}", remove.text);
    assert_eq!(remove.code(), "conflict");

    let (second, _) = app.member(ws, Role::Owner, true).await;
    let r = app.patch(&me, &owner.key, json!({"role": "admin"})).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "with two owners one may step down: {}",
        r.text
    );
    let r = app.delete(&member_path(ws, second.id), &owner.key).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "now the last owner: {}",
        r.text
    );
}

#[tokio::test]
async fn removing_a_member_revokes_its_keys_and_every_change_is_audited() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (member, member_key) = app.member(ws, Role::Member, true).await;
    let r = app
        .patch(
            &member_path(ws, member.id),
            &owner.key,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.delete(&member_path(ws, member.id), &owner.key).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let me = app.get("/api/v1/users/current", &member_key).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let list = app.get(&members_path(ws), &owner.key).await;
    assert!(!list.text.contains(&member.id.to_string()), "{}", list.text);

    for action in ["member.added", "member.updated", "member.removed"] {
        let events = app
            .get(
                &format!(
                    "/api/v1/workspaces/{ws}/audit-events?action={action}&target_id={}",
                    member.id
                ),
                &owner.key,
            )
            .await;
        assert_eq!(events.status, StatusCode::OK, "{}", events.text);
        let events = events.body.as_array().unwrap();
        assert_eq!(events.len(), 1, "{action}");
        assert_eq!(events[0]["target"]["id"], json!(member.id));
    }
}

#[tokio::test]
async fn workspace_settings_need_workspace_write_and_new_keys_take_the_new_prefix() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let path = format!("/api/v1/workspaces/{ws}");
    let (_, member) = app.member(ws, Role::Member, true).await;
    let denied = app.patch(&path, &member, json!({"name": "Mine"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.text);
    assert_eq!(denied.code(), "insufficient_scope");

    let r = app
        .patch(
            &path,
            &owner.key,
            json!({"name": "Acme Prod", "key_prefix": "sk_live_"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Acme Prod");
    assert_eq!(r.body["key_prefix"], "sk_live_");
    let created = app.create_key(&owner, json!({"name": "live"})).await;
    assert!(
        created.body["key"]
            .as_str()
            .unwrap()
            .starts_with("sk_live_"),
        "{}",
        created.text
    );
    assert_eq!(
        app.get("/api/v1/users/current", &owner.key).await.status,
        StatusCode::OK,
        "keys with the old prefix keep working"
    );

    let bad = app
        .patch(&path, &owner.key, json!({"key_prefix": "SK-live"}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.body["error"]["details"][0]["field"], "key_prefix");
    assert_eq!(
        app.get(&path, &owner.key).await.body["key_prefix"],
        "sk_live_"
    );
}

#[tokio::test]
async fn a_session_needs_its_csrf_token_to_change_state_but_not_to_read() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (cookie, csrf) = app.session(&owner.user).await;
    let keys = keys_path(owner.workspace_id);

    let me = with_session(
        &app,
        Method::GET,
        "/api/v1/users/current",
        (&cookie, None),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["auth"]["type"], "session");
    let list = with_session(&app, Method::GET, &keys, (&cookie, None), None, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);

    let body = Some(json!({"name": "from the console"}));
    let no_csrf = with_session(
        &app,
        Method::POST,
        &keys,
        (&cookie, None),
        None,
        body.clone(),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{}", no_csrf.text);
    assert_eq!(no_csrf.code(), "csrf_failed");
    let wrong = with_session(
        &app,
        Method::POST,
        &keys,
        (&cookie, Some("nope")),
        None,
        body.clone(),
    )
    .await;
    assert_eq!(wrong.code(), "csrf_failed", "{}", wrong.text);
    let ok = with_session(
        &app,
        Method::POST,
        &keys,
        (&cookie, Some(&csrf)),
        None,
        body,
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(ok.body["scopes"], json!(["*"]));
}

#[tokio::test]
async fn with_a_session_in_several_workspaces_the_alias_uses_x_workspace_id() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (cookie, csrf) = app.session(&owner.user).await;
    let alias = "/api/v1/api-keys";

    let only = with_session(&app, Method::GET, alias, (&cookie, None), None, None).await;
    assert_eq!(
        only.status,
        StatusCode::OK,
        "one workspace needs no header: {}",
        only.text
    );
    assert_eq!(only.body.as_array().unwrap().len(), 1);

    let second = with_session(
        &app,
        Method::POST,
        "/api/v1/workspaces",
        (&cookie, Some(&csrf)),
        None,
        Some(json!({"name": "Second"})),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let second: Uuid = second.body["id"].as_str().unwrap().parse().unwrap();

    let ambiguous = with_session(&app, Method::GET, alias, (&cookie, None), None, None).await;
    assert_eq!(
        ambiguous.status,
        StatusCode::BAD_REQUEST,
        "{}",
        ambiguous.text
    );

    let created = with_session(
        &app,
        Method::POST,
        alias,
        (&cookie, Some(&csrf)),
        Some(second),
        Some(json!({"name": "in second"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["workspace_id"], json!(second));
    for (ws, name) in [(owner.workspace_id, "test key"), (second, "in second")] {
        let list = with_session(&app, Method::GET, alias, (&cookie, None), Some(ws), None).await;
        let list = list.body.as_array().unwrap();
        assert_eq!(list.len(), 1, "{ws}");
        assert_eq!(list[0]["name"], name);
    }
}
