//! The native API's JSON bodies under fuzzing: create key, update key, verify and log in
//! (PRODUCT.md §4, §6), each sent through the whole router, each answer held to the
//! properties of [`crate::checks`] and to what the spec says that endpoint does with it.

use axum::http::Method;
use keyward::http::dto::{CreateKeyIn, UpdateKeyIn, VerifyIn};
use keyward::http::routes::auth::LoginIn;
use keyward_core::key_format;
use keyward_core::verify::VerifyCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::{App, Reply};
use crate::checks::{self, Shape};
use crate::rules::{self, Expectation, Sent};

const JSON: &str = "application/json";

/// `POST /workspaces/{wid}/api-keys`.
pub fn create_key(app: &App, body: &[u8]) {
    let path = format!("/api/v1/workspaces/{}/api-keys", app.workspace_id);
    let reply = app.as_owner(Method::POST, &path, JSON, body);
    checks::answer(&reply, Shape::Native, &[201, 400, 422], body);
    let created = (reply.status == 201).then(|| id_of(&reply));
    match parse::<CreateKeyIn>(body) {
        Err(e) => refused_body(&reply, &e),
        Ok(input) => {
            let expect = Expectation::of(Sent {
                name: Some(&input.name),
                expires_at: input.expires_at.as_deref(),
                scopes: input.scopes.as_deref(),
                metadata: input.metadata.as_ref(),
            });
            held_to(&reply, Shape::Native, &expect, 201);
            if reply.status == 201 {
                let scopes = rules::kept_scopes(input.scopes.as_deref());
                the_key_is(
                    &reply.json,
                    &input.name,
                    input.expires_at.as_deref(),
                    &scopes,
                );
                assert_eq!(
                    reply.json.as_ref().map(|k| &k["metadata"]),
                    Some(input.metadata.as_ref().unwrap_or(&json!({}))),
                );
                the_secret_verifies(app, &reply);
            }
        }
    }
    if let Some(id) = created {
        app.delete_key(id);
    }
}

/// `PATCH /workspaces/{wid}/api-keys/{id}` on a fresh key (`canary`, no expiry, `["*"]`,
/// no metadata), deleted afterwards.
pub fn update_key(app: &App, body: &[u8]) {
    let id = app.fresh_key();
    let path = format!("/api/v1/workspaces/{}/api-keys/{id}", app.workspace_id);
    let reply = app.as_owner(Method::PATCH, &path, JSON, body);
    checks::answer(&reply, Shape::Native, &[200, 400, 422], body);
    match parse::<UpdateKeyIn>(body) {
        Err(e) => refused_body(&reply, &e),
        Ok(input) => {
            let expect = Expectation::of(Sent {
                name: input.name.as_deref(),
                // `null` clears the expiry: nothing to check.
                expires_at: input.expires_at.as_ref().and_then(Option::as_deref),
                scopes: input.scopes.as_deref(),
                metadata: input.metadata.as_ref(),
            });
            held_to(&reply, Shape::Native, &expect, 200);
            if reply.status == 200 {
                let scopes = rules::kept_scopes(input.scopes.as_deref());
                let name = input.name.as_deref().unwrap_or("canary");
                let expires_at = input.expires_at.clone().flatten();
                the_key_is(&reply.json, name, expires_at.as_deref(), &scopes);
                assert_eq!(id_of(&reply), id);
                let metadata = reply.json.as_ref().map(|k| &k["metadata"]);
                assert_eq!(
                    metadata,
                    Some(input.metadata.as_ref().unwrap_or(&json!({})))
                );
            }
        }
    }
    app.delete_key(id);
}

/// `POST /keys/verify` with the service token. The input may name the known keys by their
/// placeholders (`@full`, `@part`, `@gone`, `@hex`).
pub fn verify(app: &App, raw: &[u8]) {
    let body = app.substitute(raw);
    let bearer = format!("Bearer {}", app.service_token);
    let reply = app.call(
        Method::POST,
        "/api/v1/keys/verify",
        &[
            ("authorization", bearer.as_bytes()),
            ("content-type", JSON.as_bytes()),
        ],
        body.clone(),
    );
    checks::answer(&reply, Shape::Native, &[200, 400, 422], &body);
    let input = match parse::<VerifyIn>(&body) {
        Err(e) => return refused_body(&reply, &e),
        Ok(input) => input,
    };
    assert_eq!(
        reply.status,
        200,
        "a well-formed verify body: {}",
        reply.text()
    );
    let answer = reply.json.unwrap_or_default();
    let required = input.scopes.unwrap_or_default();
    let (code, key) = expected_verdict(app, &input.key, &required);
    assert_eq!(answer["code"], json!(code.as_str()), "{answer}");
    assert_eq!(
        answer["valid"],
        json!(code == VerifyCode::Valid),
        "{answer}"
    );
    match &key {
        Some((id, held)) => {
            assert_eq!(answer["key"]["id"], json!(id), "{answer}");
            assert_eq!(answer["key"]["scopes"], json!(held), "{answer}");
        }
        None => assert!(answer.get("key").is_none(), "{answer}"),
    }
    if code == VerifyCode::InsufficientScope {
        let held = key.map(|(_, held)| held).unwrap_or_default();
        let missing: Vec<&String> = required
            .iter()
            .filter(|r| !rules::grants(&held, r))
            .collect();
        assert_eq!(answer["missing_scopes"], json!(missing), "{answer}");
    } else {
        assert!(answer.get("missing_scopes").is_none(), "{answer}");
    }
}

/// PRODUCT.md §6 on a presented string: a known key's status and scopes decide; anything
/// else is `MALFORMED` when the format refuses it (this instance has no imported keys) and
/// `NOT_FOUND` otherwise.
fn expected_verdict(
    app: &App,
    presented: &str,
    required: &[String],
) -> (VerifyCode, Option<(Uuid, Vec<String>)>) {
    let known = app.known.iter().find(|k| k.secret == presented);
    let held = match known {
        Some(k) if k.revoked => return (VerifyCode::Revoked, None),
        Some(k) => (k.id, k.scopes.clone()),
        None if key_format::parse(presented).is_err() => return (VerifyCode::Malformed, None),
        None => return (VerifyCode::NotFound, None),
    };
    if required.iter().all(|r| rules::grants(&held.1, r)) {
        (VerifyCode::Valid, Some(held))
    } else {
        (VerifyCode::InsufficientScope, Some(held))
    }
}

/// `POST /auth/login`. No user of the fuzzed instance has a password, so no input logs in:
/// a well-formed body is refused (`401`) or, after ten failures in a minute, rate limited.
pub fn login(app: &App, body: &[u8]) {
    let reply = app.call(
        Method::POST,
        "/api/v1/auth/login",
        &[("content-type", JSON.as_bytes())],
        body.to_vec(),
    );
    checks::answer(&reply, Shape::Native, &[400, 401, 422, 429], body);
    match parse::<LoginIn>(body) {
        Err(e) => refused_body(&reply, &e),
        Ok(_) => assert!(
            [401, 429].contains(&reply.status.as_u16()),
            "a well-formed log-in got {}",
            reply.status
        ),
    }
}

/// Why a body is refused before any rule is asked.
pub enum Refusal {
    /// Every body the API takes is a JSON object: anything else is malformed (`400`),
    /// even what a derived wire type would read, such as an array of its fields in order.
    NotAnObject,
    /// The wire type refused it.
    Serde(serde_json::Error),
}

/// A body as the server reads it: a JSON object, then the endpoint's wire type.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let first = body
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first.is_some_and(|b| *b != b'{') {
        return Err(Refusal::NotAnObject);
    }
    serde_json::from_slice(body).map_err(Refusal::Serde)
}

/// A refused body is `400`, or `422` naming the field when only a required field is
/// missing (PRODUCT.md §7).
pub fn refused_body(reply: &Reply, refusal: &Refusal) {
    let (expected, why) = match refusal {
        Refusal::NotAnObject => (400, "not a JSON object".to_owned()),
        Refusal::Serde(e) => {
            let missing = e.classify() == serde_json::error::Category::Data
                && e.to_string().starts_with("missing field");
            (if missing { 422 } else { 400 }, format!("serde said {e}"))
        }
    };
    assert_eq!(
        reply.status.as_u16(),
        expected,
        "{why}; the server said {}",
        reply.text()
    );
}

/// The server's 2xx or 422 against the model: a field the model finds invalid is named in
/// the error, and a body the model finds wholly valid succeeds.
pub fn held_to(reply: &Reply, shape: Shape, expect: &Expectation, success: u16) {
    let fields = checks::invalid_fields(reply, shape);
    for field in &expect.invalid {
        assert!(
            reply.status == 422 && fields.iter().any(|f| f == field),
            "{field} is invalid, yet: {}",
            reply.text()
        );
    }
    if expect.valid() {
        assert_eq!(reply.status.as_u16(), success, "{}", reply.text());
    }
    assert!(
        [success, 422].contains(&reply.status.as_u16()),
        "{}",
        reply.text()
    );
}

/// A key object (PRODUCT.md §4) with this name, expiry and scopes, active (or expired, when
/// its expiry was close enough to now to have passed since).
pub fn the_key_is(key: &Option<Value>, name: &str, expires_at: Option<&str>, scopes: &[String]) {
    let key = key.as_ref().unwrap_or_else(|| panic!("no key object"));
    assert_eq!(key["name"], json!(name.trim()), "{key}");
    let expired_ok = rules::may_have_expired(expires_at) && key["status"] == json!("expired");
    assert!(key["status"] == json!("active") || expired_ok, "{key}");
    assert_eq!(key["scopes"], json!(scopes), "{key}");
    let access = if scopes == ["*"] { "full" } else { "custom" };
    assert_eq!(key["access"], json!(access), "{key}");
    let sent = expires_at.map(|raw| {
        let at = chrono::DateTime::parse_from_rfc3339(raw)
            .unwrap_or_else(|e| panic!("accepted expires_at {raw:?}: {e}"));
        // Stored to the millisecond, like every time (validate.rs).
        at.timestamp_millis()
    });
    let kept = key["expires_at"].as_str().map(|raw| {
        chrono::DateTime::parse_from_rfc3339(raw)
            .unwrap_or_else(|e| panic!("answered expires_at {raw:?}: {e}"))
            .timestamp_millis()
    });
    assert_eq!(sent, kept, "{key}");
}

/// The secret in a create's answer parses as a key of the workspace's shape, matches the
/// answer's `key_prefix`, and verifies as the key the answer describes.
pub fn the_secret_verifies(app: &App, reply: &Reply) {
    let created = reply.json.as_ref().unwrap_or_else(|| panic!("no body"));
    let secret = created["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret: {created}"));
    let parsed = key_format::parse(secret).unwrap_or_else(|e| panic!("{secret}: {e:?}"));
    assert_eq!(
        created["key_prefix"],
        json!(format!("{}{}", parsed.prefix, &parsed.body[..8]))
    );
    let expiry = created["expires_at"].as_str();
    verifies_as(app, secret, id_of(reply), rules::may_have_expired(expiry));
}

/// `secret` verifies, with no scopes asked, as key `id`; or, when `may_have_expired`, is
/// `EXPIRED`.
pub fn verifies_as(app: &App, secret: &str, id: Uuid, may_have_expired: bool) {
    let verdict = app
        .block_on(app.service.verifier().verify(secret, &[]))
        .unwrap_or_else(|e| panic!("verify: {e}"));
    if may_have_expired && verdict.code == VerifyCode::Expired {
        return;
    }
    assert_eq!(verdict.code, VerifyCode::Valid, "{secret}");
    assert_eq!(verdict.key.map(|k| k.id), Some(id));
}

/// The `id` of a key object.
pub fn id_of(reply: &Reply) -> Uuid {
    reply
        .json
        .as_ref()
        .and_then(|k| k["id"].as_str())
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("no key id in {}", reply.text()))
}
