//! PRODUCT.md §3: default scopes per role, full access, scope matching, no escalation,
//! snapshots of the creator's scopes, what members may do, and the verified-email rule.

use keyward_core::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{key_path, keys_path, TestApp};

/// What a member holds by default: the base management scopes plus every product scope.
const MEMBER_DEFAULT: [&str; 7] = [
    "api_keys:read",
    "apps:deploy",
    "apps:read",
    "audit:read",
    "billing:read",
    "members:read",
    "workspace:read",
];

async fn key_id(app: &TestApp, secret: &str) -> String {
    let me = app.get("/api/v1/users/current", secret).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    me.body["auth"]["key_id"].as_str().unwrap().to_owned()
}

async fn verify_code(app: &TestApp, token: &str, key: &str, scope: &str) -> String {
    let r = app.verify(token, key, Some(&[scope])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn owners_and_admins_default_to_full_access_and_members_to_their_own_list() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (_, admin_key) = app.member(ws, Role::Admin, true).await;
    let (_, member_key) = app.member(ws, Role::Member, true).await;

    for actor in [&owner.key, &admin_key] {
        let created = app.post(&keys_path(ws), actor, json!({"name": "d"})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["scopes"], json!(["*"]));
        assert_eq!(created.body["access"], "full");
    }
    let id = key_id(&app, &member_key).await;
    let member = app.get(&key_path(ws, &id), &owner.key).await;
    assert_eq!(member.body["scopes"], json!(MEMBER_DEFAULT));
    assert_eq!(member.body["access"], "custom");
}

#[tokio::test]
async fn full_access_includes_scopes_the_operator_adds_later() {
    let mut first = TestApp::spawn().await;
    let owner = first.owner().await;
    let custom = first
        .create_key(&owner, json!({"name": "c", "scopes": ["apps:read"]}))
        .await;
    let custom = custom.body["key"].as_str().unwrap().to_owned();
    first.stop().await;

    let data_dir = first.dir.path().to_path_buf();
    let second = TestApp::spawn_with(|c| {
        c.data_dir = data_dir;
        c.scopes.push("reports:export".into());
    })
    .await;
    assert_eq!(second.config.data_dir, first.config.data_dir, "same store");
    let token = second.service_token().await;
    assert_eq!(
        verify_code(&second, &token, &owner.key, "reports:export").await,
        "VALID"
    );
    assert_eq!(
        verify_code(&second, &token, &custom, "reports:export").await,
        "INSUFFICIENT_SCOPE"
    );
    assert_eq!(
        verify_code(&second, &token, &custom, "apps:read").await,
        "VALID"
    );
}

#[tokio::test]
async fn a_scope_grants_its_extensions_on_a_colon_boundary_but_not_its_parent() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let cases = [
        ("apps", "apps:deploy", "VALID"),
        ("apps:deploy", "apps:deploy:app-42", "VALID"),
        ("apps:deploy:app-42", "apps:deploy", "INSUFFICIENT_SCOPE"),
        (
            "apps:deploy:app-42",
            "apps:deploy:app-43",
            "INSUFFICIENT_SCOPE",
        ),
        ("apps:deploy", "apps:read", "INSUFFICIENT_SCOPE"),
    ];
    for (held, required, expected) in cases {
        let created = app
            .create_key(&owner, json!({"name": held, "scopes": [held]}))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let secret = created.body["key"].as_str().unwrap();
        assert_eq!(
            verify_code(&app, &token, secret, required).await,
            expected,
            "{held} grants {required}?"
        );
    }
}

#[tokio::test]
async fn a_key_cannot_give_a_key_scopes_it_does_not_hold_on_create_or_edit() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let narrow = app
        .create_key(
            &owner,
            json!({"name": "n", "scopes": ["apps:read", "api_keys:write"]}),
        )
        .await;
    let narrow = narrow.body["key"].as_str().unwrap().to_owned();
    for scopes in [json!(["apps:deploy"]), json!(["*"])] {
        let r = app
            .post(
                &keys_path(ws),
                &narrow,
                json!({"name": "x", "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{scopes}: {}", r.text);
        assert_eq!(r.code(), "insufficient_scope");
    }
    let ok = app
        .post(
            &keys_path(ws),
            &narrow,
            json!({"name": "x", "scopes": ["apps:read"]}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let defaulted = app
        .post(&keys_path(ws), &narrow, json!({"name": "d"}))
        .await;
    assert_eq!(
        defaulted.body["scopes"],
        json!(["api_keys:write", "apps:read"]),
        "no scopes means what the actor holds"
    );

    let path = key_path(ws, ok.body["id"].as_str().unwrap());
    for scopes in [json!(["apps:deploy"]), json!(["*"])] {
        let r = app.patch(&path, &narrow, json!({"scopes": scopes})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{scopes}: {}", r.text);
        assert_eq!(r.code(), "insufficient_scope");
    }
    assert_eq!(
        app.get(&path, &owner.key).await.body["scopes"],
        json!(["apps:read"])
    );
    let r = app
        .patch(&path, &narrow, json!({"scopes": ["apps:read"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_key_without_api_keys_write_cannot_create_keys() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let reader = app
        .create_key(
            &owner,
            json!({"name": "r", "scopes": ["api_keys:read", "apps:read"]}),
        )
        .await;
    let reader = reader.body["key"].as_str().unwrap();
    let r = app
        .post(&keys_path(owner.workspace_id), reader, json!({"name": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.code(), "insufficient_scope");
}

#[tokio::test]
async fn a_key_keeps_its_creators_scopes_as_they_were_when_it_was_created() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let token = app.service_token().await;
    let (user, wide_key) = app.member(ws, Role::Member, true).await;
    let member_path = format!("/api/v1/workspaces/{ws}/members/{}", user.id);

    // Narrowing the member does not narrow the key made before.
    let r = app
        .patch(&member_path, &owner.key, json!({"scopes": ["apps:read"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["scopes"], json!(["apps:read"]));
    for scope in ["apps:deploy", "billing:read"] {
        assert_eq!(verify_code(&app, &token, &wide_key, scope).await, "VALID");
    }

    // A key made now holds the narrowed list, and widening the member later does not widen it,
    // nor does an owner giving the key `*`.
    let narrow_key = app.key_for(&user, ws, None).await;
    let r = app
        .patch(&member_path, &owner.key, json!({"scopes": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["scopes"], json!(null));
    let id = key_id(&app, &narrow_key).await;
    let r = app
        .patch(&key_path(ws, &id), &owner.key, json!({"scopes": ["*"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let verdict = app
        .verify(&token, &narrow_key, Some(&["billing:read"]))
        .await;
    assert_eq!(verdict.body["code"], "INSUFFICIENT_SCOPE");
    assert!(
        !verdict.body["key"]["scopes"]
            .to_string()
            .contains("billing"),
        "{}",
        verdict.text
    );
    assert_eq!(
        verify_code(&app, &token, &narrow_key, "apps:read").await,
        "VALID"
    );

    // A demoted admin's full-access key keeps full access.
    let (admin, admin_key) = app.member(ws, Role::Admin, true).await;
    let r = app
        .patch(
            &format!("/api/v1/workspaces/{ws}/members/{}", admin.id),
            &owner.key,
            json!({"role": "member", "scopes": ["apps:read"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        verify_code(&app, &token, &admin_key, "billing:read").await,
        "VALID"
    );
}

#[tokio::test]
async fn members_list_keys_but_cannot_write_them_by_default() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let (_, member) = app.member(ws, Role::Member, true).await;
    let list = app.get(&keys_path(ws), &member).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body.as_array().unwrap().len(),
        2,
        "every key, read-only"
    );

    let id = key_id(&app, &owner.key).await;
    let path = key_path(ws, &id);
    let attempts = [
        (Method::POST, keys_path(ws), Some(json!({"name": "x"}))),
        (Method::PATCH, path.clone(), Some(json!({"name": "x"}))),
        (Method::POST, format!("{path}/revoke"), None),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/rotate"), None),
    ];
    app.assert_each_refused(
        &member,
        attempts,
        (StatusCode::FORBIDDEN, "insufficient_scope"),
    )
    .await;
    assert_eq!(app.get(&path, &owner.key).await.body["status"], "active");
}

#[tokio::test]
async fn with_members_can_create_keys_a_member_sees_and_manages_only_its_own_keys() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ws = owner.workspace_id;
    let r = app
        .patch(
            &format!("/api/v1/workspaces/{ws}"),
            &owner.key,
            json!({"members_can_create_keys": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["members_can_create_keys"], true);
    let (_, member) = app.member(ws, Role::Member, true).await;
    let (_, admin) = app.member(ws, Role::Admin, true).await;

    let created = app
        .post(&keys_path(ws), &member, json!({"name": "mine"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let mine = key_path(ws, created.body["id"].as_str().unwrap());
    let listed = app.get(&keys_path(ws), &member).await;
    let own_id = key_id(&app, &member).await;
    let mut ids: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![own_id.as_str(), created.body["id"].as_str().unwrap()];
    expected.sort();
    assert_eq!(ids, expected, "a member lists only its own keys");
    let r = app.patch(&mine, &member, json!({"name": "renamed"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let theirs = key_path(ws, &key_id(&app, &owner.key).await);
    let attempts = [
        (Method::GET, theirs.clone(), None),
        (Method::PATCH, theirs.clone(), Some(json!({"name": "x"}))),
        (Method::POST, format!("{theirs}/revoke"), None),
        (Method::DELETE, theirs.clone(), None),
    ];
    app.assert_each_refused(&member, attempts, (StatusCode::NOT_FOUND, "not_found"))
        .await;
    for actor in [&owner.key, &admin] {
        let all = app.get(&keys_path(ws), actor).await;
        assert_eq!(all.body.as_array().unwrap().len(), 4, "{}", all.text);
        assert_eq!(app.get(&mine, actor).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn an_unverified_user_cannot_write_keys_whatever_the_role_but_can_read() {
    let app = TestApp::spawn().await;
    let owner = app.owner_with(false).await;
    let ws = owner.workspace_id;
    let r = app
        .patch(
            &format!("/api/v1/workspaces/{ws}"),
            &owner.key,
            json!({"members_can_create_keys": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (_, admin) = app.member(ws, Role::Admin, false).await;
    let (_, member) = app.member(ws, Role::Member, false).await;
    for actor in [&owner.key, &admin, &member] {
        let r = app.post(&keys_path(ws), actor, json!({"name": "x"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(r.code(), "email_unverified");
        assert_eq!(app.get(&keys_path(ws), actor).await.status, StatusCode::OK);
    }
    let own = key_path(ws, &key_id(&app, &owner.key).await);
    let attempts = [
        (Method::PATCH, own.clone(), Some(json!({"name": "x"}))),
        (Method::POST, format!("{own}/rotate"), None),
        (Method::POST, format!("{own}/revoke"), None),
        (Method::DELETE, own.clone(), None),
    ];
    app.assert_each_refused(
        &owner.key,
        attempts,
        (StatusCode::FORBIDDEN, "email_unverified"),
    )
    .await;
}
