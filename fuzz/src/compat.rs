//! The wire profiles' request parsers under fuzzing (PRODUCT.md §11): smplkit's JSON:API
//! create and edit, simpledeploy's and Skillett's create, and Signalsmith's
//! `X-Workspace-ID` header, each sent through the router with every profile on.
//!
//! Each profile's body is modelled by a wire type written here from the seed doc, not taken
//! from the adapter, so the adapter's own parsing is what is under test.

use axum::http::Method;
use keyward_core::key_format;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::{App, Reply};
use crate::checks::{self, Shape};
use crate::native::{held_to, parse, refused_body, verifies_as};
use crate::rules::{self, Expectation, Sent};

pub const PROFILES: [&str; 4] = ["smplkit", "simpledeploy", "skillett", "signalsmith"];

const JSON_API: &str = "application/vnd.api+json";

/// smplkit's create document: `{"data": {"type": "api_key", "attributes": {...}}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmplkitCreate {
    data: SmplkitCreateData,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmplkitCreateData {
    #[serde(rename = "type")]
    kind: String,
    attributes: SmplkitCreateAttributes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmplkitCreateAttributes {
    name: String,
    expires_at: Option<String>,
}

/// smplkit's edit document: `data.id` and `data.type` name the key, `name` and `expires_at`
/// (which `null` clears) are the attributes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmplkitUpdate {
    data: SmplkitUpdateData,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmplkitUpdateData {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    attributes: SmplkitUpdateAttributes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmplkitUpdateAttributes {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    expires_at: Option<Option<String>>,
}

/// simpledeploy's `{name, expires_at?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimpledeployCreate {
    name: String,
    expires_at: Option<String>,
}

/// Skillett's `{name, scopes?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkillettCreate {
    name: String,
    scopes: Option<Vec<String>>,
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `POST /api/v1/api_keys`: a document of another `type` is `409`, then the attributes are
/// checked; a created key's secret is in `data.attributes.secret`.
pub fn smplkit_create(app: &App, body: &[u8]) {
    let reply = app.as_owner(Method::POST, "/api/v1/api_keys", JSON_API, body);
    checks::answer(&reply, Shape::JsonApi, &[201, 400, 409, 422], body);
    let created = (reply.status == 201).then(|| resource_id(&reply));
    match parse::<SmplkitCreate>(body) {
        Err(e) => refused_body(&reply, &e),
        Ok(doc) if doc.data.kind != "api_key" => assert_eq!(reply.status, 409),
        Ok(doc) => {
            let attributes = doc.data.attributes;
            let expect = Expectation::of(Sent {
                name: Some(&attributes.name),
                expires_at: attributes.expires_at.as_deref(),
                ..Sent::default()
            });
            held_to(&reply, Shape::JsonApi, &expect, 201);
            if let Some(id) = created {
                smplkit_resource(&reply, &attributes.name, attributes.expires_at.as_deref());
                let attrs = reply.json.as_ref().map(|d| &d["data"]["attributes"]);
                let secret = attrs.and_then(|a| a["secret"].as_str()).unwrap_or_default();
                let parsed = key_format::parse(secret).unwrap_or_else(|e| panic!("{e:?}"));
                assert_eq!(
                    attrs.map(|a| &a["key_prefix"]),
                    Some(&json!(format!("{}{}", parsed.prefix, &parsed.body[..8])))
                );
                let near = rules::may_have_expired(attributes.expires_at.as_deref());
                verifies_as(app, secret, id, near);
            }
        }
    }
    if let Some(id) = created {
        app.delete_key(id);
    }
}

/// `PATCH` or `PUT /api/v1/api_keys/{id}` on a fresh key; `@id` in the input is that key's
/// id. `data.type` other than `api_key`, or `data.id` other than the path's, is `409`.
pub fn smplkit_update(app: &App, method: Method, raw: &[u8]) {
    let id = app.fresh_key();
    let body = crate::app::replace(raw, b"@id", id.to_string().as_bytes());
    let path = format!("/api/v1/api_keys/{id}");
    let reply = app.as_owner(method, &path, JSON_API, &body);
    checks::answer(&reply, Shape::JsonApi, &[200, 400, 409, 422], &body);
    match parse::<SmplkitUpdate>(&body) {
        Err(e) => refused_body(&reply, &e),
        Ok(doc) if doc.data.kind != "api_key" || doc.data.id != id.to_string() => {
            assert_eq!(reply.status, 409, "{}", reply.text());
        }
        Ok(doc) => {
            let attributes = doc.data.attributes;
            let expect = Expectation::of(Sent {
                name: attributes.name.as_deref(),
                expires_at: attributes.expires_at.as_ref().and_then(Option::as_deref),
                ..Sent::default()
            });
            held_to(&reply, Shape::JsonApi, &expect, 200);
            if reply.status == 200 {
                let name = attributes.name.as_deref().unwrap_or("canary");
                let expires_at = attributes.expires_at.flatten();
                smplkit_resource(&reply, name, expires_at.as_deref());
                assert_eq!(resource_id(&reply), id);
            }
        }
    }
    app.delete_key(id);
}

/// A JSON:API key resource with this name and expiry, `ACTIVE` (or `EXPIRED`, when its
/// expiry was close enough to now to have passed since).
fn smplkit_resource(reply: &Reply, name: &str, expires_at: Option<&str>) {
    let doc = reply.json.as_ref().unwrap_or_else(|| panic!("no document"));
    assert_eq!(doc["data"]["type"], json!("api_key"), "{doc}");
    let attributes = &doc["data"]["attributes"];
    assert_eq!(attributes["name"], json!(name.trim()), "{doc}");
    let expired_ok =
        rules::may_have_expired(expires_at) && attributes["status"] == json!("EXPIRED");
    assert!(
        attributes["status"] == json!("ACTIVE") || expired_ok,
        "{doc}"
    );
    assert_eq!(
        millis(expires_at),
        millis(attributes["expires_at"].as_str()),
        "{doc}"
    );
}

/// `POST /api/apikeys`: `{id: <number>, name, key}`.
pub fn simpledeploy_create(app: &App, body: &[u8]) {
    let reply = app.as_owner(Method::POST, "/api/apikeys", "application/json", body);
    checks::answer(&reply, Shape::Native, &[201, 400, 422], body);
    let mut created = None;
    match parse::<SimpledeployCreate>(body) {
        Err(e) => refused_body(&reply, &e),
        Ok(input) => {
            let expect = Expectation::of(Sent {
                name: Some(&input.name),
                expires_at: input.expires_at.as_deref(),
                ..Sent::default()
            });
            held_to(&reply, Shape::Native, &expect, 201);
            if reply.status == 201 {
                let out = reply.json.as_ref().unwrap_or_else(|| panic!("no body"));
                assert!(out["id"].as_i64().is_some_and(|n| n > 0), "{out}");
                assert_eq!(out["name"], json!(input.name.trim()), "{out}");
                let seq = out["id"].as_i64().unwrap_or_default();
                let key = app
                    .block_on(app.service.get_key_by_seq(&app.owner, seq))
                    .unwrap_or_else(|e| panic!("key number {seq}: {e}"));
                created = Some(key.id);
                assert_eq!(
                    key.expires_at.map(|t| t.timestamp_millis()),
                    millis(input.expires_at.as_deref())
                );
                let near = rules::may_have_expired(input.expires_at.as_deref());
                verifies_as(app, out["key"].as_str().unwrap_or_default(), key.id, near);
            }
        }
    }
    if let Some(id) = created {
        app.delete_key(id);
    }
}

/// `POST /api-keys`: `{"api_key": {id: "key_…", ...}, "full_key": ...}`; errors are
/// `{"error", "message"}`.
pub fn skillett_create(app: &App, body: &[u8]) {
    let reply = app.as_owner(Method::POST, "/api-keys", "application/json", body);
    checks::answer(&reply, Shape::Skillett, &[201, 400, 422], body);
    let mut created = None;
    match parse::<SkillettCreate>(body) {
        Err(e) => refused_body(&reply, &e),
        Ok(input) => {
            let expect = Expectation::of(Sent {
                name: Some(&input.name),
                scopes: input.scopes.as_deref(),
                ..Sent::default()
            });
            held_to(&reply, Shape::Skillett, &expect, 201);
            if reply.status == 201 {
                let out = reply.json.as_ref().unwrap_or_else(|| panic!("no body"));
                let key = &out["api_key"];
                let id = key["id"]
                    .as_str()
                    .and_then(|id| id.strip_prefix("key_"))
                    .filter(|hex| hex.len() == 32)
                    .and_then(|hex| Uuid::try_parse(hex).ok())
                    .unwrap_or_else(|| panic!("not a key_ id: {out}"));
                assert_eq!(key["name"], json!(input.name.trim()), "{out}");
                let scopes = rules::kept_scopes(input.scopes.as_deref());
                assert_eq!(key["scopes"], json!(scopes), "{out}");
                verifies_as(app, out["full_key"].as_str().unwrap_or_default(), id, false);
                created = Some(id);
            }
        }
    }
    if let Some(id) = created {
        app.delete_key(id);
    }
}

/// Signalsmith's `DELETE /workspaces/{wid}/api-keys/{id}` with the input as `X-Workspace-ID`
/// (`@ws` in it is the workspace's id): naming the path's workspace, it revokes (`200
/// {"status": "revoked"}`); anything else is `400` and the key is untouched.
pub fn signalsmith_header(app: &App, raw: &[u8]) {
    let value = crate::app::replace(raw, b"@ws", app.workspace_id.to_string().as_bytes());
    if axum::http::HeaderValue::from_bytes(&value).is_err() {
        // Not a header value at all: no client can send it.
        return;
    }
    let id = app.fresh_key();
    let path = format!("/api/v1/workspaces/{}/api-keys/{id}", app.workspace_id);
    let bearer = format!("Bearer {}", app.owner_key);
    let reply = app.call(
        Method::DELETE,
        &path,
        &[
            ("authorization", bearer.as_bytes()),
            ("x-workspace-id", &value),
        ],
        Vec::new(),
    );
    checks::answer(&reply, Shape::Native, &[200, 400], &[]);
    // "Names the path's workspace": visible ASCII that, without surrounding blanks, is a
    // UUID in any of its written forms, equal to the path's.
    let names_it = std::str::from_utf8(&value)
        .ok()
        .filter(|s| s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
        .and_then(|s| Uuid::parse_str(s.trim_matches([' ', '\t'])).ok())
        == Some(app.workspace_id);
    let key = app
        .block_on(app.service.get_key(&app.owner, id))
        .unwrap_or_else(|e| panic!("the canary key: {e}"));
    if names_it {
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json, Some(json!({"status": "revoked"})));
        assert!(key.revoked_at.is_some(), "answered revoked, but it is not");
    } else {
        assert_eq!(reply.status, 400, "{:?}: {}", value, reply.text());
        assert!(key.revoked_at.is_none(), "refused, yet revoked");
    }
    app.delete_key(id);
}

/// The `data.id` of a JSON:API document.
fn resource_id(reply: &Reply) -> Uuid {
    reply
        .json
        .as_ref()
        .and_then(|d| d["data"]["id"].as_str())
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("no data.id in {}", reply.text()))
}

/// An RFC 3339 time as milliseconds, the precision keyward keeps.
fn millis(raw: Option<&str>) -> Option<i64> {
    raw.map(|raw| {
        chrono::DateTime::parse_from_rfc3339(raw)
            .unwrap_or_else(|e| panic!("{raw:?}: {e}"))
            .timestamp_millis()
    })
}
