//! The smplkit profile: every curl example of `seeds/smplkit-api-keys.txt`, run as written
//! against a server with `compat = ["smplkit"]` and keys prefixed `sk_api_`, then the rules
//! the doc states (owners and admins only, verified email, 50 keys per account) attacked with
//! the narrowest credential, in smplkit's JSON:API error shape.

use keyward_core::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::doc::{fields, sorted, Doc};
use crate::support::TestApp;

const HOST: &str = "https://app.smplkit.com";

const CREATE: &str = r#"curl -X POST https://app.smplkit.com/api/v1/api_keys \
  -H "Authorization: Bearer $SMPLKIT_API_KEY" \
  -H "Content-Type: application/vnd.api+json" \
  -d '{
    "data": {
      "type": "api_key",
      "attributes": {
        "name": "ci-payments-deploy",
        "expires_at": "2027-01-01T00:00:00Z"
      }
    }
  }'"#;

const RENAME: &str = r#"curl -X PUT https://app.smplkit.com/api/v1/api_keys/$KEY_ID \
  -H "Authorization: Bearer $SMPLKIT_API_KEY" \
  -H "Content-Type: application/vnd.api+json" \
  -d '{
    "data": {
      "type": "api_key",
      "id": "'$KEY_ID'",
      "attributes": {"name": "ci-payments-deploy-v2"}
    }
  }'"#;

const REVOKE: &str = r#"curl -X POST https://app.smplkit.com/api/v1/api_keys/$KEY_ID/actions/revoke \
  -H "Authorization: Bearer $SMPLKIT_API_KEY""#;

const DELETE: &str = r#"curl -X DELETE https://app.smplkit.com/api/v1/api_keys/$KEY_ID \
  -H "Authorization: Bearer $SMPLKIT_API_KEY""#;

const LIST: &str = r#"curl https://app.smplkit.com/api/v1/api_keys \
  -H "Authorization: Bearer $SMPLKIT_API_KEY""#;

const TRY_NEW: &str = r#"curl https://app.smplkit.com/api/v1/users/current \
  -H "Authorization: Bearer sk_api_<your_new_secret>""#;

const TRY_REVOKED: &str = r#"curl https://app.smplkit.com/api/v1/users/current \
  -H "Authorization: Bearer sk_api_<revoked_secret>""#;

const JSON_API: &str = "application/vnd.api+json";

/// The attributes the doc and PRODUCT.md §11 give a key, plus `secret` on create.
const ATTRIBUTES: [&str; 8] = [
    "name",
    "key_prefix",
    "status",
    "created_at",
    "updated_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
];

async fn smplkit() -> TestApp {
    TestApp::spawn_with(|c| {
        c.compat = vec!["smplkit".into()];
        c.default_key_prefix = "sk_api_".into();
    })
    .await
}

/// A JSON:API error document with one error of this status and code.
fn assert_error(body: &Value, status: StatusCode, code: &str) {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["status"], status.as_str(), "{body}");
    assert_eq!(errors[0]["code"], code, "{body}");
    assert_eq!(
        errors[0]["title"],
        status.canonical_reason().unwrap(),
        "{body}"
    );
    assert!(errors[0]["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_of_the_smplkit_doc_runs_as_written() {
    let app = smplkit().await;
    let owner = app.owner().await;
    let mut doc = Doc::new(HOST, &app.base);
    doc.var("SMPLKIT_API_KEY", &owner.key)
        .future_date("2027-01-01T00:00:00Z");

    // Create: 201, the secret in data.attributes.secret, exactly once.
    let created = doc.run(CREATE).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.content_type, JSON_API);
    let data = &created.body["data"];
    assert_eq!(data["type"], "api_key");
    let mut with_secret = ATTRIBUTES.to_vec();
    with_secret.push("secret");
    assert_eq!(fields(&data["attributes"]), sorted(&with_secret));
    assert_eq!(data["attributes"]["name"], "ci-payments-deploy");
    assert_eq!(data["attributes"]["status"], "ACTIVE");
    let secret = data["attributes"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk_api_"), "{secret}");
    assert!(secret.starts_with(data["attributes"]["key_prefix"].as_str().unwrap()));
    let key_id = data["id"].as_str().unwrap().to_owned();
    doc.var("KEY_ID", &key_id);

    // Rename, with the doc's own quoting of $KEY_ID inside the body.
    let renamed = doc.run(RENAME).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.content_type, JSON_API);
    assert_eq!(renamed.body["data"]["id"], key_id.as_str());
    assert_eq!(
        renamed.body["data"]["attributes"]["name"],
        "ci-payments-deploy-v2"
    );
    assert_eq!(
        fields(&renamed.body["data"]["attributes"]),
        sorted(&ATTRIBUTES)
    );

    // List (any role): the key is there, and no secret is anywhere in the listing.
    let listed = doc.run(LIST).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.content_type, JSON_API);
    let items = listed.body["data"].as_array().unwrap();
    assert!(items.iter().any(|k| k["id"] == key_id.as_str()));
    assert!(!listed.text.contains(&secret));
    assert!(items
        .iter()
        .all(|k| k["attributes"].get("secret").is_none()));

    // Try the new key: 200 with the user's profile.
    doc.placeholder("sk_api_<your_new_secret>", &secret);
    let current = doc.run(TRY_NEW).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.text);
    assert_eq!(current.body["user"]["id"], owner.user.id.to_string());
    assert_eq!(current.body["auth"]["key_id"], key_id.as_str());

    // Revoke: the row stays, marked REVOKED; the key answers 401 from the next request on.
    let revoked = doc.run(REVOKE).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body["data"]["attributes"]["status"], "REVOKED");
    assert!(revoked.body["data"]["attributes"]["revoked_at"].is_string());
    doc.placeholder("sk_api_<revoked_secret>", &secret);
    let after = doc.run(TRY_REVOKED).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text);
    let listed = doc.run(LIST).await;
    let row = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["attributes"]["status"], "REVOKED");

    // Delete a fresh key: 204, gone from listings, and 401 on the next request.
    let fresh = doc.run(CREATE).await;
    let fresh_secret = fresh.body["data"]["attributes"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh_id = fresh.body["data"]["id"].as_str().unwrap().to_owned();
    doc.var("KEY_ID", &fresh_id);
    let deleted = doc.run(DELETE).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert!(deleted.text.is_empty());
    doc.placeholder("sk_api_<revoked_secret>", &fresh_secret);
    let after = doc.run(TRY_REVOKED).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let listed = doc.run(LIST).await;
    assert!(!listed.text.contains(&fresh_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifty_first_key_of_an_account_is_409_counting_revoked_but_not_deleted_keys() {
    let app = smplkit().await;
    let owner = app.owner().await;
    let mut doc = Doc::new(HOST, &app.base);
    doc.var("SMPLKIT_API_KEY", &owner.key)
        .future_date("2027-01-01T00:00:00Z");

    // The owner's own key is the first of 50. One key revoked and one deleted on the way.
    let mut ids = Vec::new();
    for _ in 1..50 {
        let r = doc.run(CREATE).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.body["data"]["id"].as_str().unwrap().to_owned());
    }
    doc.var("KEY_ID", &ids[0]);
    assert_eq!(doc.run(REVOKE).await.status, StatusCode::OK);

    let refused = doc.run(CREATE).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.content_type, JSON_API);
    assert_error(&refused.body, StatusCode::CONFLICT, "key_limit_reached");

    // A deleted key no longer counts: there is room for exactly one more.
    doc.var("KEY_ID", &ids[1]);
    assert_eq!(doc.run(DELETE).await.status, StatusCode::NO_CONTENT);
    assert_eq!(doc.run(CREATE).await.status, StatusCode::CREATED);
    let refused = doc.run(CREATE).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_unverified_users_get_403_in_json_api_errors() {
    let app = smplkit().await;
    let owner = app.owner().await;
    let (_, member_key) = app.member(owner.workspace_id, Role::Member, true).await;
    let (_, unverified_admin) = app.member(owner.workspace_id, Role::Admin, false).await;
    let mut doc = Doc::new(HOST, &app.base);
    doc.future_date("2027-01-01T00:00:00Z");

    // "You must be an OWNER or ADMIN": a member's key may list, but not create.
    doc.var("SMPLKIT_API_KEY", &member_key);
    assert_eq!(doc.run(LIST).await.status, StatusCode::OK);
    let r = doc.run(CREATE).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_error(&r.body, StatusCode::FORBIDDEN, "insufficient_scope");

    // "Your email must be verified — unverified users get 403 even if they have the right role."
    doc.var("SMPLKIT_API_KEY", &unverified_admin);
    let r = doc.run(CREATE).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_error(&r.body, StatusCode::FORBIDDEN, "email_unverified");

    // No credential, or a bad one: 401 with WWW-Authenticate, in the same shape.
    let r = app
        .call(Method::GET, "/api/v1/api_keys", Some("sk_api_nope"), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.contains_key("www-authenticate"));
    assert_eq!(r.headers["content-type"], JSON_API);
    assert_error(&r.body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_api_documents_are_checked_and_errors_point_at_the_attribute() {
    let app = smplkit().await;
    let owner = app.owner().await;
    let post = |body: Value| app.post("/api/v1/api_keys", &owner.key, body);

    // A missing or empty name is 422, with a pointer at the attribute.
    let r = post(json!({"data": {"type": "api_key", "attributes": {"name": " "}}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["errors"][0]["code"], "validation_failed");
    assert_eq!(
        r.body["errors"][0]["source"]["pointer"],
        "/data/attributes/name"
    );
    // A past expiry is refused the same way.
    let r = post(json!({"data": {"type": "api_key",
        "attributes": {"name": "old", "expires_at": "2020-01-01T00:00:00Z"}}}))
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["errors"][0]["source"]["pointer"],
        "/data/attributes/expires_at"
    );
    // A document of another type is a conflict, as JSON:API says.
    let r = post(json!({"data": {"type": "user", "attributes": {"name": "x"}}})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_error(&r.body, StatusCode::CONFLICT, "conflict");

    // PUT with a data.id other than the path's is a conflict, and changes nothing.
    let made = post(json!({"data": {"type": "api_key", "attributes": {"name": "keep"}}})).await;
    let id = made.body["data"]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/api_keys/{id}"),
            Some(&owner.key),
            Some(
                json!({"data": {"type": "api_key", "id": uuid::Uuid::now_v7().to_string(),
                "attributes": {"name": "stolen"}}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // PATCH is the same edit as PUT.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/api_keys/{id}"),
            Some(&owner.key),
            Some(json!({"data": {"type": "api_key", "id": id, "attributes": {"name": "kept"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["name"], "kept");
    let got = app.get(&format!("/api/v1/api_keys/{id}"), &owner.key).await;
    assert_eq!(got.body["data"]["attributes"]["name"], "kept");

    // An id that is not a key, and a method the path does not take, in the same shape.
    let r = app
        .get(
            &format!("/api/v1/api_keys/{}", uuid::Uuid::now_v7()),
            &owner.key,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_error(&r.body, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .call(Method::PATCH, "/api/v1/api_keys", Some(&owner.key), None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers.contains_key("allow"));
    assert_error(
        &r.body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_made_through_smplkit_is_the_same_key_on_the_native_api_and_verify() {
    let app = smplkit().await;
    let owner = app.owner().await;
    let token = app.service_token().await;
    let made = app
        .post(
            "/api/v1/api_keys",
            &owner.key,
            json!({"data": {"type": "api_key", "attributes": {"name": "both ways"}}}),
        )
        .await;
    let id = made.body["data"]["id"].as_str().unwrap().to_owned();
    let secret = made.body["data"]["attributes"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(app.verify_code(&token, &secret, None).await, "VALID");
    let native = app.get(&format!("/api/v1/api-keys/{id}"), &owner.key).await;
    assert_eq!(native.status, StatusCode::OK);
    assert_eq!(native.body["name"], "both ways");
    assert_eq!(app.audit_actions(&owner, &id).await, ["api_key.created"]);

    // Revoked natively, it reads REVOKED through smplkit, and verify says so at once.
    let r = app
        .post(
            &format!("/api/v1/api-keys/{id}/revoke"),
            &owner.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let got = app.get(&format!("/api/v1/api_keys/{id}"), &owner.key).await;
    assert_eq!(got.body["data"]["attributes"]["status"], "REVOKED");
    assert_eq!(app.verify_code(&token, &secret, None).await, "REVOKED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_links_next_until_every_key_is_listed_once() {
    let app = smplkit().await;
    let owner = app.owner().await;
    for n in 0..4 {
        let name = format!("key {n}");
        let r = app
            .post(
                "/api/v1/api_keys",
                &owner.key,
                json!({"data": {"type": "api_key", "attributes": {"name": name}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/api_keys?page[size]=2".to_owned());
    while let Some(path) = next {
        let page = app.get(&path, &owner.key).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|k| k["id"].as_str().unwrap().to_owned()));
        next = page.body["links"]["next"].as_str().map(str::to_owned);
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(
        (seen.len(), unique.len()),
        (5, 5),
        "the owner's key and four more"
    );

    let r = app.get("/api/v1/api_keys?page[size]=0", &owner.key).await;
    assert_error(&r.body, StatusCode::BAD_REQUEST, "bad_request");
    let r = app.get("/api/v1/api_keys?limit=2", &owner.key).await;
    assert_error(&r.body, StatusCode::BAD_REQUEST, "bad_request");
}
