//! The seeds' flows end to end: create, list, get, rename, rotate, revoke and delete.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{key_path, keys_path, TestApp};

#[tokio::test]
async fn a_created_key_shows_its_secret_once_and_only_its_prefix_afterwards() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app
        .create_key(&owner, json!({"name": "CI/CD Pipeline Key"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.body["key"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap();
    assert!(
        secret.starts_with("kw_") && secret.len() == 3 + 32 + 6,
        "{secret}"
    );
    assert_eq!(
        created.body["key_prefix"],
        json!(&secret[..11]),
        "prefix plus 8 body characters"
    );
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["access"], "full");

    let one = app.get(&key_path(owner.workspace_id, id), &owner.key).await;
    let list = app.get(&keys_path(owner.workspace_id), &owner.key).await;
    for reply in [&one, &list] {
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            !reply.text.contains(&secret),
            "the secret must never be shown again"
        );
        assert!(
            !reply.text.contains(&secret[11..]),
            "nor any of its body past the prefix"
        );
    }
    for field in [
        "id",
        "workspace_id",
        "name",
        "key_prefix",
        "status",
        "access",
        "scopes",
        "created_by",
        "created_at",
        "updated_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "metadata",
        "rotated_from",
    ] {
        assert!(one.body.get(field).is_some(), "key object lacks {field}");
    }
}

#[tokio::test]
async fn the_new_key_authenticates_and_after_revoking_the_next_call_gets_401() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "local-mike"})).await;
    let secret = created.body["key"].as_str().unwrap();
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/users/current", secret).await.status,
        StatusCode::OK
    );

    let revoked = app
        .post(
            &format!("{}/revoke", key_path(owner.workspace_id, id)),
            &owner.key,
            json!({"reason": "leaked"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.body["status"], "revoked");
    let after = app.get("/api/v1/users/current", secret).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    let again = app
        .call(
            reqwest::Method::POST,
            &format!("{}/revoke", key_path(owner.workspace_id, id)),
            Some(&owner.key),
            None,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "revoke is idempotent, and needs no body"
    );
    assert_eq!(again.body["revoked_at"], revoked.body["revoked_at"]);
    let listed = app
        .get(
            &format!("{}?status=revoked", keys_path(owner.workspace_id)),
            &owner.key,
        )
        .await;
    assert_eq!(
        listed.body.as_array().unwrap().len(),
        1,
        "a revoked key stays listed"
    );
}

#[tokio::test]
async fn delete_revokes_and_removes_the_key_from_listings_and_lookups() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "old"})).await;
    let (secret, id) = (
        created.body["key"].as_str().unwrap(),
        created.body["id"].as_str().unwrap(),
    );
    let deleted = app
        .delete(&key_path(owner.workspace_id, id), &owner.key)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/users/current", secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&key_path(owner.workspace_id, id), &owner.key)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = app.get(&keys_path(owner.workspace_id), &owner.key).await;
    assert!(!list.text.contains(id));
    assert_eq!(
        app.delete(&key_path(owner.workspace_id, id), &owner.key)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn rename_with_patch_or_put_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app
        .create_key(&owner, json!({"name": "ci-payments-deploy"}))
        .await;
    let id = created.body["id"].as_str().unwrap();
    let path = key_path(owner.workspace_id, id);
    let renamed = app
        .patch(&path, &owner.key, json!({"name": "ci-payments-deploy-v2"}))
        .await;
    assert_eq!(renamed.body["name"], "ci-payments-deploy-v2");
    let put = app
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&owner.key),
            Some(json!({"name": "  v3  "})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(
        app.get(&path, &owner.key).await.body["name"],
        "v3",
        "names are trimmed"
    );
}

#[tokio::test]
async fn rotation_without_grace_revokes_the_old_key_and_the_new_one_keeps_name_scopes_and_metadata()
{
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app
        .create_key(
            &owner,
            json!({"name": "deploy", "scopes": ["apps:deploy"], "metadata": {"team": "payments"}}),
        )
        .await;
    let (old_secret, old_id) = (
        created.body["key"].as_str().unwrap(),
        created.body["id"].as_str().unwrap(),
    );
    let rotated = app
        .call(
            reqwest::Method::POST,
            &format!("{}/rotate", key_path(owner.workspace_id, old_id)),
            Some(&owner.key),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
    assert_eq!(rotated.body["name"], "deploy");
    assert_eq!(rotated.body["scopes"], json!(["apps:deploy"]));
    assert_eq!(rotated.body["metadata"], json!({"team": "payments"}));
    assert_eq!(rotated.body["rotated_from"], json!(old_id));
    let token = app.service_token().await;
    assert_eq!(app.verify_code(&token, old_secret, None).await, "REVOKED");
    assert_eq!(
        app.verify_code(&token, rotated.body["key"].as_str().unwrap(), None)
            .await,
        "VALID"
    );
}

#[tokio::test]
async fn rotation_with_grace_keeps_the_old_key_working_until_the_grace_ends() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    let (old_secret, old_id) = (
        created.body["key"].as_str().unwrap(),
        created.body["id"].as_str().unwrap(),
    );
    let rotated = app
        .post(
            &format!("{}/rotate", key_path(owner.workspace_id, old_id)),
            &owner.key,
            json!({"grace_period_seconds": 2}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let token = app.service_token().await;
    assert_eq!(
        app.verify_code(&token, old_secret, None).await,
        "VALID",
        "still valid during the grace"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.verify_code(&token, old_secret, None).await, "EXPIRED");
    assert_eq!(
        app.verify_code(&token, rotated.body["key"].as_str().unwrap(), None)
            .await,
        "VALID"
    );
}

#[tokio::test]
async fn a_rotated_key_gets_its_predecessors_lifetime_counted_from_now_unless_given() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let created = app
        .create_key(&owner, json!({"name": "ci", "expires_at": expires}))
        .await;
    let old_id = created.body["id"].as_str().unwrap();
    let rotated = app
        .call(
            reqwest::Method::POST,
            &format!("{}/rotate", key_path(owner.workspace_id, old_id)),
            Some(&owner.key),
            None,
        )
        .await;
    let parse =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let lifetime = parse(&rotated.body["expires_at"]) - parse(&rotated.body["created_at"]);
    let old_lifetime = parse(&created.body["expires_at"]) - parse(&created.body["created_at"]);
    assert_eq!(lifetime, old_lifetime);

    let second = app.create_key(&owner, json!({"name": "other"})).await;
    let given = app
        .post(
            &format!(
                "{}/rotate",
                key_path(owner.workspace_id, second.body["id"].as_str().unwrap())
            ),
            &owner.key,
            json!({"expires_at": "2031-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(given.body["expires_at"], "2031-01-01T00:00:00Z");
}

#[tokio::test]
async fn a_key_can_be_rotated_only_once_and_a_revoked_key_not_at_all() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "ci"})).await;
    let path = format!(
        "{}/rotate",
        key_path(owner.workspace_id, created.body["id"].as_str().unwrap())
    );
    assert_eq!(
        app.post(&path, &owner.key, json!({"grace_period_seconds": 60}))
            .await
            .status,
        StatusCode::CREATED
    );
    let twice = app
        .post(&path, &owner.key, json!({"grace_period_seconds": 60}))
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    let other = app.create_key(&owner, json!({"name": "x"})).await;
    let other_path = key_path(owner.workspace_id, other.body["id"].as_str().unwrap());
    app.post(&format!("{other_path}/revoke"), &owner.key, json!({}))
        .await;
    assert_eq!(
        app.post(&format!("{other_path}/rotate"), &owner.key, json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn the_list_is_newest_first_filtered_and_paginated_through_the_link_header() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    for i in 0..5 {
        app.create_key(&owner, json!({"name": format!("batch-{i}")}))
            .await;
    }
    let first = app
        .get(
            &format!("{}?q=BATCH&limit=2", keys_path(owner.workspace_id)),
            &owner.key,
        )
        .await;
    let names: Vec<&str> = first
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["batch-4", "batch-3"]);
    let mut seen = names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut link = first
        .headers
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    while let Some(l) = link {
        assert!(l.ends_with("; rel=\"next\""), "{l}");
        let next = l
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_owned();
        let page = app.get(&next, &owner.key).await;
        seen.extend(
            page.body
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["name"].as_str().unwrap().to_owned()),
        );
        link = page
            .headers
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
    }
    assert_eq!(
        seen,
        ["batch-4", "batch-3", "batch-2", "batch-1", "batch-0"]
    );
    let by_creator = app
        .get(
            &format!(
                "{}?created_by={}",
                keys_path(owner.workspace_id),
                owner.user.id
            ),
            &owner.key,
        )
        .await;
    assert_eq!(by_creator.body.as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn the_status_filter_tells_active_revoked_and_expired_apart() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let soon = crate::support::soon();
    app.create_key(&owner, json!({"name": "expiring", "expires_at": soon}))
        .await;
    let gone = app.create_key(&owner, json!({"name": "revoked"})).await;
    app.post(
        &format!(
            "{}/revoke",
            key_path(owner.workspace_id, gone.body["id"].as_str().unwrap())
        ),
        &owner.key,
        json!({}),
    )
    .await;
    crate::support::sleep_past(&serde_json::Value::String(soon.clone())).await;
    let names = |status: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            let r = app
                .get(
                    &format!("{}?status={status}", keys_path(owner.workspace_id)),
                    &owner.key,
                )
                .await;
            r.body
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("expired").await, ["expiring"]);
    assert_eq!(names("revoked").await, ["revoked"]);
    assert_eq!(names("active").await, ["test key"]);
}

#[tokio::test]
async fn the_alias_acts_on_the_keys_own_workspace() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app
        .post("/api/v1/api-keys", &owner.key, json!({"name": "via alias"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["workspace_id"], json!(owner.workspace_id));
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/api-keys/{id}"), &owner.key)
            .await
            .body["name"],
        "via alias"
    );
    assert_eq!(
        app.get("/api/v1/api-keys", &owner.key)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{id}"), &owner.key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}
