//! The simpledeploy profile: every request of `seeds/simpledeploy-api-keys.txt` against a
//! server with `compat = ["simpledeploy"]`, `default_key_prefix = "sd_"` and
//! `default_key_format = "hex64"`, so that keys read as the doc says: `sd_` and 64 hex
//! characters. The doc's page flattened its code blocks onto single lines; the commands here
//! are the same commands on their own lines again.

use keyward_core::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::binary;
use crate::support::cli::Cli;
use crate::support::doc::{fields, sorted, Doc};
use crate::support::TestApp;

const HOST: &str = "https://manage.example.com";

const CREATE: &str = r#"curl -X POST https://manage.example.com/api/apikeys \
 -H "Authorization: Bearer $SD_API_KEY" \
 -H "Content-Type: application/json" \
 -d '{"name":"ci-deploy","expires_at":"2026-12-31T23:59:59Z"}'"#;

const REVOKE: &str = r#"curl -X DELETE https://manage.example.com/api/apikeys/3 \
 -H "Authorization: Bearer $SD_API_KEY""#;

/// The doc's "use it" request goes to the product's own `/api/apps`; against keyward, the
/// same key authenticates `users/current` (and the product's services call verify).
const USE_IT: &str = r#"curl https://manage.example.com/api/v1/users/current \
 -H "Authorization: Bearer sd_a1b2c3...""#;

async fn simpledeploy() -> TestApp {
    TestApp::spawn_with(|c| {
        c.compat = vec!["simpledeploy".into()];
        c.default_key_prefix = "sd_".into();
        c.default_key_format = keyward_core::key_format::KeyFormat::Hex64;
    })
    .await
}

fn is_sd_hex(secret: &str) -> bool {
    secret
        .strip_prefix("sd_")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b"0123456789abcdef".contains(&b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_the_simpledeploy_doc_runs_as_written() {
    let app = simpledeploy().await;
    let owner = app.owner().await;
    assert!(is_sd_hex(&owner.key), "{}", owner.key);
    let mut doc = Doc::new(HOST, &app.base);
    doc.var("SD_API_KEY", &owner.key)
        .future_date("2026-12-31T23:59:59Z");

    // Create: {"id":3,"name":"ci-deploy","key":"sd_a1b2c3..."}, the id a number.
    let created = doc.run(CREATE).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(fields(&created.body), sorted(&["id", "name", "key"]));
    assert_eq!(created.body["name"], "ci-deploy");
    let id = created.body["id"].as_i64().expect("a numeric id");
    let secret = created.body["key"].as_str().unwrap().to_owned();
    assert!(is_sd_hex(&secret), "{secret}");

    // GET /api/apikeys: id, name, created_at, expires_at and last_used_at.
    let listed = app.get("/api/apikeys", &owner.key).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let rows = listed.body.as_array().unwrap();
    let row = rows.iter().find(|k| k["id"] == id).unwrap();
    assert_eq!(
        fields(row),
        sorted(&["id", "name", "created_at", "expires_at", "last_used_at"])
    );
    assert!(row["expires_at"].as_str().unwrap().ends_with("23:59:59Z"));
    assert!(!listed.text.contains(&secret));

    // Use it: the new key authenticates.
    doc.placeholder("sd_a1b2c3...", &secret);
    let used = doc.run(USE_IT).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text);
    assert_eq!(used.body["user"]["id"], owner.user.id.to_string());

    // Revoke by number: 204, and the next request with the key is rejected.
    doc.placeholder("/api/apikeys/3", &format!("/api/apikeys/{id}"));
    let revoked = doc.run(REVOKE).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let rejected = doc.run(USE_IT).await;
    assert_eq!(rejected.status, StatusCode::UNAUTHORIZED);
    let listed = app.get("/api/apikeys", &owner.key).await;
    assert!(listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["id"] != id));

    // "Past dates are rejected"; "expires_at is optional".
    let past = app
        .post(
            "/api/apikeys",
            &owner.key,
            json!({"name": "late", "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        past.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        past.text
    );
    assert_eq!(past.code(), "validation_failed");
    let forever = app
        .post("/api/apikeys", &owner.key, json!({"name": "forever"}))
        .await;
    assert_eq!(forever.status, StatusCode::CREATED);
    let listed = app.get("/api/apikeys", &owner.key).await;
    let row = listed.body.as_array().unwrap()[0].clone();
    assert_eq!(row["name"], "forever");
    assert!(row["expires_at"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doc_cli_lines_work_with_keyward_admin_and_contexts() {
    let app = simpledeploy().await;
    let owner = app.owner().await;

    // `sudo simpledeploy apikey create --name ci-deploy --user-id 1` → `Created: sd_…`.
    let (code, out, err) = binary::admin(
        app.dir.path(),
        &[
            "admin",
            "apikey",
            "create",
            "--name",
            "ci-deploy",
            "--user-id",
            &owner.user.email,
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let secret = out.trim().strip_prefix("Created: ").unwrap().to_owned();
    assert!(is_sd_hex(&secret), "{out}");

    // `simpledeploy context add prod --url … --api-key sd_a1b2c3...` and `context use prod`.
    let cli = Cli::new();
    cli.run(&[
        "context",
        "add",
        "prod",
        "--url",
        &app.base,
        "--api-key",
        &secret,
    ])
    .await
    .ok();
    cli.run(&["context", "use", "prod"]).await.ok();
    let shown = cli.run(&["context", "list"]).await;
    assert!(shown.ok().contains(&secret[..11]), "{}", shown.stdout);
    assert!(
        !shown.stdout.contains(&secret),
        "the context list shows the key"
    );
    let listed = cli.run(&["apikey", "list", "--json"]).await.json();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "ci-deploy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_ids_reach_only_my_own_keys_and_only_on_this_profiles_paths() {
    let app = simpledeploy().await;
    let owner = app.owner().await;
    let (_, admin_key) = app.member(owner.workspace_id, Role::Admin, true).await;
    let stranger = app.owner().await;
    let mine = app
        .post("/api/apikeys", &admin_key, json!({"name": "admin's"}))
        .await;
    let my_id = mine.body["id"].as_i64().unwrap();
    let theirs = app
        .post("/api/apikeys", &stranger.key, json!({"name": "stranger's"}))
        .await;
    let their_id = theirs.body["id"].as_i64().unwrap();

    // The list is the caller's own keys: the owner does not see the admin's here.
    let owners = app.get("/api/apikeys", &owner.key).await;
    assert!(owners
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["id"] != my_id));
    let admins = app.get("/api/apikeys", &admin_key).await;
    let admin_rows = admins.body.as_array().unwrap();
    assert!(admin_rows.iter().any(|k| k["id"] == my_id));

    // Someone else's number, another workspace's, one no key has, and anything that is not a
    // number: all the same 404.
    let missing = app
        .delete(&format!("/api/apikeys/{}", their_id + 1000), &owner.key)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let key_uuid = app.key_id(mine.body["key"].as_str().unwrap()).await;
    for path in [
        format!("/api/apikeys/{my_id}"),
        format!("/api/apikeys/{their_id}"),
        format!("/api/apikeys/{key_uuid}"),
        format!("/api/apikeys/+{my_id}"),
        "/api/apikeys/0".to_owned(),
    ] {
        let r = app.delete(&path, &owner.key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.body["error"]["message"], missing.body["error"]["message"],
            "{path}"
        );
    }
    // Nor does a number name a key on the native paths.
    let native = app
        .get(&format!("/api/v1/api-keys/{my_id}"), &admin_key)
        .await;
    assert_eq!(native.status, StatusCode::NOT_FOUND);
    // The admin's key still works: nothing above touched it.
    let still = app
        .get("/api/v1/users/current", mine.body["key"].as_str().unwrap())
        .await;
    assert_eq!(still.status, StatusCode::OK);

    // A member may not create keys unless the workspace lets members do so; a key it made
    // before then keeps what its creator held when it was made.
    let (_, member_key) = app.member(owner.workspace_id, Role::Member, true).await;
    let r = app
        .call(
            Method::POST,
            "/api/apikeys",
            Some(&member_key),
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    app.set_members_can_create_keys(&owner, true).await;
    let r = app
        .post("/api/apikeys", &member_key, json!({"name": "still not"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an older key is not widened"
    );
    let (_, member_key) = app.member(owner.workspace_id, Role::Member, true).await;
    let r = app
        .post("/api/apikeys", &member_key, json!({"name": "mine"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
