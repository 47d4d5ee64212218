//! The OpenAPI document describes what the server really takes (issue 17, item 3): each
//! mismatch schemathesis found (scripts/schemathesis.sh) is checked here over HTTP, both
//! ways: what a documented pattern admits, the server accepts; what it refuses, the server
//! refuses too.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{keys_path, member_path, members_path, reply, Owner, Reply, TestApp};

async fn document(app: &TestApp) -> Value {
    app.call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body
}

/// The pattern of a component schema, compiled by the `regex` crate (the document's
/// patterns keep to what it shares with ECMA-262 and Python).
fn pattern(doc: &Value, schema: &str) -> regex::Regex {
    let raw = doc["components"]["schemas"][schema]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema} has no pattern"));
    regex::Regex::new(raw).unwrap()
}

/// For each value, the server's answer agrees with the document's pattern: `accepted` when
/// it matches, `422` when it does not.
async fn assert_agree<F, Fut>(doc: &Value, schema: &str, values: &[&str], accepted: &[u16], send: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let re = pattern(doc, schema);
    for value in values {
        let r = send((*value).to_owned()).await;
        let documented = re.is_match(value);
        let took = accepted.contains(&r.status.as_u16());
        assert_eq!(
            took, documented,
            "{schema} {value:?}: the pattern says {documented}, the server answered {} {}",
            r.status, r.text
        );
        if !took {
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{value:?}: {}",
                r.text
            );
        }
    }
}

#[tokio::test]
async fn the_name_pattern_admits_exactly_the_names_the_server_takes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let doc = document(&app).await;
    let (hundred, long) = ("é".repeat(100), "x".repeat(101));
    let padded = format!(" \t{}\u{3000}", "x".repeat(100));
    let names = [
        "ci",
        " padded ",
        "",
        "   ",
        "a\tb",
        "\u{85}",
        "\u{feff}bom",
        "a\u{7f}",
        &hundred,
        &long,
        &padded,
    ];
    assert_agree(&doc, "Name", &names, &[201], |name| {
        app.create_key(&owner, json!({ "name": name }))
    })
    .await;
}

#[tokio::test]
async fn the_email_pattern_admits_exactly_the_addresses_the_server_takes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let doc = document(&app).await;
    let members = members_path(owner.workspace_id);
    let emails = [
        "a@b.co",
        " Ada@Example.COM\t",
        "é@例え.jp",
        "a b@c.de",
        "ab@c",
        "@c.de",
        "a@.cd",
        "a@cd.",
        "a@@c.de",
        "a@c.d\u{7}",
        "a@c..d",
    ];
    assert_agree(&doc, "Email", &emails, &[201, 202], |email| {
        let body = json!({ "email": email, "role": "member" });
        app.post(&members, &owner.key, body)
    })
    .await;
}

#[tokio::test]
async fn the_key_prefix_pattern_admits_exactly_the_prefixes_the_server_takes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let doc = document(&app).await;
    let prefixes = [
        "kw_",
        "sk_live_",
        "kwsvc_",
        "kwsvc_live_",
        "kwsv_",
        "kwsvcx_",
        "kwsvd_",
        "Kw_",
        "kw",
        "a_b_c_",
        "abcdefghijklmnop_",
        "abcdefghijklmnopq_",
        "sk_abcdefgh_",
        "sk_abcdefghi_",
    ];
    let path = format!("/api/v1/workspaces/{}", owner.workspace_id);
    assert_agree(&doc, "WorkspaceKeyPrefix", &prefixes, &[200], |prefix| {
        app.patch(&path, &owner.key, json!({ "key_prefix": prefix }))
    })
    .await;
}

#[tokio::test]
async fn the_scope_patterns_are_this_servers_catalog() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let doc = document(&app).await;
    let scopes = [
        "*",
        "apps",
        "apps:read",
        "apps:read:app-42",
        "apps:nope",
        "nope",
        "api_keys:write",
        "apps:read:",
        "billing",
        "Apps:read",
    ];
    assert_agree(&doc, "Scope", &scopes, &[201], |scope| {
        app.create_key(&owner, json!({ "name": "s", "scopes": [scope] }))
    })
    .await;
    // A membership takes product scopes only.
    let (user, _) = app
        .member(owner.workspace_id, keyward_core::model::Role::Member, true)
        .await;
    let path = member_path(owner.workspace_id, user.id);
    assert_agree(&doc, "ProductScope", &scopes, &[200], |scope| {
        app.patch(&path, &owner.key, json!({ "scopes": [scope] }))
    })
    .await;
    // The schemas follow the configuration: another catalog, another pattern.
    let other = TestApp::spawn_with(|c| c.scopes = vec!["reports:read".into()]).await;
    let doc = document(&other).await;
    assert!(pattern(&doc, "Scope").is_match("reports:read:q3"));
    assert!(!pattern(&doc, "Scope").is_match("apps:read"));
    assert!(pattern(&doc, "ProductScope").is_match("reports"));
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_400_even_where_serde_would_read_an_array() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    // Until this was refused, `[null, null]` was read as `{"role": null, "scopes": null}`
    // and answered 200 (schemathesis, ST201).
    let member = member_path(owner.workspace_id, owner.user.id);
    for (method, path, body) in [
        (Method::PATCH, member.as_str(), "[null, null]"),
        (Method::POST, &keys_path(owner.workspace_id), "[\"ci\"]"),
        (Method::POST, "/api/v1/workspaces", "\"acme\""),
    ] {
        let r = send_raw(&app, &owner, method.clone(), path, body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{method} {path} {body}: {}",
            r.text
        );
    }
}

async fn send_raw(app: &TestApp, owner: &Owner, method: Method, path: &str, body: &str) -> Reply {
    let req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&owner.key)
        .header("content-type", "application/json")
        .body(body.to_owned());
    reply(req.send().await.unwrap()).await
}

#[tokio::test]
async fn an_optional_body_is_documented_as_left_out_and_a_null_one_is_400() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let doc = document(&app).await;
    let op = &doc["paths"]["/api/v1/workspaces/{workspace_id}/api-keys/{id}/revoke"]["post"];
    assert_ne!(op["requestBody"]["required"], true, "{op}");
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        schema["$ref"], "#/components/schemas/RevokeIn",
        "no null branch: {schema}"
    );

    let created = app.create_key(&owner, json!({ "name": "ci" })).await;
    let revoke = format!(
        "{}/{}/revoke",
        keys_path(owner.workspace_id),
        created.body["id"].as_str().unwrap()
    );
    let null = send_raw(&app, &owner, Method::POST, &revoke, "null").await;
    assert_eq!(null.status, StatusCode::BAD_REQUEST, "{}", null.text);
    let none = app
        .call(Method::POST, &revoke, Some(&owner.key), None)
        .await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text);
}

#[tokio::test]
async fn no_parameter_is_documented_as_nullable_and_a_null_workspace_header_is_400() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let types = &param["schema"]["type"];
                assert!(
                    !types.as_array().is_some_and(|t| t.contains(&json!("null"))),
                    "{method} {path} {}: {types}",
                    param["name"]
                );
            }
        }
    }
    let r = reply(
        app.client
            .get(app.url("/api/v1/users/current"))
            .bearer_auth(&owner.key)
            .header("x-workspace-id", "null")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

#[tokio::test]
async fn a_whole_number_written_with_a_fraction_part_is_the_integer_it_is() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    for (grace, status) in [
        ("60.0", StatusCode::CREATED),
        ("60.5", StatusCode::BAD_REQUEST),
        ("-1", StatusCode::BAD_REQUEST),
    ] {
        let created = app.create_key(&owner, json!({ "name": "ci" })).await;
        let rotate = format!(
            "{}/{}/rotate",
            keys_path(owner.workspace_id),
            created.body["id"].as_str().unwrap()
        );
        let body = format!("{{\"grace_period_seconds\": {grace}}}");
        let r = send_raw(&app, &owner, Method::POST, &rotate, &body).await;
        assert_eq!(r.status, status, "{grace}: {}", r.text);
    }
}

#[tokio::test]
async fn a_created_key_links_to_every_operation_that_takes_its_id() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let created =
        &doc["paths"]["/api/v1/workspaces/{workspace_id}/api-keys"]["post"]["responses"]["201"];
    for target in [
        "get_key",
        "update_key",
        "revoke_key",
        "rotate_key",
        "delete_key",
    ] {
        let link = &created["links"][target];
        assert_eq!(link["operationId"], target, "{link}");
        assert_eq!(link["parameters"]["id"], "$response.body#/id", "{link}");
        assert_eq!(
            link["parameters"]["workspace_id"],
            "$response.body#/workspace_id"
        );
    }
    let added = &doc["paths"]["/api/v1/workspaces/{workspace_id}/members"]["post"]["responses"];
    assert_eq!(
        added["201"]["links"]["remove_member"]["parameters"]["user_id"],
        "$response.body#/user_id"
    );
    assert_eq!(
        added["202"]["links"]["withdraw_invitation"]["parameters"]["invitation_id"],
        "$response.body#/id"
    );
}

#[tokio::test]
async fn a_search_for_a_control_character_finds_nothing_on_every_backend() {
    // PostgreSQL text cannot hold NUL: `?q=%00` was a 500 there (schemathesis, over
    // PostgreSQL). No name holds a control character, so such a search matches nothing.
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.create_key(&owner, json!({ "name": "a b" })).await;
    for q in ["%00", "a%00", "%07", "a%0Ab"] {
        let r = app
            .get(
                &format!("{}?q={q}", keys_path(owner.workspace_id)),
                &owner.key,
            )
            .await;
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::OK, &json!([])),
            "{q}: {}",
            r.text
        );
    }
    let found = app
        .get(
            &format!("{}?q=a%20b", keys_path(owner.workspace_id)),
            &owner.key,
        )
        .await;
    assert_eq!(
        found.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        found.text
    );
}
