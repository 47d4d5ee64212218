//! The OpenAPI document's shared parts: its header, security schemes, the error responses
//! operations list, and schemas that come from domain constants; and its last touches once
//! every route is in ([`finish`], [`render`]). The operations themselves are declared on
//! their handlers, so the document is generated from the routes.

use keyward_core::scope::Catalog;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Required};
use utoipa::IntoResponses;

use super::error::ErrorBody;
use super::extract::SESSION_COOKIE;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "keyward",
        description = "Self-hosted API key service: manage and verify API keys.\n\n\
            Every error is one envelope, `{\"error\": {\"code\", \"message\", \"details\"?, \
            \"request_id\"}}`, and every response carries an `X-Request-Id` header. A path \
            called with a method it does not take answers `405 method_not_allowed`, with an \
            `Allow` header listing the methods it takes. A path and query over 8 KiB answer \
            `414 uri_too_long`, and headers over 32 KiB in all `431 headers_too_large` \
            (more than 100 header lines: a bare 431). The wire profiles turned on in \
            `compat` (tags `compat: …`) serve other products' documented APIs over the same \
            rules; the smplkit and Skillett ones answer errors in their own shapes, with the \
            same statuses and codes."
    ),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("session" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "api-keys", description = "Create, list, edit, rotate, revoke and delete API keys."),
        (name = "workspaces", description = "Workspaces and their settings."),
        (name = "members", description = "Who belongs to a workspace, with which role."),
        (name = "audit", description = "The append-only audit log of a workspace."),
        (name = "auth", description = "Sign-up, email verification, log-in and log-out, for the console."),
        (name = "users", description = "The caller."),
        (name = "scopes", description = "The scope catalog."),
        (name = "verify", description = "Key verification, for the operator's services."),
        (name = "secret-scanning", description = "Leaked keys reported by GitHub's secret scanning, revoked at once."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what))
                    .build(),
            )
        };
        components.add_security_scheme("bearer", bearer("An API key, e.g. `kw_…`."));
        components.add_security_scheme(
            "service_token",
            bearer("A service token, `kwsvc_…`, made by `keyward admin service-token create`."),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The console's session; state-changing requests also send its CSRF token in \
                 `X-CSRF-Token`.",
            ))),
        );
    }
}

/// The document as this server serves it, once every route is in: the scope schemas of
/// its catalog, the links between operations, and two corrections of what utoipa writes
/// for `Option`s, which on the wire mean "may be left out", never "may be `null`".
pub fn finish(doc: &mut OpenApi, catalog: &Catalog) {
    super::openapi_fields::scopes_of(doc, catalog);
    super::openapi_links::add(doc);
    for op in operations(doc) {
        // A parameter is sent or not; a query string or header has no `null`.
        for param in op.parameters.iter_mut().flatten() {
            if let Some(RefOr::T(schema)) = param.schema.as_mut() {
                drop_null(schema);
            }
        }
        // An optional body (revoke, rotate) is left out, not sent as `null`: a body that is
        // not a JSON object is `400`.
        let Some(body) = op.request_body.as_mut() else {
            continue;
        };
        if matches!(body.required, Some(Required::True)) {
            continue;
        }
        for content in body.content.values_mut() {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
                let not_null: Vec<_> = one_of.items.iter().filter(|s| !is_null(s)).collect();
                if let [only] = not_null[..] {
                    content.schema = Some(only.clone());
                }
            }
        }
    }
}

/// Every operation of the document (the API uses no other methods than these).
pub(super) fn operations(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// The document as JSON, rendered once for every request that asks for it.
///
/// utoipa 5 writes a link's `operationId` as `operation_id` (its `Link` lacks the camelCase
/// renaming of its other types), which no client would read; the rendering renames it.
pub fn render(doc: &OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialize");
        serde_json::Value::Null
    });
    let mut operations = vec![];
    for item in members(&mut json, "paths") {
        operations.extend(
            item.as_object_mut()
                .into_iter()
                .flat_map(|i| i.values_mut()),
        );
    }
    for op in operations {
        for response in members(op, "responses") {
            for link in members(response, "links") {
                if let Some(link) = link.as_object_mut() {
                    if let Some(id) = link.remove("operation_id") {
                        link.insert("operationId".into(), id);
                    }
                }
            }
        }
    }
    json
}

/// The values of the object at `key`, if there is one: `get_mut`, since indexing a JSON
/// object by a key it lacks would insert a `null` there.
fn members<'a>(
    v: &'a mut serde_json::Value,
    key: &str,
) -> impl Iterator<Item = &'a mut serde_json::Value> {
    v.get_mut(key)
        .and_then(serde_json::Value::as_object_mut)
        .into_iter()
        .flat_map(|o| o.values_mut())
}

/// `type: [T, "null"]` becomes `type: T`.
fn drop_null(schema: &mut Schema) {
    if let Schema::Object(object) = schema {
        if let SchemaType::Array(types) = &object.schema_type {
            let kept: Vec<Type> = types
                .iter()
                .filter(|t| **t != Type::Null)
                .cloned()
                .collect();
            if let [only] = &kept[..] {
                object.schema_type = SchemaType::Type(only.clone());
            }
        }
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

/// What every authenticated operation can answer besides its success.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum AuthErrors {
    /// `unauthorized`: no credential, or an unknown, revoked, expired or malformed one. The
    /// body never says which.
    #[response(status = 401, headers(("WWW-Authenticate" = String, description = "`Bearer`, with `error=\"invalid_token\"` when a token was sent")))]
    Unauthorized(ErrorBody),
    /// `forbidden` (among others, a valid credential of the wrong kind: an API key on the
    /// verify API, a service token on the management API), `insufficient_scope`,
    /// `email_unverified`, `plan_limit_reached` or `csrf_failed`.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// `rate_limited`: this client failed authentication too often; retry after the
    /// `Retry-After` seconds.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(ErrorBody),
    /// `internal`: logged with the request id; the body holds no detail.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// `service_unavailable`: the database cannot be reached.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What an operation that reads a JSON body can answer when the body is wrong.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    /// `bad_request`: malformed JSON, a field of the wrong type, or a field the operation
    /// does not take.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// `payload_too_large`: the body is over 64 KiB (1 MiB for a secret-scanning report).
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// `unsupported_media_type`: the body is not sent as JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// `validation_failed`: a field is missing or invalid; `details` names each one.
    #[response(status = 422)]
    ValidationFailed(ErrorBody),
}

/// `bad_request` for a query string or header the operation cannot use.
#[derive(IntoResponses)]
#[response(status = 400)]
#[allow(dead_code)]
pub struct BadRequest(ErrorBody);

/// `not_found`: missing, deleted, or in another workspace, byte for byte alike.
#[derive(IntoResponses)]
#[response(status = 404)]
#[allow(dead_code)]
pub struct NotFound(ErrorBody);

/// `conflict` (e.g. the last owner) or `key_limit_reached` (the workspace's hard cap).
#[derive(IntoResponses)]
#[response(status = 409)]
#[allow(dead_code)]
pub struct Conflict(ErrorBody);

/// The schema of an audit action: one of the actions keyward records.
pub fn audit_action() -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(keyward_core::service::ACTIONS))
        .description(Some("An audit action, e.g. `api_key.created`."))
        .build()
}
