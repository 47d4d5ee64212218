//! The real `keyward` binary: start-up, the admin CLI, `kill -9` durability and the graceful
//! SIGTERM that flushes `last_used_at`.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::binary::{admin, bootstrap, http, serve};

#[test]
fn serve_creates_the_data_directory_and_says_how_to_create_the_first_user() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fresh/data");
    let mut server = serve(&dir, &[]);
    assert!(dir.join("keyward.db").exists());
    let hint = server.wait_for_output("admin user create");
    assert!(hint.is_ok(), "no first-user hint; saw: {hint:?}");
    let health = http()
        .get(format!("{}/readyz", server.base))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200);
    server.child.kill().unwrap();
}

#[test]
fn the_generated_pepper_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = admin(tmp.path(), &["migrate"], None);
    assert_eq!(code, 0, "{err}");
    bootstrap(tmp.path());
    let mode = std::fs::metadata(tmp.path().join("pepper"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn admin_apikey_create_prints_created_and_the_key_works_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, key) = bootstrap(tmp.path());
    assert!(key.starts_with("kw_"));
    let mut server = serve(tmp.path(), &[]);
    let me: Value = http()
        .get(format!("{}/api/v1/users/current", server.base))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["user"]["email"], "ops@example.com");
    assert_eq!(me["workspace"]["id"], json!(ws));
    server.child.kill().unwrap();

    let (code, out, _) = admin(
        tmp.path(),
        &[
            "admin",
            "apikey",
            "list",
            "--user-id",
            "ops@example.com",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert!(!out.contains(&key), "listings never show the secret");
    let (code, out, _) = admin(tmp.path(), &["admin", "apikey", "revoke", &id], None);
    assert_eq!(code, 0);
    assert!(out.starts_with("Revoked"), "{out}");
    let (_, out, _) = admin(
        tmp.path(),
        &[
            "admin",
            "apikey",
            "list",
            "--workspace",
            &ws,
            "--status",
            "revoked",
            "--json",
        ],
        None,
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()[0]["id"],
        json!(id)
    );
}

#[test]
fn admin_commands_exit_1_on_refusals_and_2_on_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(admin(tmp.path(), &["migrate"], None).0, 0);
    let (code, _, err) = admin(
        tmp.path(),
        &[
            "admin",
            "user",
            "create",
            "--email",
            "a@example.com",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("validation_failed") && err.contains("password"),
        "{err}"
    );
    let (ws, _) = bootstrap(tmp.path());
    let (code, _, err) = admin(
        tmp.path(),
        &["admin", "workspace", "set-plan", &ws, "platinum"],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("unknown plan"), "{err}");
    let (code, out, _) = admin(
        tmp.path(),
        &["admin", "workspace", "set-plan", &ws, "free"],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = admin(
        tmp.path(),
        &[
            "admin",
            "apikey",
            "create",
            "--name",
            "second",
            "--user-id",
            "ops@example.com",
        ],
        None,
    );
    assert_eq!(
        code, 1,
        "the free plan allows one active key, and the CLI obeys it too"
    );
    assert!(err.contains("plan_limit_reached"), "{err}");
    let (code, _, _) = admin(tmp.path(), &["admin", "apikey", "create"], None);
    assert_eq!(code, 2);
}

#[test]
fn acknowledged_creates_and_revokes_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, key) = bootstrap(tmp.path());
    let mut server = serve(tmp.path(), &[]);
    let client = http();
    let keys = format!("{}/api/v1/workspaces/{ws}/api-keys", server.base);
    let mut created = Vec::new();
    for i in 0..30 {
        let r = client
            .post(&keys)
            .bearer_auth(&key)
            .json(&json!({"name": format!("burst-{i}")}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        created.push(
            r.json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &created[..10] {
        let r = client
            .post(format!("{keys}/{id}/revoke"))
            .bearer_auth(&key)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    server.child.kill().unwrap(); // SIGKILL, right after the last acknowledgement
    server.child.wait().unwrap();

    let mut restarted = serve(tmp.path(), &[]);
    let keys = format!("{}/api/v1/workspaces/{ws}/api-keys", restarted.base);
    let listed: Vec<Value> = client
        .get(format!("{keys}?limit=200"))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    for (i, id) in created.iter().enumerate() {
        let row = listed
            .iter()
            .find(|k| k["id"] == json!(id))
            .unwrap_or_else(|| panic!("acknowledged key {id} lost"));
        assert_eq!(
            row["status"],
            if i < 10 { "revoked" } else { "active" },
            "{id}"
        );
    }
    restarted.child.kill().unwrap();
}

#[test]
fn sigterm_shuts_down_gracefully_and_flushes_pending_last_used_at() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, key) = bootstrap(tmp.path());
    // An hour between flushes: only the shutdown flush can write this use.
    let mut server = serve(tmp.path(), &[("KEYWARD_LAST_USED_FLUSH_SECONDS", "3600")]);
    let client = http();
    assert_eq!(
        client
            .get(format!("{}/api/v1/users/current", server.base))
            .bearer_auth(&key)
            .send()
            .unwrap()
            .status(),
        200
    );
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");

    let (_, out, _) = admin(
        tmp.path(),
        &["admin", "apikey", "list", "--workspace", &ws, "--json"],
        None,
    );
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert!(
        listed[0]["last_used_at"].is_string(),
        "last_used_at was not flushed: {out}"
    );
}

#[test]
fn a_lost_pepper_is_never_silently_replaced_over_existing_data() {
    let tmp = tempfile::tempdir().unwrap();
    bootstrap(tmp.path());
    std::fs::remove_file(tmp.path().join("pepper")).unwrap();
    let (code, _, err) = admin(
        tmp.path(),
        &["admin", "service-token", "create", "--name", "x"],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("pepper") && err.contains("backup"), "{err}");
    assert!(
        !tmp.path().join("pepper").exists(),
        "no new pepper was generated"
    );
}

#[test]
fn a_new_workspace_always_starts_with_an_owner() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(admin(tmp.path(), &["migrate"], None).0, 0);
    let (code, _, err) = admin(
        tmp.path(),
        &[
            "admin",
            "user",
            "create",
            "--email",
            "m@example.com",
            "--workspace",
            "W",
            "--role",
            "member",
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("needs an owner"), "{err}");
}

#[test]
fn user_create_with_a_workspace_id_joins_that_workspace_in_the_given_role() {
    let tmp = tempfile::tempdir().unwrap();
    let (workspace, owner_key) = bootstrap(tmp.path());
    let (code, out, err) = admin(
        tmp.path(),
        &[
            "admin",
            "user",
            "create",
            "--email",
            "bob@example.com",
            "--verified",
            "--workspace",
            &workspace,
            "--role",
            "member",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["workspace"]["id"], workspace.as_str(), "{out}");
    assert_eq!(created["workspace"]["role"], "member", "{out}");

    let server = serve(tmp.path(), &[]);
    let members = http()
        .get(format!(
            "{}/api/v1/workspaces/{workspace}/members",
            server.base
        ))
        .bearer_auth(&owner_key)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let bob = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "bob@example.com")
        .unwrap_or_else(|| panic!("{members}"));
    assert_eq!(bob["role"], "member");
    let events = http()
        .get(format!(
            "{}/api/v1/workspaces/{workspace}/audit-events?action=member.added",
            server.base
        ))
        .bearer_auth(&owner_key)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(events[0]["actor"]["type"], "system", "{events}");
    assert_eq!(events[0]["target"]["id"], bob["user_id"]);

    let unknown = uuid::Uuid::now_v7().to_string();
    let (code, _, err) = admin(
        tmp.path(),
        &[
            "admin",
            "user",
            "create",
            "--email",
            "eve@example.com",
            "--workspace",
            &unknown,
            "--role",
            "admin",
        ],
        None,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("workspace list"), "{err}");
    let (_, users, _) = admin(tmp.path(), &["admin", "user", "list", "--json"], None);
    assert!(
        !users.contains("eve@example.com"),
        "a refused create leaves no user behind: {users}"
    );
}
