//! `keyward admin user ...` and `admin workspace list`, and the dead ends they close: an
//! unverified user can be verified, users and workspaces can be listed, and a user in two
//! workspaces gets a key with `--workspace` (PRODUCT.md §9).

use keyward_core::model::Role;
use keyward_core::service::NewMember;
use serde_json::{json, Value};

use crate::support::binary::{admin, bootstrap};
use crate::support::{keys_path, TestApp};

/// Runs the real binary on a running test server's data directory, off the async runtime.
async fn cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let dir = app.dir.path().to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        admin(&dir, &args, None)
    })
    .await
    .unwrap()
}

/// Adds an existing user to a workspace as an admin, as the operator.
async fn add(app: &TestApp, workspace_id: uuid::Uuid, email: &str) {
    let op = app.service.operator(workspace_id).await.unwrap();
    let input = NewMember {
        email: email.into(),
        role: "admin".into(),
        scopes: None,
    };
    app.service.add_member(&op, input).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_user_verify_unblocks_an_unverified_user_and_audits_it_in_each_workspace() {
    let app = TestApp::spawn().await;
    let first = app.owner().await;
    let second = app.owner().await;
    let (user, key) = app.member(first.workspace_id, Role::Admin, false).await;
    add(&app, second.workspace_id, &user.email).await;
    let body = json!({"name": "blocked"});
    let r = app
        .post(&keys_path(first.workspace_id), &key, body.clone())
        .await;
    assert_eq!(r.code(), "email_unverified", "the dead end: {}", r.text);

    let email = user.email.to_uppercase();
    let (code, out, err) = cli(&app, &["admin", "user", "verify", &email]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Verified") && out.contains(&user.email),
        "{out}"
    );
    let r = app.post(&keys_path(first.workspace_id), &key, body).await;
    assert_eq!(r.status, 201, "{}", r.text);

    for owner in [&first, &second] {
        let path = format!(
            "/api/v1/workspaces/{}/audit-events?action=user.email_verified",
            owner.workspace_id
        );
        let events = app.get(&path, &owner.key).await.body;
        assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
        assert_eq!(events[0]["actor"], json!({"type": "system", "id": null}));
        assert_eq!(events[0]["target"], json!({"type": "user", "id": user.id}));
    }

    // Verifying again changes nothing: no second event.
    let (code, out, _) = cli(&app, &["admin", "user", "verify", &user.email, "--json"]).await;
    assert_eq!(code, 0);
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["email_verified"], true);
    let path = format!(
        "/api/v1/workspaces/{}/audit-events?action=user.email_verified",
        first.workspace_id
    );
    assert_eq!(
        app.get(&path, &first.key)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (code, _, err) = cli(&app, &["admin", "user", "verify", "nobody@example.com"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("not_found") && err.contains("user list"),
        "{err}"
    );
}

#[test]
fn admin_user_list_and_workspace_list_show_tables_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, _) = bootstrap(tmp.path());
    let (code, _, err) = admin(
        tmp.path(),
        &["admin", "user", "create", "--email", "second@example.com"],
        None,
    );
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = admin(tmp.path(), &["admin", "user", "list", "--json"], None);
    assert_eq!(code, 0, "{err}");
    let users: Vec<Value> = serde_json::from_str(&out).unwrap();
    let emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(
        emails,
        ["ops@example.com", "second@example.com"],
        "oldest first"
    );
    assert_eq!(users[0]["email_verified"], true);
    assert_eq!(users[1]["email_verified"], false);
    let (code, table, _) = admin(tmp.path(), &["admin", "user", "list"], None);
    assert_eq!(code, 0);
    let header = table.lines().next().unwrap();
    for column in ["ID", "EMAIL", "NAME", "VERIFIED", "CREATED"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(table.contains("second@example.com"), "{table}");

    let (code, out, err) = admin(tmp.path(), &["admin", "workspace", "list", "--json"], None);
    assert_eq!(code, 0, "{err}");
    let workspaces: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(workspaces.len(), 1);
    assert_eq!(workspaces[0]["id"], json!(ws));
    assert_eq!(workspaces[0]["name"], "Ops");
    assert_eq!(workspaces[0]["plan"], "pro");
    let (code, table, _) = admin(tmp.path(), &["admin", "workspace", "list"], None);
    assert_eq!(code, 0);
    for column in ["ID", "NAME", "PLAN", "CREATED"] {
        assert!(table.lines().next().unwrap().contains(column), "{table}");
    }
    assert!(table.contains(&ws), "{table}");

    // One user's workspaces, with the user's role in each.
    let (code, out, _) = admin(
        tmp.path(),
        &[
            "admin",
            "workspace",
            "list",
            "--user-id",
            "ops@example.com",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0);
    let mine: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(mine[0]["role"], "owner");
    let (_, out, _) = admin(
        tmp.path(),
        &[
            "admin",
            "workspace",
            "list",
            "--user-id",
            "second@example.com",
            "--json",
        ],
        None,
    );
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_create_for_a_user_in_two_workspaces_asks_for_workspace_and_how_to_list_them() {
    let app = TestApp::spawn().await;
    let first = app.owner().await;
    let second = app.owner().await;
    add(&app, second.workspace_id, &first.user.email).await;
    let email = first.user.email.as_str();
    let (code, out, err) = cli(
        &app,
        &[
            "admin",
            "apikey",
            "create",
            "--name",
            "k",
            "--user-id",
            email,
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("--workspace")
            && err.contains("keyward admin workspace list --user-id")
            && err.contains(&first.workspace_id.to_string())
            && err.contains(&second.workspace_id.to_string()),
        "{err}"
    );
    assert!(
        !err.contains("X-Workspace-ID"),
        "HTTP advice on the CLI: {err}"
    );

    let ws = second.workspace_id.to_string();
    let (code, out, err) = cli(
        &app,
        &[
            "admin",
            "apikey",
            "create",
            "--name",
            "k",
            "--user-id",
            email,
            "--workspace",
            &ws,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let secret = out.trim().strip_prefix("Created: ").unwrap();
    let me = app.get("/api/v1/users/current", secret).await;
    assert_eq!(me.body["workspace"]["id"], json!(ws));
}
