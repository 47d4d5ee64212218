//! The Skillett profile (PRODUCT.md §11): `/api-keys` at the root, the authenticated user's
//! own keys, by session or Bearer key. Ids read `key_` and the key's UUID in compact form
//! (32 hex digits), and errors are `{"error": "code", "message": "…"}`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use keyward_core::model::ApiKey;
use keyward_core::service::NewKey;
use keyward_core::Error;
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::errors::NativeError;
use super::{own_key, own_keys};
use crate::http::error::ApiResult;
use crate::http::extract::{Auth, JsonBody, PathParams};
use crate::http::routes::keys::in_current;
use crate::http::AppState;

/// The profile's tag, and the error schema its responses name (utoipa registers the schemas
/// of success bodies by itself, not those of `IntoResponses` errors).
#[derive(utoipa::OpenApi)]
#[openapi(
    components(schemas(ErrorOut)),
    tags((name = "compat: skillett", description = "The Skillett wire profile (`compat = [\"skillett\"]`): the authenticated user's own keys at `/api-keys`. Errors are `{\"error\": \"code\", \"message\": \"…\"}`."))
)]
struct ProfileDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ProfileDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// Whether a request path is this profile's, and so answers errors in its shape.
pub fn owns(path: &str) -> bool {
    path == "/api-keys" || path.starts_with("/api-keys/")
}

/// `key_` and the 32 hex digits of the key's UUID.
pub fn wire_id(id: Uuid) -> String {
    format!("key_{}", id.simple())
}

/// The UUID of a `key_…` id; anything else names no key.
fn parse_wire_id(raw: &str) -> Result<Uuid, Error> {
    raw.strip_prefix("key_")
        .filter(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|hex| Uuid::try_parse(hex).ok())
        .ok_or(Error::NotFound)
}

/// A key in the listing. Key hashes are never exposed.
#[derive(Serialize, ToSchema)]
#[schema(as = skillett::Key)]
pub struct KeyOut {
    #[schema(example = "key_0192f3a4b5c67d8e9fa0b1c2d3e4f506")]
    id: String,
    name: String,
    /// The prefix and the first 8 characters of the key, for identification.
    key_prefix: String,
    /// `["*"]` is full access.
    scopes: Vec<String>,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    /// `null` while the key is not revoked.
    revoked_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        KeyOut {
            id: wire_id(k.id),
            name: k.name,
            key_prefix: k.key_prefix,
            scopes: k.scopes.as_strings(),
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            created_at: k.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = skillett::CreateKey)]
pub struct CreateIn {
    name: String,
    /// Defaults to `["*"]` for callers with full access, otherwise to what the caller
    /// holds; never more than that.
    scopes: Option<Vec<String>>,
}

/// The new key, and its secret in `full_key`, this once.
#[derive(Serialize, ToSchema)]
#[schema(as = skillett::CreatedKey)]
pub struct CreatedOut {
    api_key: CreatedKeyOut,
    full_key: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = skillett::CreatedKeyFields)]
pub struct CreatedKeyOut {
    id: String,
    name: String,
    key_prefix: String,
    scopes: Vec<String>,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// List my API keys (Skillett).
///
/// Every key the authenticated user made in the current workspace, revoked ones included
/// (with `revoked_at`), newest first.
#[utoipa::path(get, path = "/api-keys", tag = "compat: skillett", operation_id = "skillett_list_keys",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = Vec<KeyOut>), Errors))]
async fn list(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<KeyOut>>> {
    let p = in_current(&s, auth, &headers).await?;
    let keys = own_keys(&s, &p).await?;
    Ok(Json(keys.into_iter().map(KeyOut::from).collect()))
}

/// Create an API key (Skillett).
///
/// The secret is in `full_key`, this once. Past the plan's number of active keys (the free
/// plan allows one) it is `403 plan_limit_reached`.
#[utoipa::path(post, path = "/api-keys", tag = "compat: skillett", operation_id = "skillett_create_key",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body = CreateIn,
    responses((status = 201, body = CreatedOut), Errors))]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateIn>,
) -> ApiResult<(StatusCode, Json<CreatedOut>)> {
    let p = in_current(&s, auth, &headers).await?;
    let input = NewKey {
        name: body.name,
        scopes: body.scopes,
        ..NewKey::default()
    };
    let created = s.service.create_key(&p, input).await?;
    let k = created.key;
    let out = CreatedOut {
        api_key: CreatedKeyOut {
            id: wire_id(k.id),
            name: k.name,
            key_prefix: k.key_prefix,
            scopes: k.scopes.as_strings(),
            expires_at: k.expires_at,
            created_at: k.created_at,
        },
        full_key: created.secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// Revoke an API key (Skillett).
///
/// A soft delete: the key stays listed, with `revoked_at`, and can no longer be used.
/// Another user's key, or an unknown id, is `404`.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "compat: skillett", operation_id = "skillett_revoke_key",
    params(("id" = String, Path, description = "The key's id, `key_…`"), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 204, description = "Revoked"), Errors))]
async fn revoke(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    let p = in_current(&s, auth, &headers).await?;
    let key = own_key(&s, &p, parse_wire_id(&id)?).await?;
    s.service.revoke_key(&p, key.id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Skillett's error body.
#[derive(Serialize, ToSchema)]
#[schema(as = skillett::Error)]
pub struct ErrorOut {
    /// The same code as the native API's (PRODUCT.md §7), e.g. `plan_limit_reached`.
    #[schema(example = "plan_limit_reached")]
    error: String,
    message: String,
}

/// What any Skillett operation can answer besides its success.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Errors {
    /// `bad_request`: malformed JSON, or a field of the wrong type or unknown.
    #[response(status = 400)]
    BadRequest(ErrorOut),
    /// `unauthorized`: not authenticated.
    #[response(status = 401)]
    Unauthorized(ErrorOut),
    /// `plan_limit_reached`, `insufficient_scope`, `email_unverified`, `forbidden` or
    /// `csrf_failed`.
    #[response(status = 403)]
    Forbidden(ErrorOut),
    /// `not_found`: the key is not found or does not belong to the user.
    #[response(status = 404)]
    NotFound(ErrorOut),
    /// `key_limit_reached`: the workspace's hard cap.
    #[response(status = 409)]
    Conflict(ErrorOut),
    /// `payload_too_large`: over 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorOut),
    /// `unsupported_media_type`: the body is not JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorOut),
    /// `validation_failed`: the name is missing or invalid, or a scope is unknown.
    #[response(status = 422)]
    ValidationFailed(ErrorOut),
    /// `rate_limited`, with `Retry-After`.
    #[response(status = 429)]
    RateLimited(ErrorOut),
    /// `internal`.
    #[response(status = 500)]
    Internal(ErrorOut),
    /// `service_unavailable`: the database cannot be reached.
    #[response(status = 503)]
    Unavailable(ErrorOut),
}

/// A native error said as Skillett's `{"error", "message"}`.
pub fn error_body(_status: StatusCode, e: NativeError) -> (&'static str, Vec<u8>) {
    // A validation error names its fields in the message, since this shape has no list.
    let message = if e.details.is_empty() {
        e.message
    } else {
        let fields: Vec<String> = e
            .details
            .iter()
            .map(|d| format!("{} {}", d.field, d.message))
            .collect();
        format!("{}: {}", e.message, fields.join("; "))
    };
    let body = ErrorOut {
        error: e.code,
        message,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    ("application/json", bytes)
}
