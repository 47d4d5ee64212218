//! Turning profiles on and off (`compat`, `KEYWARD_COMPAT`): off by default, their paths
//! `404` and absent from the OpenAPI document; on, served and documented beside an
//! unchanged native API (except Signalsmith's DELETE); an unknown name stops start-up.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::binary::{self, admin_env};
use crate::support::{key_path, keys_path, Owner, TestApp};

/// A request on each profile's paths: (profile, method, path).
fn profile_requests() -> Vec<(&'static str, Method, String)> {
    let id = uuid::Uuid::now_v7();
    vec![
        ("smplkit", Method::GET, "/api/v1/api_keys".into()),
        ("smplkit", Method::POST, "/api/v1/api_keys".into()),
        ("smplkit", Method::GET, format!("/api/v1/api_keys/{id}")),
        (
            "smplkit",
            Method::POST,
            format!("/api/v1/api_keys/{id}/actions/revoke"),
        ),
        ("simpledeploy", Method::GET, "/api/apikeys".into()),
        ("simpledeploy", Method::POST, "/api/apikeys".into()),
        ("simpledeploy", Method::DELETE, "/api/apikeys/1".into()),
        ("skillett", Method::GET, "/api-keys".into()),
        ("skillett", Method::POST, "/api-keys".into()),
        (
            "skillett",
            Method::DELETE,
            format!("/api-keys/key_{}", id.simple()),
        ),
    ]
}

/// The native key lifecycle, as it works without any profile: create, list, revoke, and a
/// DELETE that soft-deletes (204, gone from the listing).
async fn native_lifecycle_is_unchanged(app: &TestApp, owner: &Owner, signalsmith: bool) {
    let made = app.create_key(owner, json!({"name": "native"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let listed = app.get(&keys_path(owner.workspace_id), &owner.key).await;
    assert!(listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == id.as_str()));
    let r = app
        .post(
            &format!("/api/v1/api-keys/{id}/revoke"),
            &owner.key,
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "revoked");
    let deleted = app
        .delete(&key_path(owner.workspace_id, &id), &owner.key)
        .await;
    let listed = app.get(&keys_path(owner.workspace_id), &owner.key).await;
    let still_listed = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == id.as_str());
    if signalsmith {
        assert_eq!(deleted.status, StatusCode::OK);
        assert_eq!(deleted.body, json!({"status": "revoked"}));
        assert!(still_listed, "Signalsmith's DELETE keeps the key listed");
    } else {
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert!(
            !still_listed,
            "the native DELETE removes the key from listings"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_off_by_default_their_paths_404_and_the_native_api_is_unchanged() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let missing = app
        .get(
            &format!("/api/v1/nothing/{}", uuid::Uuid::now_v7()),
            &owner.key,
        )
        .await;
    for (profile, method, path) in profile_requests() {
        let r = app
            .call(
                method.clone(),
                &path,
                Some(&owner.key),
                Some(json!({"name": "x"})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{profile}: {method} {path}"
        );
        // The native envelope of an unknown path, whatever the profile would have said.
        assert_eq!(r.body["error"]["code"], "not_found", "{path}");
        assert_eq!(
            r.body["error"]["message"], missing.body["error"]["message"],
            "{path}"
        );
    }
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let paths = doc["paths"].as_object().unwrap();
    for path in paths.keys() {
        assert!(
            !(path.starts_with("/api/v1/api_keys")
                || path.starts_with("/api/apikeys")
                || path.starts_with("/api-keys")),
            "{path} is documented while its profile is off"
        );
    }
    let delete = &doc["paths"]["/api/v1/workspaces/{workspace_id}/api-keys/{id}"]["delete"];
    assert!(delete["responses"].get("204").is_some());
    native_lifecycle_is_unchanged(&app, &owner, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_profile_on_all_are_served_and_documented_beside_the_native_api() {
    let app = TestApp::spawn_with(|c| {
        c.compat = ["smplkit", "simpledeploy", "skillett", "signalsmith"]
            .map(String::from)
            .to_vec();
    })
    .await;
    let owner = app.owner().await;
    for (profile, method, path) in profile_requests() {
        let r = app.call(method.clone(), &path, None, None).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{profile}: {method} {path}"
        );
    }
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    for (path, method) in [
        ("/api/v1/api_keys", "post"),
        ("/api/v1/api_keys/{id}", "put"),
        ("/api/v1/api_keys/{id}/actions/revoke", "post"),
        ("/api/apikeys", "post"),
        ("/api/apikeys/{id}", "delete"),
        ("/api-keys", "get"),
        ("/api-keys/{id}", "delete"),
    ] {
        assert!(
            doc["paths"][path].get(method).is_some(),
            "{method} {path} is not documented"
        );
    }
    let delete = &doc["paths"]["/api/v1/workspaces/{workspace_id}/api-keys/{id}"]["delete"];
    assert!(delete["responses"].get("200").is_some(), "{delete}");

    // One key, made through each surface, is one key on all of them.
    let skillett = app
        .post("/api-keys", &owner.key, json!({"name": "from skillett"}))
        .await;
    let smplkit_list = app.get("/api/v1/api_keys", &owner.key).await;
    let skillett_uuid = skillett.body["api_key"]["id"]
        .as_str()
        .unwrap()
        .strip_prefix("key_")
        .unwrap()
        .to_owned();
    assert!(smplkit_list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"].as_str().unwrap().replace('-', "") == skillett_uuid));
    let sd = app.get("/api/apikeys", &owner.key).await;
    assert!(sd
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "from skillett"));

    native_lifecycle_is_unchanged(&app, &owner, true).await;
}

#[test]
fn keyward_compat_turns_profiles_on_and_an_unknown_name_stops_start_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = admin_env(
        tmp.path(),
        &["admin", "user", "list"],
        None,
        &[("KEYWARD_COMPAT", "smplkit,acme")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("KEYWARD_COMPAT") && err.contains("\"acme\""),
        "{err}"
    );
    assert!(
        err.contains("smplkit, simpledeploy, skillett, signalsmith"),
        "the message lists the profiles: {err}"
    );

    // A list in keyward.toml is named with its file.
    let config = tmp.path().join("keyward.toml");
    std::fs::write(&config, "compat = [\"skillet\"]\n").unwrap();
    let (code, _, err) = admin_env(
        tmp.path(),
        &[
            "admin",
            "user",
            "list",
            "--config",
            config.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("compat") && err.contains("keyward.toml"),
        "{err}"
    );

    // The real `keyward serve` with two profiles: both answer, in their own shapes.
    let data = tempfile::tempdir().unwrap();
    let (_, key) = binary::bootstrap(data.path());
    let server = binary::serve(data.path(), &[("KEYWARD_COMPAT", "skillett, signalsmith")]);
    let http = binary::http();
    let r = http
        .get(format!("{}/api-keys", server.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"], "unauthorized");
    let r = http
        .get(format!("{}/api-keys", server.base))
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .get(format!("{}/api/v1/api_keys", server.base))
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "smplkit is not on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_application_plus_json_body_is_json_everywhere_and_other_types_are_415() {
    let app = TestApp::spawn_with(|c| c.compat = vec!["smplkit".into()]).await;
    let owner = app.owner().await;
    let native = json!({"name": "typed"}).to_string();
    let smplkit = json!({"data": {"type": "api_key", "attributes": {"name": "typed"}}}).to_string();
    let send = |path: String, content_type: &'static str, body: String| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&owner.key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for content_type in [
        "application/json",
        "application/vnd.api+json",
        "application/merge-patch+json; charset=utf-8",
        "Application/JSON",
    ] {
        let r = send(keys_path(owner.workspace_id), content_type, native.clone())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "native, {content_type}");
        let r = send("/api/v1/api_keys".into(), content_type, smplkit.clone())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "smplkit, {content_type}");
    }
    for content_type in [
        "text/plain",
        "application/xml",
        "text/json",
        "application/jsonx",
    ] {
        let r = send(keys_path(owner.workspace_id), content_type, native.clone())
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        let r = send("/api/v1/api_keys".into(), content_type, smplkit.clone())
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "unsupported_media_type");
    }
}
