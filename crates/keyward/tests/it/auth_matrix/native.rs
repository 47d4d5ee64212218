//! The native API's management endpoints and the verify API in the authorization matrix,
//! and another workspace's key answering the very bytes a missing key does, but for the
//! request id.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{run, world, Endpoint, Needs, Surface};
use crate::support::{Reply, TestApp};

fn endpoints() -> Vec<Endpoint> {
    use Needs::*;
    let e = |method: Method, path: &'static str, body: Option<Value>, needs: Needs| {
        // §4's statuses: create is 201, adding a member who has no account invites: 202,
        // delete is 204, everything else 200.
        let ok = match method {
            Method::POST if path.ends_with("/members") => StatusCode::ACCEPTED,
            Method::POST if path.ends_with("/api-keys") => StatusCode::CREATED,
            Method::POST if path.ends_with("/workspaces") => StatusCode::CREATED,
            Method::POST if path.ends_with("/rotate") => StatusCode::CREATED,
            Method::DELETE => StatusCode::NO_CONTENT,
            _ => StatusCode::OK,
        };
        Endpoint::json(Surface::Api, method, path, body, needs, ok)
    };
    let name = || Some(json!({"name": "matrix"}));
    vec![
        e(Method::GET, "/api/v1/users/current", None, Anyone),
        e(
            Method::GET,
            "/api/v1/workspaces",
            None,
            Read("workspace:read"),
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}",
            None,
            Read("workspace:read"),
        ),
        e(Method::PATCH, "/api/v1/workspaces/{ws}", name(), AdminWrite),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/api-keys",
            None,
            Read("api_keys:read"),
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/api-keys",
            name(),
            KeyCreate,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            None,
            Read("api_keys:read"),
        ),
        e(
            Method::PATCH,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            name(),
            KeyWrite,
        ),
        e(
            Method::PUT,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            name(),
            KeyWrite,
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/api-keys/{key}/revoke",
            Some(json!({})),
            KeyRevoke,
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/api-keys/{key}/rotate",
            Some(json!({})),
            KeyWrite,
        ),
        e(
            Method::DELETE,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            None,
            KeyWrite,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/members",
            None,
            Read("members:read"),
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/members",
            Some(json!({"email": "new-{n}@example.com", "role": "member"})),
            AdminWrite,
        ),
        e(
            Method::PATCH,
            "/api/v1/workspaces/{ws}/members/{user}",
            Some(json!({"role": "admin"})),
            AdminWrite,
        ),
        e(
            Method::DELETE,
            "/api/v1/workspaces/{ws}/members/{user}",
            None,
            AdminWrite,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/invitations",
            None,
            Read("members:read"),
        ),
        e(
            Method::DELETE,
            "/api/v1/workspaces/{ws}/invitations/{inv}",
            None,
            AdminWrite,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/audit-events",
            None,
            Read("audit:read"),
        ),
        // §6: only a service token verifies keys.
        e(
            Method::POST,
            "/api/v1/keys/verify",
            Some(json!({"key": format!("kw_{}", "x".repeat(40))})),
            ServiceToken,
        ),
        // §4's alias: the same key endpoints on the caller's current workspace (a key's
        // own), so another workspace's key is named only by its id.
        e(Method::GET, "/api/v1/api-keys", None, Read("api_keys:read")),
        e(Method::POST, "/api/v1/api-keys", name(), KeyCreate),
        e(
            Method::GET,
            "/api/v1/api-keys/{key}",
            None,
            Read("api_keys:read"),
        ),
        e(Method::PATCH, "/api/v1/api-keys/{key}", name(), KeyWrite),
        e(Method::PUT, "/api/v1/api-keys/{key}", name(), KeyWrite),
        e(
            Method::POST,
            "/api/v1/api-keys/{key}/revoke",
            Some(json!({})),
            KeyRevoke,
        ),
        e(
            Method::POST,
            "/api/v1/api-keys/{key}/rotate",
            Some(json!({})),
            KeyWrite,
        ),
        e(Method::DELETE, "/api/v1/api-keys/{key}", None, KeyWrite),
        // Creating a workspace with a key needs full access (`*`), which owners' and
        // admins' keys hold; last, so no earlier cell sees a second workspace.
        e(Method::POST, "/api/v1/workspaces", name(), AdminWrite),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_endpoint_answers_every_kind_of_caller_as_the_table_says() {
    let app = TestApp::spawn_with(|c| c.max_keys_per_workspace = 10_000).await;
    let world = world(&app).await;
    let cells = run(&app, &world, &endpoints()).await;
    assert_eq!(cells, 29 * 11);
}

#[tokio::test]
async fn another_workspaces_key_is_the_same_bytes_as_a_missing_one_but_for_the_request_id() {
    let app = TestApp::spawn().await;
    let mine = app.owner().await;
    let theirs = app.owner().await;
    let their_key = app.key_id(&theirs.key).await;
    let strip = |r: &Reply| {
        let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        (r.status, r.text.replace(&id, "<request id>"))
    };
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"name": "x"}))),
        (Method::POST, "/revoke", Some(json!({}))),
        (Method::POST, "/rotate", Some(json!({}))),
        (Method::DELETE, "", None),
    ] {
        let path = |ws: Uuid, id: &str| format!("/api/v1/workspaces/{ws}/api-keys/{id}{suffix}");
        let missing = Uuid::now_v7().to_string();
        // Their key through my workspace, their key through theirs, and a key nobody has.
        let mut answers = Vec::new();
        for p in [
            path(mine.workspace_id, &their_key),
            path(theirs.workspace_id, &their_key),
            path(mine.workspace_id, &missing),
        ] {
            let r = app
                .call(method.clone(), &p, Some(&mine.key), body.clone())
                .await;
            answers.push(strip(&r));
        }
        assert_eq!(answers[0].0, StatusCode::NOT_FOUND, "{method} {suffix}");
        assert!(
            answers.iter().all(|a| a == &answers[0]),
            "{method} {suffix}: {answers:?}"
        );
    }
}
