//! Workspaces and the scope catalog: create one and own it, list mine, read the catalog.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, PRODUCT_SCOPES};

#[tokio::test]
async fn the_scope_catalog_lists_product_scopes_then_keywards_management_scopes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let catalog = app.get("/api/v1/scopes", &owner.key).await;
    assert_eq!(catalog.status, StatusCode::OK);
    let names: Vec<&str> = catalog
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut product = PRODUCT_SCOPES.to_vec();
    product.sort();
    assert_eq!(&names[..3], &product[..]);
    assert_eq!(
        &names[3..],
        [
            "api_keys:read",
            "api_keys:write",
            "members:read",
            "members:write",
            "workspace:read",
            "workspace:write",
            "audit:read"
        ]
    );
    assert!(catalog.body.as_array().unwrap().iter().all(|s| s["kind"]
        == if PRODUCT_SCOPES.contains(&s["name"].as_str().unwrap()) {
            "product"
        } else {
            "management"
        }));
    assert_eq!(
        app.call(Method::GET, "/api/v1/scopes", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn creating_a_workspace_makes_the_caller_its_owner() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let created = app
        .post(
            "/api/v1/workspaces",
            &owner.key,
            json!({"name": "Second product"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        (created.body["role"].clone(), created.body["plan"].clone()),
        (json!("owner"), json!("pro"))
    );
    assert_eq!(created.body["key_prefix"], "kw_");
    let new_id = created.body["id"].as_str().unwrap();

    // A key is scoped to its own workspace: it lists only that one, and cannot enter the new one.
    let listed = app.get("/api/v1/workspaces", &owner.key).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/workspaces/{new_id}"), &owner.key)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The user, through a session, sees both and owns the new one.
    let (cookie, _) = app.session(&owner.user).await;
    let mine = app
        .client
        .get(app.url("/api/v1/workspaces"))
        .header("cookie", format!("keyward_session={cookie}"))
        .send()
        .await
        .unwrap();
    let mine: serde_json::Value = mine.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let members = app
        .client
        .get(app.url(&format!("/api/v1/workspaces/{new_id}/members")))
        .header("cookie", format!("keyward_session={cookie}"))
        .send()
        .await
        .unwrap();
    let members: serde_json::Value = members.json().await.unwrap();
    assert_eq!(members[0]["user_id"], json!(owner.user.id));
    assert_eq!(members[0]["role"], "owner");
}

#[tokio::test]
async fn a_key_without_full_access_cannot_create_a_workspace() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let narrow = app
        .key_for(
            &owner.user,
            owner.workspace_id,
            Some(&["workspace:write", "api_keys:write"]),
        )
        .await;
    let refused = app
        .post(
            "/api/v1/workspaces",
            &narrow,
            json!({"name": "Escape hatch"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let blank = app
        .post("/api/v1/workspaces", &owner.key, json!({"name": "  "}))
        .await;
    assert_eq!(
        (blank.status, blank.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
}

#[tokio::test]
async fn emails_are_unique_and_matched_case_insensitively() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let ada = app.user("Ada.Lovelace@Example.COM", true).await;
    assert_eq!(ada.email, "ada.lovelace@example.com");
    let again = keyward_core::service::NewUser {
        email: "ADA.LOVELACE@example.com".into(),
        name: None,
        password: None,
        verified: true,
        workspace: None,
        role: keyward_core::model::Role::Owner,
    };
    let dup = app.service.create_user(again).await;
    assert!(
        matches!(dup, Err(keyward_core::Error::Conflict(_))),
        "{dup:?}"
    );

    let members = format!("/api/v1/workspaces/{}/members", owner.workspace_id);
    let added = app
        .post(
            &members,
            &owner.key,
            json!({"email": "aDa.LoVeLaCe@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["user_id"], json!(ada.id));
}

#[tokio::test]
async fn listing_workspaces_with_a_key_needs_workspace_read_like_reading_one() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let narrow = app.scoped_key(&owner, &["apps:read"]).await;
    for path in [
        "/api/v1/workspaces".to_owned(),
        format!("/api/v1/workspaces/{}", owner.workspace_id),
    ] {
        let r = app.get(&path, &narrow).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "insufficient_scope"),
            "{path}: {}",
            r.text
        );
    }
    let reader = app.scoped_key(&owner, &["workspace:read"]).await;
    let listed = app.get("/api/v1/workspaces", &reader).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
}
