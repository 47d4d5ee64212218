//! The Skillett profile: each request `seeds/skillett-api-keys.txt` documents (it shows
//! requests and responses rather than curl lines), by session and by Bearer key, against a
//! server with `compat = ["skillett"]` and keys prefixed `sk_`: the fields of each answer,
//! `key_…` ids, the plan limit of the free plan, and the `{"error", "message"}` shape.

use keyward_core::model::Role;
use keyward_core::service::{NewUser, UserWorkspace};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::accounts::Session;
use crate::support::doc::{fields, sorted};
use crate::support::{Reply, TestApp};

/// The fields of a key in `GET /api-keys`.
const LISTED: [&str; 8] = [
    "id",
    "name",
    "key_prefix",
    "scopes",
    "last_used_at",
    "expires_at",
    "revoked_at",
    "created_at",
];

/// The fields of `api_key` in the answer to `POST /api-keys`.
const CREATED: [&str; 6] = [
    "id",
    "name",
    "key_prefix",
    "scopes",
    "expires_at",
    "created_at",
];

async fn skillett(plan: &str) -> TestApp {
    let plan = plan.to_owned();
    TestApp::spawn_with(move |c| {
        c.compat = vec!["skillett".into()];
        c.default_key_prefix = "sk_".into();
        c.default_plan = plan;
    })
    .await
}

/// A verified owner of a new workspace, with a console session and no key yet.
async fn dashboard_user(app: &TestApp) -> Session {
    let input = NewUser {
        email: format!("chef-{}@example.com", uuid::Uuid::now_v7().simple()),
        name: Some("Chef".into()),
        password: None,
        verified: true,
        workspace: Some(UserWorkspace::New("Kitchen".into())),
        role: Role::Owner,
    };
    let (user, _) = app.service.create_user(input).await.unwrap();
    let (cookie, csrf) = app.session(&user).await;
    Session { cookie, csrf }
}

fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(fields(&r.body), sorted(&["error", "message"]), "{}", r.text);
    assert_eq!(r.body["error"], code);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn is_wire_id(id: &Value) -> bool {
    id.as_str()
        .and_then(|s| s.strip_prefix("key_"))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_request_works_by_session_and_by_bearer_key() {
    let app = skillett("pro").await;
    let session = dashboard_user(&app).await;

    // POST /api-keys {"name": "Production"} from the dashboard (session + CSRF).
    let created = app
        .as_session(
            &session,
            Method::POST,
            "/api-keys",
            Some(json!({"name": "Production"})),
            true,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(fields(&created.body), sorted(&["api_key", "full_key"]));
    let api_key = &created.body["api_key"];
    assert_eq!(fields(api_key), sorted(&CREATED));
    assert!(is_wire_id(&api_key["id"]), "{}", api_key["id"]);
    assert_eq!(api_key["name"], "Production");
    assert_eq!(api_key["scopes"], json!(["*"]), "scopes default to [\"*\"]");
    assert!(api_key["expires_at"].is_null());
    let full_key = created.body["full_key"].as_str().unwrap().to_owned();
    assert!(full_key.starts_with("sk_"), "{full_key}");
    assert!(full_key.starts_with(api_key["key_prefix"].as_str().unwrap()));

    // GET /api-keys with the new key as a Bearer token: the fields the doc lists, no hash.
    let listed = app.get("/api-keys", &full_key).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let rows = listed.body.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(fields(&rows[0]), sorted(&LISTED));
    assert_eq!(rows[0]["id"], api_key["id"]);
    assert!(rows[0]["revoked_at"].is_null());
    assert!(!listed.text.contains(&full_key));

    // A second key made with the Bearer key, with narrower scopes.
    let second = app
        .post(
            "/api-keys",
            &full_key,
            json!({"name": "Reports", "scopes": ["billing:read"]}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.body["api_key"]["scopes"], json!(["billing:read"]));
    let second_key = second.body["full_key"].as_str().unwrap().to_owned();
    let second_id = second.body["api_key"]["id"].as_str().unwrap().to_owned();

    // DELETE /api-keys/:id: 204, a soft delete: still listed, with revoked_at; unusable.
    let deleted = app
        .as_session(
            &session,
            Method::DELETE,
            &format!("/api-keys/{second_id}"),
            None,
            true,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let listed = app.get("/api-keys", &full_key).await;
    let row = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == second_id.as_str())
        .cloned()
        .unwrap();
    assert!(row["revoked_at"].is_string());
    let after = app.get("/api-keys", &second_key).await;
    assert_error(&after, StatusCode::UNAUTHORIZED, "unauthorized");

    // The same key on the native API: revoked, not deleted.
    let native = app.get("/api/v1/api-keys", &full_key).await;
    let native_row = native
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Reports")
        .cloned()
        .unwrap();
    assert_eq!(native_row["status"], "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_plan_allows_one_key_then_403_plan_limit_reached() {
    let app = skillett("free").await;
    let session = dashboard_user(&app).await;
    let create = |name: &'static str| {
        app.as_session(
            &session,
            Method::POST,
            "/api-keys",
            Some(json!({ "name": name })),
            true,
        )
    };
    assert_eq!(create("Production").await.status, StatusCode::CREATED);
    let refused = create("Staging").await;
    assert_error(&refused, StatusCode::FORBIDDEN, "plan_limit_reached");

    // Revoking the one key frees the plan's slot.
    let listed = app
        .as_session(&session, Method::GET, "/api-keys", None, false)
        .await;
    let id = listed.body[0]["id"].as_str().unwrap().to_owned();
    let r = app
        .as_session(
            &session,
            Method::DELETE,
            &format!("/api-keys/{id}"),
            None,
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(create("Staging").await.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_skillett_shaped_and_other_users_keys_are_404() {
    let app = skillett("pro").await;
    let owner = app.owner().await;
    let (_, admin_key) = app.member(owner.workspace_id, Role::Admin, true).await;

    // No credential: 401 {"error": "unauthorized", …}, with WWW-Authenticate.
    let r = app.call(Method::GET, "/api-keys", None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(r.headers.contains_key("www-authenticate"));

    // "Key not found or doesn't belong to user": the admin's key, an unknown id, a UUID and
    // a native id without `key_` are the same 404 to the owner, and nothing is revoked.
    let admins = app.get("/api-keys", &admin_key).await;
    let admin_id = admins.body[0]["id"].as_str().unwrap().to_owned();
    let uuid = admin_id.strip_prefix("key_").unwrap().to_owned();
    for path in [
        format!("/api-keys/{admin_id}"),
        format!("/api-keys/key_{}", uuid::Uuid::now_v7().simple()),
        format!("/api-keys/{}", uuid::Uuid::parse_str(&uuid).unwrap()),
        format!("/api-keys/{uuid}"),
        "/api-keys/key_abc123".to_owned(),
    ] {
        let r = app.delete(&path, &owner.key).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        app.get("/api/v1/users/current", &admin_key).await.status,
        StatusCode::OK
    );
    // Nor does a `key_…` id name a key on the native paths.
    let r = app
        .get(&format!("/api/v1/api-keys/{admin_id}"), &admin_key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A bad body, and a session without its CSRF token, in the same shape.
    let r = app.post("/api-keys", &owner.key, json!({"name": ""})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(r.body["message"].as_str().unwrap().contains("name"));
    let r = app.post("/api-keys", &owner.key, json!({"nme": "x"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let session = dashboard_user(&app).await;
    let r = app
        .as_session(
            &session,
            Method::POST,
            "/api-keys",
            Some(json!({"name": "x"})),
            false,
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "csrf_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_scopes_default_to_what_it_holds_and_never_exceed_it() {
    let app = skillett("pro").await;
    let owner = app.owner().await;
    app.set_members_can_create_keys(&owner, true).await;
    let (_, member_key) = app.member(owner.workspace_id, Role::Member, true).await;

    // Without scopes, a member's key gets what the member holds, not ["*"].
    let r = app
        .post("/api-keys", &member_key, json!({"name": "mine"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let scopes: Vec<String> = serde_json::from_value(r.body["api_key"]["scopes"].clone()).unwrap();
    assert!(!scopes.contains(&"*".to_owned()), "{scopes:?}");
    assert!(scopes.contains(&"apps:read".to_owned()), "{scopes:?}");

    // Asking for ["*"] is escalation.
    let r = app
        .post(
            "/api-keys",
            &member_key,
            json!({"name": "all", "scopes": ["*"]}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "insufficient_scope");

    // A member lists only its own keys here; the owner's are not among them.
    let listed = app.get("/api-keys", &member_key).await;
    let mut names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    names.sort();
    // The member's own two keys (the one the test harness gave it, and "mine"); the owner's
    // full-access key is not listed.
    assert_eq!(names, ["mine", "test key"]);
    assert!(listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["scopes"] != json!(["*"])));
}
