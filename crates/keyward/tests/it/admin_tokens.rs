//! `keyward admin service-token ...`: tokens are listed, revoked at once by id or name, have
//! unique names, and show when they were last used (PRODUCT.md §9).

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::binary::{admin, bootstrap, http, serve};
use crate::support::{legacy, TestApp};

fn create_token(dir: &Path, name: &str) -> String {
    let (code, out, err) = admin(
        dir,
        &["admin", "service-token", "create", "--name", name],
        None,
    );
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

fn list_tokens(dir: &Path) -> Vec<Value> {
    let (code, out, err) = admin(dir, &["admin", "service-token", "list", "--json"], None);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn verify_status(base: &str, token: &str, key: &str) -> u16 {
    http()
        .post(format!("{base}/api/v1/keys/verify"))
        .bearer_auth(token)
        .json(&json!({ "key": key }))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_revoked_service_token_gets_401_on_the_very_next_verify_call() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, key) = bootstrap(tmp.path());
    let billing = create_token(tmp.path(), "billing");
    let search = create_token(tmp.path(), "search");
    let mut server = serve(tmp.path(), &[]);
    assert_eq!(verify_status(&server.base, &billing, &key), 200);
    assert_eq!(verify_status(&server.base, &search, &key), 200);

    let id = list_tokens(tmp.path())
        .iter()
        .find(|t| t["name"] == "billing")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .unwrap();
    let (code, out, err) = admin(tmp.path(), &["admin", "service-token", "revoke", &id], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Revoked") && out.contains("billing"), "{out}");
    assert_eq!(verify_status(&server.base, &billing, &key), 401, "by id");
    assert_eq!(
        verify_status(&server.base, &search, &key),
        200,
        "others keep working"
    );

    let (code, _, err) = admin(
        tmp.path(),
        &["admin", "service-token", "revoke", "search", "--json"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(verify_status(&server.base, &search, &key), 401, "by name");
    server.child.kill().unwrap();

    let listed = list_tokens(tmp.path());
    assert_eq!(listed.len(), 2);
    for t in &listed {
        assert_eq!(t["status"], "revoked", "{t}");
        assert!(t["revoked_at"].is_string(), "{t}");
    }
    // Revoking again changes nothing and is not an error; an unknown token is.
    let (code, out, _) = admin(tmp.path(), &["admin", "service-token", "revoke", &id], None);
    assert_eq!(code, 0);
    assert!(out.contains("already revoked"), "{out}");
    let (code, _, err) = admin(
        tmp.path(),
        &["admin", "service-token", "revoke", "no-such-token"],
        None,
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("not_found") && err.contains("service-token list"),
        "{err}"
    );
}

#[test]
fn service_token_names_are_unique() {
    let tmp = tempfile::tempdir().unwrap();
    bootstrap(tmp.path());
    create_token(tmp.path(), "billing");
    let (code, out, err) = admin(
        tmp.path(),
        &["admin", "service-token", "create", "--name", " billing "],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.is_empty(),
        "no token is printed for a refused create: {out}"
    );
    assert!(
        err.contains("conflict") && err.contains("billing") && err.contains("already"),
        "{err}"
    );
    assert_eq!(list_tokens(tmp.path()).len(), 1);
}

#[test]
fn service_token_list_shows_id_name_created_last_used_and_status_never_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, key) = bootstrap(tmp.path());
    let used = create_token(tmp.path(), "used");
    let unused = create_token(tmp.path(), "unused");
    let mut server = serve(tmp.path(), &[]);
    assert_eq!(verify_status(&server.base, &used, &key), 200);
    // SIGTERM: the graceful shutdown flushes the pending use.
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(server.child.wait().unwrap().success());

    let listed = list_tokens(tmp.path());
    let by_name = |n: &str| listed.iter().find(|t| t["name"] == n).unwrap().clone();
    let (u, n) = (by_name("used"), by_name("unused"));
    assert!(u["last_used_at"].is_string(), "{u}");
    assert!(n["last_used_at"].is_null(), "{n}");
    for t in [&u, &n] {
        assert_eq!(t["status"], "active");
        assert!(t["id"].is_string() && t["created_at"].is_string(), "{t}");
        assert!(t["token_prefix"].as_str().unwrap().starts_with("kwsvc_"));
    }
    let (code, table, _) = admin(tmp.path(), &["admin", "service-token", "list"], None);
    assert_eq!(code, 0);
    let header = table.lines().next().unwrap();
    for column in ["ID", "NAME", "CREATED", "LAST USED", "STATUS"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(table.contains("never"), "the unused token: {table}");
    let json = serde_json::to_string(&listed).unwrap();
    for secret in [&used, &unused] {
        assert!(!table.contains(secret.as_str()) && !json.contains(secret.as_str()));
    }
}

#[tokio::test]
async fn service_token_uses_are_written_in_batches_not_on_the_verify_path() {
    let mut app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    assert_eq!(app.verify_code(&token, &owner.key, None).await, "VALID");
    let stored = app.service.store().service_tokens().await.unwrap();
    assert!(
        stored[0].last_used_at.is_none(),
        "a verify call wrote to the database"
    );
    app.stop().await;
    let stored = app.service.store().service_tokens().await.unwrap();
    assert!(
        stored[0].last_used_at.is_some(),
        "the shutdown flush wrote it"
    );
}

#[tokio::test]
async fn upgrading_renames_duplicate_token_names_and_keeps_every_token() {
    let tmp = tempfile::tempdir().unwrap();
    let pool = legacy::database(&tmp.path().join("keyward.db")).await;
    let oldest = legacy::insert_service_token(&pool, "billing", 3000).await;
    let newer = legacy::insert_service_token(&pool, "billing", 2000).await;
    let other = legacy::insert_service_token(&pool, "search", 1000).await;
    pool.close().await;
    std::fs::write(tmp.path().join("pepper"), "the pepper of the old install").unwrap();

    let (code, _, err) = admin(tmp.path(), &["migrate"], None);
    assert_eq!(code, 0, "{err}");
    let listed = list_tokens(tmp.path());
    let name_of = |id: uuid::Uuid| {
        listed
            .iter()
            .find(|t| t["id"] == json!(id))
            .unwrap_or_else(|| panic!("token {id} was lost: {listed:?}"))["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(name_of(oldest), "billing", "the oldest keeps its name");
    assert_eq!(name_of(other), "search");
    let renamed = name_of(newer);
    assert!(
        renamed.starts_with("billing (") && renamed != "billing",
        "{renamed}"
    );
    // The name is unique from now on.
    let (code, _, _) = admin(
        tmp.path(),
        &["admin", "service-token", "create", "--name", "billing"],
        None,
    );
    assert_eq!(code, 1);
}

#[tokio::test]
async fn revoking_by_id_means_that_token_even_when_an_older_one_is_named_like_the_id() {
    use keyward_core::model::{new_id, now, ServiceToken};
    use keyward_core::secret::CredentialHash;

    let app = TestApp::spawn().await;
    let meant_id = new_id();
    let token = |name: String, id, age_ms| ServiceToken {
        id,
        name,
        token_prefix: "kwsvc_test0000".into(),
        hash: CredentialHash::from_bytes(rand::random()),
        created_at: now() - chrono::Duration::milliseconds(age_ms),
        revoked_at: None,
        last_used_at: None,
    };
    // Listed oldest first, the decoy comes before the token the id names.
    let decoy = token(meant_id.to_string(), new_id(), 5_000);
    let meant = token("billing".into(), meant_id, 1_000);
    let mut tx = app.service.store().begin().await.unwrap();
    tx.insert_service_token(&decoy).await.unwrap();
    tx.insert_service_token(&meant).await.unwrap();
    tx.commit().await.unwrap();

    let (revoked, changed) = app
        .service
        .revoke_service_token(&meant_id.to_string())
        .await
        .unwrap();
    assert!(changed);
    assert_eq!(revoked.id, meant_id, "the id wins over a name");
    let tokens = app.service.list_service_tokens().await.unwrap();
    let decoy = tokens.iter().find(|t| t.id == decoy.id).unwrap();
    assert!(
        decoy.revoked_at.is_none(),
        "the token named like the id stays"
    );
}
