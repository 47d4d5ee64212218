//! The admin CLI's options mean what they say: `--role` needs the `--workspace` it applies
//! to, `apikey list` filters by every flag given, and `set-plan` warns when a workspace is
//! already over its new plan's limit (PRODUCT.md §9).

use std::collections::BTreeSet;

use keyward_core::model::Role;
use serde_json::Value;

use crate::support::binary::{admin, bootstrap};
use crate::support::TestApp;

#[test]
fn role_without_workspace_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    for role in ["admin", "owner"] {
        let (code, _, err) = admin(
            tmp.path(),
            &[
                "admin",
                "user",
                "create",
                "--email",
                "a@example.com",
                "--role",
                role,
            ],
            None,
        );
        assert_eq!(code, 2, "--role {role} alone: {err}");
        assert!(err.contains("--workspace"), "{err}");
    }
}

async fn listed_ids(app: &TestApp, args: &[&str]) -> BTreeSet<String> {
    let dir = app.dir.path().to_path_buf();
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push("--json".into());
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        admin(&dir, &args, None)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let keys: Vec<Value> = serde_json::from_str(&out).unwrap();
    keys.iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn key_id(app: &TestApp, key: &str) -> String {
    app.get("/api/v1/users/current", key).await.body["auth"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_list_filters_by_workspace_and_user_together() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (member, member_key) = app.member(owner.workspace_id, Role::Admin, true).await;
    let caller = keyward_core::service::Caller::system(owner.user.clone());
    let other = app
        .service
        .create_workspace(&caller, "Second")
        .await
        .unwrap();
    let owner_elsewhere = app.key_for(&owner.user, other.id, None).await;
    let (owner_here, member_here, owner_there) = (
        key_id(&app, &owner.key).await,
        key_id(&app, &member_key).await,
        key_id(&app, &owner_elsewhere).await,
    );
    let ws = owner.workspace_id.to_string();
    let set = |ids: &[&String]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let owner_id = owner.user.id.to_string();

    let both = ["admin", "apikey", "list", "--workspace", &ws, "--user-id"];
    let mut args = both.to_vec();
    args.push(&member.email);
    assert_eq!(listed_ids(&app, &args).await, set(&[&member_here]));
    let mut args = both.to_vec();
    args.push(&owner_id);
    assert_eq!(listed_ids(&app, &args).await, set(&[&owner_here]));

    let workspace_only = ["admin", "apikey", "list", "--workspace", &ws];
    assert_eq!(
        listed_ids(&app, &workspace_only).await,
        set(&[&owner_here, &member_here])
    );
    // A user alone: that user's keys in every workspace it belongs to.
    let user_only = ["admin", "apikey", "list", "--user-id", &owner.user.email];
    assert_eq!(
        listed_ids(&app, &user_only).await,
        set(&[&owner_here, &owner_there])
    );
}

#[test]
fn set_plan_answers_json_and_warns_when_the_workspace_is_over_the_new_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, _) = bootstrap(tmp.path());
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
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = admin(
        tmp.path(),
        &["admin", "workspace", "set-plan", &ws, "free", "--json"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let changed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(changed["workspace"]["id"], ws.as_str());
    assert_eq!(changed["workspace"]["plan"], "free");
    assert_eq!(changed["previous_plan"], "pro");
    assert_eq!(changed["active_keys"], 2);
    assert_eq!(changed["max_active_keys"], 1);
    assert!(
        err.contains("warning") && err.contains("2 active keys") && err.contains("limit of 1"),
        "{err}"
    );

    let (code, out, err) = admin(
        tmp.path(),
        &["admin", "workspace", "set-plan", &ws, "pro"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("now on plan pro"), "{out}");
    assert!(!err.contains("warning"), "pro has no limit: {err}");
}
