//! Limits that hold under concurrency (409 and 403 of PRODUCT.md §7), the last-owner
//! conflict, the operations endpoints of §8, and the audit trail's promise to hold no secret.

use keyward::config::PlanConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{key_path, keys_path, reply, Owner, TestApp};

/// Every non-deleted key of the owner's workspace (revoked and expired included).
async fn listed(app: &TestApp, owner: &Owner, filter: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("{}?limit=200{filter}", keys_path(owner.workspace_id)),
            &owner.key,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.headers.get("link").is_none(), "all on one page");
    r.body.as_array().unwrap().clone()
}

/// Fires `n` creates at once and returns their statuses and error codes.
async fn parallel_creates(app: &TestApp, owner: &Owner, n: usize) -> Vec<(StatusCode, String)> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let req = app
            .client
            .post(app.url(&keys_path(owner.workspace_id)))
            .bearer_auth(&owner.key)
            .json(&json!({ "name": format!("burst-{i}") }));
        tasks.spawn(async move {
            let r = reply(req.send().await.unwrap()).await;
            (r.status, r.code().to_owned())
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        out.push(done.unwrap());
    }
    out
}

#[tokio::test]
async fn revoked_and_expired_keys_count_toward_the_hard_cap_and_deleted_ones_do_not() {
    let app = TestApp::spawn_with(|c| c.max_keys_per_workspace = 3).await;
    let owner = app.owner().await;
    let soon = crate::support::soon();
    let expiring = app
        .create_key(&owner, json!({"name": "expiring", "expires_at": soon}))
        .await;
    let revoked = app.create_key(&owner, json!({"name": "revoked"})).await;
    assert_eq!(revoked.status, StatusCode::CREATED);
    let revoked_path = key_path(owner.workspace_id, revoked.body["id"].as_str().unwrap());
    app.post(&format!("{revoked_path}/revoke"), &owner.key, json!({}))
        .await;
    crate::support::sleep_past(&serde_json::Value::String(soon.clone())).await;

    let full = app.create_key(&owner, json!({"name": "fourth"})).await;
    assert_eq!(
        (full.status, full.code()),
        (StatusCode::CONFLICT, "key_limit_reached"),
        "one active, one revoked, one expired still make three: {}",
        full.text
    );
    let deleted = app
        .delete(
            &key_path(owner.workspace_id, expiring.body["id"].as_str().unwrap()),
            &owner.key,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let freed = app.create_key(&owner, json!({"name": "fourth"})).await;
    assert_eq!(freed.status, StatusCode::CREATED, "{}", freed.text);
    let again = app.create_key(&owner, json!({"name": "fifth"})).await;
    assert_eq!(again.code(), "key_limit_reached");
}

#[tokio::test]
async fn parallel_creates_never_pass_the_hard_cap() {
    let app = TestApp::spawn_with(|c| c.max_keys_per_workspace = 50).await;
    let owner = app.owner().await;
    let results = parallel_creates(&app, &owner, 80).await;
    for (status, code) in &results {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && code == "key_limit_reached"),
            "{status} {code}"
        );
    }
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 49, "the owner's own key is the 50th");
    assert_eq!(listed(&app, &owner, "").await.len(), 50);
}

#[tokio::test]
async fn parallel_creates_never_pass_the_plan_limit_of_active_keys() {
    let app = TestApp::spawn_with(|c| {
        c.plans.insert(
            "team".into(),
            PlanConfig {
                max_active_keys: Some(5),
            },
        );
    })
    .await;
    let owner = app.owner().await;
    app.service
        .set_plan(owner.workspace_id, "team")
        .await
        .unwrap();
    let results = parallel_creates(&app, &owner, 20).await;
    for (status, code) in &results {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::FORBIDDEN && code == "plan_limit_reached"),
            "{status} {code}"
        );
    }
    assert_eq!(listed(&app, &owner, "&status=active").await.len(), 5);
    assert_eq!(listed(&app, &owner, "").await.len(), 5);
}

#[tokio::test]
async fn removing_the_last_owner_is_409_conflict() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let path = format!(
        "/api/v1/workspaces/{}/members/{}",
        owner.workspace_id, owner.user.id
    );
    let r = app.delete(&path, &owner.key).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        r.text
    );
    let members = app
        .get(
            &format!("/api/v1/workspaces/{}/members", owner.workspace_id),
            &owner.key,
        )
        .await;
    assert!(members.text.contains(&owner.user.id.to_string()));
}

#[tokio::test]
async fn healthz_and_readyz_answer_200_without_credentials() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_verifications_by_code() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "m"})).await;
    let id = created.body["id"].as_str().unwrap();
    app.get(&key_path(owner.workspace_id, id), &owner.key).await;
    let token = app.service_token().await;
    let verified = app
        .verify(&token, created.body["key"].as_str().unwrap(), None)
        .await;
    assert_eq!(verified.body["code"], "VALID");

    let r = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let content_type = r.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = &r.text;
    assert!(
        text.contains("# TYPE keyward_http_requests counter"),
        "{text}"
    );
    let collection = "route=\"/api/v1/workspaces/{workspace_id}/api-keys\"";
    let one = "route=\"/api/v1/workspaces/{workspace_id}/api-keys/{id}\"";
    for route in [collection, one] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("keyward_http_requests_total{") && l.contains(route)),
            "no request counter for {route}:\n{text}"
        );
    }
    assert!(!text.contains(id), "a concrete id must never be a label");
    assert!(!text.contains(&owner.workspace_id.to_string()));
    assert!(
        text.lines().any(
            |l| l.starts_with("keyward_verifications_total{code=\"VALID\"} ") && !l.ends_with(" 0")
        ),
        "{text}"
    );
    assert!(
        text.lines().any(
            |l| l.starts_with("keyward_http_request_duration_seconds_bucket{")
                && l.contains("le=\"+Inf\"")
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE keyward_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_every_path_of_the_api() {
    let app = TestApp::spawn().await;
    let r = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        r.body["openapi"]
    );
    let paths = r.body["paths"].as_object().unwrap();
    let ws = "/api/v1/workspaces/{workspace_id}";
    let key = format!("{ws}/api-keys/{{id}}");
    for (path, methods) in [
        ("/api/v1/workspaces".to_owned(), &["get", "post"][..]),
        (ws.to_owned(), &["get", "patch"]),
        (format!("{ws}/members"), &["get", "post"]),
        (format!("{ws}/members/{{user_id}}"), &["patch", "delete"]),
        (format!("{ws}/api-keys"), &["get", "post"]),
        (key.clone(), &["get", "patch", "put", "delete"]),
        (format!("{key}/revoke"), &["post"]),
        (format!("{key}/rotate"), &["post"]),
        (format!("{ws}/audit-events"), &["get"]),
        ("/api/v1/users/current".to_owned(), &["get"]),
        ("/api/v1/scopes".to_owned(), &["get"]),
        ("/api/v1/keys/verify".to_owned(), &["post"]),
        ("/api/v1/api-keys".to_owned(), &["get", "post"]),
        (
            "/api/v1/api-keys/{id}".to_owned(),
            &["get", "patch", "put", "delete"],
        ),
        ("/api/v1/api-keys/{id}/revoke".to_owned(), &["post"]),
        ("/api/v1/api-keys/{id}/rotate".to_owned(), &["post"]),
    ] {
        let item = paths.get(&path).unwrap_or_else(|| panic!("no {path}"));
        for method in methods {
            assert!(item.get(*method).is_some(), "{path} lacks {method}");
        }
    }
}

#[tokio::test]
async fn audit_events_never_hold_a_secret_and_name_the_key_that_acted() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let first = app.create_key(&owner, json!({"name": "audited"})).await;
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    let rotated = app
        .call(
            Method::POST,
            &format!("{}/rotate", key_path(owner.workspace_id, &first_id)),
            Some(&owner.key),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let second_id = rotated.body["id"].as_str().unwrap();
    app.post(
        &format!("{}/revoke", key_path(owner.workspace_id, second_id)),
        &owner.key,
        json!({"reason": "done"}),
    )
    .await;
    let secrets = [
        owner.key.clone(),
        first.body["key"].as_str().unwrap().to_owned(),
        rotated.body["key"].as_str().unwrap().to_owned(),
    ];

    let audit = format!("/api/v1/workspaces/{}/audit-events", owner.workspace_id);
    let all = app.get(&format!("{audit}?limit=200"), &owner.key).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    for secret in &secrets {
        assert!(!all.text.contains(secret.as_str()));
        assert!(!all.text.contains(&secret[3..35]), "nor its 32-char body");
    }
    let actor_key = listed(&app, &owner, "")
        .await
        .into_iter()
        .find(|k| k["key_prefix"] == json!(&owner.key[..11]))
        .unwrap();
    let events = all.body.as_array().unwrap();
    for action in ["api_key.created", "api_key.rotated", "api_key.revoked"] {
        let event = events
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {}", all.text));
        assert_eq!(
            event["actor"],
            json!({"type": "api_key", "id": actor_key["id"]}),
            "{action}"
        );
    }

    let revokes = app
        .get(&format!("{audit}?action=api_key.revoked"), &owner.key)
        .await;
    let revokes = revokes.body.as_array().unwrap();
    assert!(!revokes.is_empty());
    assert!(revokes.iter().all(|e| e["action"] == "api_key.revoked"));
    let about_first = app
        .get(&format!("{audit}?target_id={first_id}"), &owner.key)
        .await;
    let about_first = about_first.body.as_array().unwrap();
    assert!(about_first.iter().any(|e| e["action"] == "api_key.created"));
    assert!(about_first
        .iter()
        .all(|e| e["target"]["id"] == json!(first_id)));
    assert!(about_first.len() < events.len());
}
