//! The simpledeploy profile (PRODUCT.md §11): `/api/apikeys`, the caller's own keys (the
//! doc's "Profile, API keys tab"), with numeric ids: each key's per-instance sequence
//! number. Errors keep the native envelope.
//!
//! With `default_key_prefix = "sd_"` and `default_key_format = "hex64"`, keys read as the doc
//! says: `sd_` followed by 64 hex characters.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use keyward_core::model::{ApiKey, KeyStatus};
use keyward_core::service::NewKey;
use keyward_core::Error;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{own_key_by_seq, own_keys};
use crate::http::error::ApiResult;
use crate::http::extract::{Auth, JsonBody, PathParams};
use crate::http::openapi::{AuthErrors, BodyErrors, Conflict, NotFound};
use crate::http::routes::keys::in_current;
use crate::http::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(tags((name = "compat: simpledeploy", description = "The simpledeploy wire profile (`compat = [\"simpledeploy\"]`): the caller's own keys at `/api/apikeys`, with numeric ids. Errors keep the native envelope.")))]
struct ProfileDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ProfileDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = simpledeploy::CreateKey)]
pub struct CreateIn {
    name: String,
    /// RFC 3339, in the future; leave it out for a key that never expires.
    expires_at: Option<String>,
}

/// The answer to create: the key's number, its name, and its secret, this once.
#[derive(Serialize, ToSchema)]
#[schema(as = simpledeploy::CreatedKey)]
pub struct CreatedOut {
    #[schema(example = 3)]
    id: i64,
    name: String,
    /// The secret, e.g. `sd_` and 64 hex characters. It cannot be retrieved again.
    key: String,
}

/// A key in the listing.
#[derive(Serialize, ToSchema)]
#[schema(as = simpledeploy::Key)]
pub struct KeyOut {
    #[schema(example = 3)]
    id: i64,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        KeyOut {
            id: k.seq,
            name: k.name,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// List my keys (simpledeploy).
///
/// The caller's own keys that still work or have expired, newest first: a revoked key is
/// gone from this list (the native API still shows it, as revoked).
#[utoipa::path(get, path = "/api/apikeys", tag = "compat: simpledeploy", operation_id = "simpledeploy_list_keys",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = Vec<KeyOut>), NotFound, AuthErrors))]
async fn list(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<KeyOut>>> {
    let p = in_current(&s, auth, &headers).await?;
    let now = keyward_core::model::now();
    let keys = own_keys(&s, &p).await?;
    Ok(Json(
        keys.into_iter()
            .filter(|k| k.status(now) != KeyStatus::Revoked)
            .map(KeyOut::from)
            .collect(),
    ))
}

/// Create a key (simpledeploy).
///
/// The key acts with the caller's role and grants, as they are now. `expires_at` is
/// optional; a past date is `422`. The secret is in `key`, this once.
#[utoipa::path(post, path = "/api/apikeys", tag = "compat: simpledeploy", operation_id = "simpledeploy_create_key",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body = CreateIn,
    responses((status = 201, body = CreatedOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateIn>,
) -> ApiResult<(StatusCode, Json<CreatedOut>)> {
    let p = in_current(&s, auth, &headers).await?;
    let input = NewKey {
        name: body.name,
        expires_at: body.expires_at,
        ..NewKey::default()
    };
    let created = s.service.create_key(&p, input).await?;
    let out = CreatedOut {
        id: created.key.seq,
        name: created.key.name,
        key: created.secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// Revoke one of my keys (simpledeploy).
///
/// Revocation is immediate: the next request with the key is `401`. The id is the number
/// the listing shows; anyone else's key is `404`.
#[utoipa::path(delete, path = "/api/apikeys/{id}", tag = "compat: simpledeploy", operation_id = "simpledeploy_revoke_key",
    params(("id" = i64, Path, description = "The key's number"), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 204, description = "Revoked"), NotFound, AuthErrors))]
async fn revoke(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    let p = in_current(&s, auth, &headers).await?;
    // Only plain digits name a key here; anything else (a UUID included) names nothing.
    let seq = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(Error::NotFound)?;
    let key = own_key_by_seq(&s, &p, seq).await?;
    s.service.revoke_key(&p, key.id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
