//! The Signalsmith profile: every curl example of `seeds/signalsmith-api-keys.txt` against a
//! server with `compat = ["signalsmith"]` and keys prefixed `sk_live_`. Its paths are the
//! native ones; DELETE revokes and answers `{"status": "revoked"}`, and `X-Workspace-ID`
//! must name the path's workspace.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::doc::{fields, Doc};
use crate::support::{key_path, keys_path, TestApp};

const HOST: &str = "https://your-instance.signalsmith.io";

const LIST: &str = r#"curl -X GET https://your-instance.signalsmith.io/api/v1/workspaces/{id}/api-keys \
  -H "Authorization: Bearer <token>" \
  -H "X-Workspace-ID: <workspace-id>""#;

const CREATE: &str = r#"curl -X POST https://your-instance.signalsmith.io/api/v1/workspaces/{id}/api-keys \
  -H "Authorization: Bearer <token>" \
  -H "X-Workspace-ID: <workspace-id>" \
  -H "Content-Type: application/json" \
  -d '{
    "name": "CI/CD Pipeline Key"
  }'"#;

const REVOKE: &str = r#"curl -X DELETE https://your-instance.signalsmith.io/api/v1/workspaces/{id}/api-keys/{keyId} \
  -H "Authorization: Bearer <token>" \
  -H "X-Workspace-ID: <workspace-id>""#;

/// The fields of the doc's API Key Object, without `key` (creation only).
const OBJECT: [&str; 8] = [
    "id",
    "workspace_id",
    "name",
    "key_prefix",
    "status",
    "created_by",
    "created_at",
    "updated_at",
];

async fn signalsmith() -> TestApp {
    TestApp::spawn_with(|c| {
        c.compat = vec!["signalsmith".into()];
        c.default_key_prefix = "sk_live_".into();
    })
    .await
}

/// Every field the doc shows is there (the native key object has more, which the doc's
/// clients ignore).
fn assert_has(object: &serde_json::Value, names: &[&str]) {
    let present = fields(object);
    for name in names {
        assert!(present.contains(&(*name).to_owned()), "{name} in {object}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_of_the_signalsmith_doc_runs_as_written() {
    let app = signalsmith().await;
    let owner = app.owner().await;
    let wid = owner.workspace_id.to_string();
    let mut doc = Doc::new(HOST, &app.base);
    doc.placeholder("{id}", &wid)
        .placeholder("<token>", &owner.key)
        .placeholder("<workspace-id>", &wid);

    let created = doc.run(CREATE).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let mut with_key = OBJECT.to_vec();
    with_key.push("key");
    assert_has(&created.body, &with_key);
    assert_eq!(created.body["name"], "CI/CD Pipeline Key");
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["workspace_id"], wid.as_str());
    assert_eq!(created.body["created_by"], owner.user.id.to_string());
    let secret = created.body["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk_live_"), "{secret}");
    let key_id = created.body["id"].as_str().unwrap().to_owned();

    let listed = doc.run(LIST).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let rows = listed.body.as_array().unwrap();
    let row = rows.iter().find(|k| k["id"] == key_id.as_str()).unwrap();
    assert_has(row, &OBJECT);
    assert!(row.get("key").is_none(), "the raw key is never listed");
    assert!(!listed.text.contains(&secret));

    // Revoke: 200 {"status": "revoked"}; the key stays listed, as revoked; it gets 401.
    doc.placeholder("{keyId}", &key_id);
    let revoked = doc.run(REVOKE).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body, json!({"status": "revoked"}));
    let listed = doc.run(LIST).await;
    let row = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .cloned()
        .expect("a revoked key stays listed");
    assert_eq!(row["status"], "revoked");
    let after = app.get("/api/v1/users/current", &secret).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    // "This action cannot be undone": revoking again answers the same, and the key stays
    // revoked.
    assert_eq!(doc.run(REVOKE).await.body, json!({"status": "revoked"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x_workspace_id_naming_another_workspace_is_400_and_changes_nothing() {
    let app = signalsmith().await;
    let owner = app.owner().await;
    let other = app.owner().await;
    let made = app.create_key(&owner, json!({"name": "target"})).await;
    let id = made.body["id"].as_str().unwrap().to_owned();

    for (method, path) in [
        (Method::GET, keys_path(owner.workspace_id)),
        (Method::POST, keys_path(owner.workspace_id)),
        (Method::DELETE, key_path(owner.workspace_id, &id)),
    ] {
        for sent in [other.workspace_id.to_string(), "not-a-workspace".to_owned()] {
            let r = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&owner.key)
                .header("x-workspace-id", &sent)
                .json(&json!({"name": "x"}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::BAD_REQUEST,
                "{method} {path} {sent}"
            );
        }
    }
    let still = app
        .get(&key_path(owner.workspace_id, &id), &owner.key)
        .await;
    assert_eq!(still.body["status"], "active");
    let listed = app.get(&keys_path(owner.workspace_id), &owner.key).await;
    assert_eq!(
        listed.body.as_array().unwrap().len(),
        2,
        "nothing was created"
    );

    // Without the header, or with the right one, the native routes work as ever.
    let r = app
        .client
        .get(app.url(&keys_path(owner.workspace_id)))
        .bearer_auth(&owner.key)
        .header("x-workspace-id", owner.workspace_id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signalsmith_delete_keeps_every_rule_of_revoke() {
    let app = signalsmith().await;
    let owner = app.owner().await;
    let (_, member_key) = app
        .member(owner.workspace_id, keyward_core::model::Role::Member, true)
        .await;
    let stranger = app.owner().await;
    let made = app.create_key(&owner, json!({"name": "guarded"})).await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = key_path(owner.workspace_id, &id);

    // A member holds api_keys:read only; a stranger's key is in another workspace (404).
    let r = app.delete(&path, &member_key).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let r = app.delete(&path, &stranger.key).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .delete(&key_path(stranger.workspace_id, &id), &stranger.key)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app.delete(&path, &owner.key).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.audit_actions(&owner, &id).await,
        ["api_key.revoked", "api_key.created"]
    );
}
