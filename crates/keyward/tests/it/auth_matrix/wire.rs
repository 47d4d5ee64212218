//! Every wire profile's endpoints in the authorization matrix. §11: a profile is a thin
//! translation over the same service layer, so every rule of §3 and §7 holds unchanged;
//! the profiles that show each user only their own keys (simpledeploy, Skillett) answer
//! `404` for anyone else's key, whoever asks.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{run, world, Body, Endpoint, Needs, Surface};
use crate::support::TestApp;

fn endpoints() -> Vec<Endpoint> {
    use Needs::*;
    use Surface::{Api, OwnKeys};
    let e = Endpoint::json;
    let smplkit_name =
        || Some(json!({"data": {"type": "api_key", "attributes": {"name": "matrix {n}"}}}));
    let smplkit_edit = || {
        Some(
            json!({"data": {"type": "api_key", "id": "{key}", "attributes": {"name": "matrix {n}"}}}),
        )
    };
    let name = || Some(json!({"name": "matrix {n}"}));
    let mut all = vec![
        // smplkit: JSON:API over the caller's workspace.
        e(
            Api,
            Method::GET,
            "/api/v1/api_keys",
            None,
            Read("api_keys:read"),
            StatusCode::OK,
        ),
        e(
            Api,
            Method::POST,
            "/api/v1/api_keys",
            smplkit_name(),
            KeyCreate,
            StatusCode::CREATED,
        ),
        e(
            Api,
            Method::GET,
            "/api/v1/api_keys/{key}",
            None,
            Read("api_keys:read"),
            StatusCode::OK,
        ),
        e(
            Api,
            Method::PUT,
            "/api/v1/api_keys/{key}",
            smplkit_edit(),
            KeyWrite,
            StatusCode::OK,
        ),
        e(
            Api,
            Method::PATCH,
            "/api/v1/api_keys/{key}",
            smplkit_edit(),
            KeyWrite,
            StatusCode::OK,
        ),
        e(
            Api,
            Method::POST,
            "/api/v1/api_keys/{key}/actions/revoke",
            None,
            KeyRevoke,
            StatusCode::OK,
        ),
        e(
            Api,
            Method::DELETE,
            "/api/v1/api_keys/{key}",
            None,
            KeyWrite,
            StatusCode::NO_CONTENT,
        ),
        // simpledeploy: the caller's own keys, by number.
        e(
            OwnKeys,
            Method::GET,
            "/api/apikeys",
            None,
            Read("api_keys:read"),
            StatusCode::OK,
        ),
        e(
            OwnKeys,
            Method::POST,
            "/api/apikeys",
            name(),
            KeyCreate,
            StatusCode::CREATED,
        ),
        e(
            OwnKeys,
            Method::DELETE,
            "/api/apikeys/{seq}",
            None,
            KeyRevoke,
            StatusCode::NO_CONTENT,
        ),
        // Skillett: the caller's own keys, `key_…` ids.
        e(
            OwnKeys,
            Method::GET,
            "/api-keys",
            None,
            Read("api_keys:read"),
            StatusCode::OK,
        ),
        e(
            OwnKeys,
            Method::POST,
            "/api-keys",
            name(),
            KeyCreate,
            StatusCode::CREATED,
        ),
        e(
            OwnKeys,
            Method::DELETE,
            "/api-keys/{kid}",
            None,
            KeyRevoke,
            StatusCode::NO_CONTENT,
        ),
    ];
    // Signalsmith: the native paths, but DELETE revokes; its header names the path's
    // workspace, as the doc's examples send it.
    all.push(Endpoint {
        surface: Api,
        method: Method::DELETE,
        path: "/api/v1/workspaces/{ws}/api-keys/{key}",
        headers: &[("x-workspace-id", "{ws}")],
        body: Body::None,
        needs: KeyRevoke,
        ok: StatusCode::OK,
    });
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wire_profile_endpoint_answers_every_kind_of_caller_as_the_table_says() {
    let app = TestApp::spawn_with(|c| {
        c.max_keys_per_workspace = 10_000;
        c.compat = ["smplkit", "simpledeploy", "skillett", "signalsmith"]
            .map(String::from)
            .to_vec();
    })
    .await;
    let world = world(&app).await;
    let cells = run(&app, &world, &endpoints()).await;
    assert_eq!(cells, 14 * 11);
}
