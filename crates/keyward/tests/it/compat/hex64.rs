//! The `hex64` key format (PRODUCT.md §2): the workspace setting and `default_key_format`,
//! keys of both shapes verifying side by side, the checksum checked first for hex keys too,
//! and who may change the setting, through the API and the console.

use reqwest::{redirect, StatusCode};
use serde_json::json;

use crate::support::{keys_path, TestApp};

fn is_hex64(secret: &str, prefix: &str) -> bool {
    secret
        .strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b"0123456789abcdef".contains(&b)))
}

fn workspace_path(id: uuid::Uuid) -> String {
    format!("/api/v1/workspaces/{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hex64_workspace_mints_hex_keys_and_its_base62_keys_keep_working() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    assert!(!is_hex64(&owner.key, "kw_"), "base62 by default");
    let old = app.create_key(&owner, json!({"name": "old"})).await;
    let old_id = old.body["id"].as_str().unwrap().to_owned();

    let r = app
        .patch(
            &workspace_path(owner.workspace_id),
            &owner.key,
            json!({"key_format": "hex64"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["key_format"], "hex64");

    let new = app.create_key(&owner, json!({"name": "new"})).await;
    let secret = new.body["key"].as_str().unwrap();
    assert!(is_hex64(secret, "kw_"), "{secret}");
    assert_eq!(new.body["key_prefix"], &secret[..11]);
    assert_eq!(app.verify_code(&token, secret, None).await, "VALID");
    assert_eq!(
        app.verify_code(&token, old.body["key"].as_str().unwrap(), None)
            .await,
        "VALID"
    );
    assert_eq!(
        app.get("/api/v1/users/current", secret).await.status,
        StatusCode::OK
    );

    // Rotating a base62 key mints its successor in the workspace's format now.
    let rotated = app
        .post(
            &format!("/api/v1/api-keys/{old_id}/rotate"),
            &owner.key,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
    assert!(is_hex64(rotated.body["key"].as_str().unwrap(), "kw_"));

    // The change is audited, and going back affects new keys only.
    let audit = app
        .get(
            &format!(
                "/api/v1/workspaces/{}/audit-events?action=workspace.updated",
                owner.workspace_id
            ),
            &owner.key,
        )
        .await;
    assert_eq!(audit.body[0]["details"]["changed"]["key_format"], "hex64");
    app.patch(
        &workspace_path(owner.workspace_id),
        &owner.key,
        json!({"key_format": "base62"}),
    )
    .await;
    let back = app.create_key(&owner, json!({"name": "back"})).await;
    assert!(!is_hex64(back.body["key"].as_str().unwrap(), "kw_"));
    assert_eq!(app.verify_code(&token, secret, None).await, "VALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_caller_holding_workspace_write_may_change_the_format_to_a_known_one() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let path = workspace_path(owner.workspace_id);

    let r = app
        .patch(&path, &owner.key, json!({"key_format": "hex"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error"]["details"][0]["field"], "key_format");
    assert!(
        !r.text.contains("\"hex\""),
        "the error repeats the input: {}",
        r.text
    );

    // The narrowest credentials that could try: a member, and a key holding everything about
    // keys but not workspace:write.
    let (_, member) = app
        .member(owner.workspace_id, keyward_core::model::Role::Member, true)
        .await;
    let keys_only = app
        .scoped_key(
            &owner,
            &["api_keys:read", "api_keys:write", "workspace:read"],
        )
        .await;
    for credential in [&member, &keys_only] {
        let r = app
            .patch(&path, credential, json!({"key_format": "hex64"}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "insufficient_scope")
        );
    }
    let ws = app.get(&path, &owner.key).await;
    assert_eq!(ws.body["key_format"], "base62");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_key_format_sets_the_format_of_new_workspaces() {
    let app = TestApp::spawn_with(|c| {
        c.default_key_prefix = "sd_".into();
        c.default_key_format = keyward_core::key_format::KeyFormat::Hex64;
    })
    .await;
    let owner = app.owner().await;
    assert!(is_hex64(&owner.key, "sd_"), "{}", owner.key);
    let ws = app
        .get(&workspace_path(owner.workspace_id), &owner.key)
        .await;
    assert_eq!(ws.body["key_format"], "hex64");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hex64_key_with_a_bad_checksum_or_upper_case_is_malformed_and_401() {
    let app = TestApp::spawn_with(|c| {
        c.default_key_format = keyward_core::key_format::KeyFormat::Hex64;
    })
    .await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let mut typo = owner.key.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == '0' { '1' } else { '0' });
    let upper = format!("kw_{}", owner.key[3..].to_ascii_uppercase());
    for bad in [&typo, &upper] {
        assert_eq!(
            app.verify_code(&token, bad, None).await,
            "MALFORMED",
            "{bad}"
        );
        let r = app.get("/api/v1/users/current", bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.verify_code(&token, &owner.key, None).await, "VALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_settings_page_shows_and_changes_the_key_format() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (cookie, csrf) = app.session(&owner.user).await;
    let browser = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = format!("keyward_session={cookie}");

    let page = browser
        .get(app.url("/platform/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<option value="base62" selected>"#),
        "{page}"
    );

    let save = |format: &'static str| {
        browser
            .post(app.url("/platform/settings"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", "Acme"),
                ("key_prefix", "kw_"),
                ("key_format", format),
            ])
            .send()
    };
    let saved = save("hex64").await.unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let made = app
        .post(
            &keys_path(owner.workspace_id),
            &owner.key,
            json!({"name": "hex"}),
        )
        .await;
    assert!(is_hex64(made.body["key"].as_str().unwrap(), "kw_"));

    // An unknown format is refused on the page, in words, and changes nothing.
    let refused = save("octal").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(html.contains("base62 or hex64"), "{html}");
    let ws = app
        .get(&workspace_path(owner.workspace_id), &owner.key)
        .await;
    assert_eq!(ws.body["key_format"], "hex64");
}
