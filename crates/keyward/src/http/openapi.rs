//! The OpenAPI document's shared parts: its header, security schemes, the error responses
//! operations list, and schemas that come from domain constants. The operations themselves
//! are declared on their handlers, so the document is generated from the routes.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
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
