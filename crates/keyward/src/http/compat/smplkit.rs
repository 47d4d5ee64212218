//! The smplkit profile (PRODUCT.md §11): JSON:API at `/api/v1/api_keys`, on the caller's
//! current workspace (smplkit's "account"). Bodies are `application/vnd.api+json` (plain
//! JSON is accepted too), statuses are upper case, and errors are JSON:API error objects.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use keyward_core::model::{ApiKey, KeyStatus};
use keyward_core::service::{KeyFilter, KeyPatch, NewKey};
use keyward_core::Error;
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::errors::NativeError;
use crate::http::dto::nullable;
use crate::http::error::ApiResult;
use crate::http::extract::{path_id, Auth, JsonBody, PathParams, QueryParams};
use crate::http::routes::keys::in_current;
use crate::http::AppState;

const JSON_API: &str = "application/vnd.api+json";
/// The resource type of every document here.
const TYPE: &str = "api_key";

/// The profile's tag, and the error schemas its responses name (utoipa registers the
/// schemas of success bodies by itself, not those of `IntoResponses` errors).
#[derive(utoipa::OpenApi)]
#[openapi(
    components(schemas(ErrorDocument)),
    tags((name = "compat: smplkit", description = "The smplkit wire profile (`compat = [\"smplkit\"]`): JSON:API at `/api/v1/api_keys`, on the caller's current workspace. Errors are JSON:API error objects."))
)]
struct ProfileDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ProfileDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(list, create))
        .routes(routes!(get, replace, update, delete))
        .routes(routes!(revoke))
}

/// Whether a request path is this profile's, and so answers errors in its shape.
pub fn owns(path: &str) -> bool {
    path == "/api/v1/api_keys" || path.starts_with("/api/v1/api_keys/")
}

/// A key as a JSON:API resource.
#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::ApiKeyResource)]
pub struct Resource {
    /// Always `api_key`.
    #[serde(rename = "type")]
    #[schema(example = "api_key")]
    kind: &'static str,
    id: Uuid,
    attributes: Attributes,
}

#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::ApiKeyAttributes)]
pub struct Attributes {
    name: String,
    /// The prefix plus the first 8 characters of the key, e.g. `sk_api_a1B2c3D4`.
    key_prefix: String,
    status: Status,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    /// The secret: in the response to create only, this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[schema(as = smplkit::ApiKeyStatus)]
pub enum Status {
    Active,
    Revoked,
    Expired,
}

impl Resource {
    fn new(key: ApiKey, secret: Option<String>) -> Self {
        let status = match key.status(keyward_core::model::now()) {
            KeyStatus::Active => Status::Active,
            KeyStatus::Revoked => Status::Revoked,
            KeyStatus::Expired => Status::Expired,
        };
        Resource {
            kind: TYPE,
            id: key.id,
            attributes: Attributes {
                name: key.name,
                key_prefix: key.key_prefix,
                status,
                created_at: key.created_at,
                updated_at: key.updated_at,
                expires_at: key.expires_at,
                last_used_at: key.last_used_at,
                revoked_at: key.revoked_at,
                secret,
            },
        }
    }
}

/// A document holding one key.
#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::ApiKeyDocument)]
pub struct Document {
    data: Resource,
}

/// A document holding a page of keys, and the link to the next page when there is one.
#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::ApiKeyListDocument)]
pub struct ListDocument {
    data: Vec<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    links: Option<Links>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::Links)]
pub struct Links {
    /// The next page, relative to this host.
    next: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smplkit::CreateDocument)]
pub struct CreateIn {
    data: CreateData,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smplkit::CreateData)]
pub struct CreateData {
    /// `api_key`.
    #[serde(rename = "type")]
    kind: String,
    attributes: CreateAttributes,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smplkit::CreateAttributes)]
pub struct CreateAttributes {
    name: String,
    /// RFC 3339, in the future; leave it out for a key that never expires.
    expires_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smplkit::UpdateDocument)]
pub struct UpdateIn {
    data: UpdateData,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smplkit::UpdateData)]
pub struct UpdateData {
    /// `api_key`.
    #[serde(rename = "type")]
    kind: String,
    /// The id in the path.
    id: String,
    attributes: UpdateAttributes,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = smplkit::UpdateAttributes)]
pub struct UpdateAttributes {
    name: Option<String>,
    /// `null` removes the expiry.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    expires_at: Option<Option<String>>,
}

/// JSON:API's page parameters.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Keys per page.
    #[serde(rename = "page[size]")]
    #[param(minimum = 1, maximum = 200, default = 50)]
    size: Option<u32>,
    /// From the previous page's `links.next`.
    #[serde(rename = "page[cursor]")]
    cursor: Option<String>,
}

/// A JSON:API success: the document, as `application/vnd.api+json`.
fn document(status: StatusCode, body: &impl Serialize) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API));
    response
}

/// JSON:API answers a document of the wrong type, or one whose id is not the path's, with
/// `409 Conflict`.
fn check_type(kind: &str) -> ApiResult<()> {
    if kind == TYPE {
        Ok(())
    } else {
        Err(Error::Conflict("data.type must be \"api_key\"".into()).into())
    }
}

/// List the account's keys (smplkit).
///
/// Every key of the current workspace that is not deleted, newest first, to any role that
/// may read keys. Pages hold `page[size]` keys; `links.next` leads to the next page.
#[utoipa::path(get, path = "/api/v1/api_keys", tag = "compat: smplkit", operation_id = "smplkit_list_keys",
    params(ListQuery, ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = ListDocument, content_type = "application/vnd.api+json"), Errors))]
async fn list(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Response> {
    let size = q.size.unwrap_or(50);
    if !(1..=200).contains(&size) {
        return Err(Error::BadRequest("page[size] must be between 1 and 200".into()).into());
    }
    let p = in_current(&s, auth, &headers).await?;
    let filter = KeyFilter {
        limit: Some(size),
        cursor: q.cursor,
        ..KeyFilter::default()
    };
    let page = s.service.list_keys(&p, filter).await?;
    let links = page.next_cursor.map(|cursor| Links {
        next: format!(
            "/api/v1/api_keys?{}",
            serde_urlencoded::to_string([
                ("page[size]", size.to_string()),
                ("page[cursor]", cursor)
            ])
            .unwrap_or_default()
        ),
    });
    let data = page
        .items
        .into_iter()
        .map(|k| Resource::new(k, None))
        .collect();
    Ok(document(StatusCode::OK, &ListDocument { data, links }))
}

/// Create a key (smplkit).
///
/// The secret is in `data.attributes.secret`, in this response only. Past the plan's number
/// of active keys it is `403 plan_limit_reached`; past the workspace's cap (50 keys by
/// default, active and revoked alike), `409 key_limit_reached`.
#[utoipa::path(post, path = "/api/v1/api_keys", tag = "compat: smplkit", operation_id = "smplkit_create_key",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body(content = CreateIn, content_type = "application/vnd.api+json"),
    responses((status = 201, body = Document, content_type = "application/vnd.api+json"), BodyErrors, Errors))]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateIn>,
) -> ApiResult<Response> {
    check_type(&body.data.kind)?;
    let p = in_current(&s, auth, &headers).await?;
    let attributes = body.data.attributes;
    let input = NewKey {
        name: attributes.name,
        expires_at: attributes.expires_at,
        ..NewKey::default()
    };
    let created = s.service.create_key(&p, input).await?;
    let secret = created.secret.expose_secret().to_owned();
    let data = Resource::new(created.key, Some(secret));
    Ok(document(StatusCode::CREATED, &Document { data }))
}

/// Get one key (smplkit).
///
/// A key of another account, or deleted, is `404` like a missing one.
#[utoipa::path(get, path = "/api/v1/api_keys/{id}", tag = "compat: smplkit", operation_id = "smplkit_get_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = Document, content_type = "application/vnd.api+json"), Errors))]
async fn get(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let p = in_current(&s, auth, &headers).await?;
    let key = s.service.get_key(&p, path_id(&id)?).await?;
    Ok(document(
        StatusCode::OK,
        &Document {
            data: Resource::new(key, None),
        },
    ))
}

async fn update_in(
    s: AppState,
    auth: Auth,
    headers: HeaderMap,
    id: String,
    body: UpdateIn,
) -> ApiResult<Response> {
    check_type(&body.data.kind)?;
    if body.data.id != id {
        return Err(Error::Conflict("data.id must be the id in the path".into()).into());
    }
    let p = in_current(&s, auth, &headers).await?;
    let patch = KeyPatch {
        name: body.data.attributes.name,
        expires_at: body.data.attributes.expires_at,
        ..KeyPatch::default()
    };
    let key = s.service.update_key(&p, path_id(&id)?, patch).await?;
    Ok(document(
        StatusCode::OK,
        &Document {
            data: Resource::new(key, None),
        },
    ))
}

/// Rename a key (smplkit).
///
/// `data.id` must be the id in the path and `data.type` `api_key` (otherwise `409`).
/// Attributes left out stay as they are.
#[utoipa::path(put, path = "/api/v1/api_keys/{id}", tag = "compat: smplkit", operation_id = "smplkit_replace_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body(content = UpdateIn, content_type = "application/vnd.api+json"),
    responses((status = 200, body = Document, content_type = "application/vnd.api+json"), BodyErrors, Errors))]
async fn replace(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<UpdateIn>,
) -> ApiResult<Response> {
    update_in(s, auth, headers, id, body).await
}

/// Rename a key (smplkit, PATCH).
///
/// The same edit as PUT.
#[utoipa::path(patch, path = "/api/v1/api_keys/{id}", tag = "compat: smplkit", operation_id = "smplkit_update_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body(content = UpdateIn, content_type = "application/vnd.api+json"),
    responses((status = 200, body = Document, content_type = "application/vnd.api+json"), BodyErrors, Errors))]
async fn update(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<UpdateIn>,
) -> ApiResult<Response> {
    update_in(s, auth, headers, id, body).await
}

/// Delete a key (smplkit).
///
/// Revokes the key if it is active and removes it from listings; the audit trail keeps it.
#[utoipa::path(delete, path = "/api/v1/api_keys/{id}", tag = "compat: smplkit", operation_id = "smplkit_delete_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 204, description = "Deleted"), Errors))]
async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    let p = in_current(&s, auth, &headers).await?;
    s.service.delete_key(&p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a key (smplkit).
///
/// The key stops authenticating at once and stays listed with status `REVOKED`.
/// Revoking again changes nothing.
#[utoipa::path(post, path = "/api/v1/api_keys/{id}/actions/revoke", tag = "compat: smplkit", operation_id = "smplkit_revoke_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = Document, content_type = "application/vnd.api+json"), Errors))]
async fn revoke(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<Response> {
    let p = in_current(&s, auth, &headers).await?;
    let key = s.service.revoke_key(&p, path_id(&id)?, None).await?;
    Ok(document(
        StatusCode::OK,
        &Document {
            data: Resource::new(key, None),
        },
    ))
}

/// A JSON:API error document.
#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::ErrorDocument)]
pub struct ErrorDocument {
    errors: Vec<ErrorObject>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::Error)]
pub struct ErrorObject {
    /// The request id, as in the `X-Request-Id` header.
    id: String,
    /// The HTTP status, as a string.
    #[schema(example = "409")]
    status: String,
    /// The same code as the native API's (PRODUCT.md §7), e.g. `key_limit_reached`.
    #[schema(example = "key_limit_reached")]
    code: String,
    /// The status's reason phrase, e.g. `Conflict`.
    title: String,
    detail: String,
    /// For a validation error: the attribute it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<ErrorSource>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = smplkit::ErrorSource)]
pub struct ErrorSource {
    /// A JSON pointer into the request document, e.g. `/data/attributes/name`.
    pointer: String,
}

/// What any smplkit operation can answer besides its success, as JSON:API errors.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Errors {
    /// `unauthorized`: no credential, or an unknown, revoked, expired or malformed one.
    #[response(status = 401, content_type = "application/vnd.api+json")]
    Unauthorized(ErrorDocument),
    /// `forbidden`, `insufficient_scope`, `email_unverified`, `plan_limit_reached` or
    /// `csrf_failed`.
    #[response(status = 403, content_type = "application/vnd.api+json")]
    Forbidden(ErrorDocument),
    /// `not_found`: missing, deleted, or in another account.
    #[response(status = 404, content_type = "application/vnd.api+json")]
    NotFound(ErrorDocument),
    /// `key_limit_reached` (the cap), or `conflict` (`data.type` or `data.id` do not match).
    #[response(status = 409, content_type = "application/vnd.api+json")]
    Conflict(ErrorDocument),
    /// `rate_limited`, with `Retry-After`.
    #[response(status = 429, content_type = "application/vnd.api+json")]
    RateLimited(ErrorDocument),
    /// `bad_request`: an unknown query parameter, or a malformed header.
    #[response(status = 400, content_type = "application/vnd.api+json")]
    BadRequest(ErrorDocument),
    /// `internal`.
    #[response(status = 500, content_type = "application/vnd.api+json")]
    Internal(ErrorDocument),
    /// `service_unavailable`: the database cannot be reached.
    #[response(status = 503, content_type = "application/vnd.api+json")]
    Unavailable(ErrorDocument),
}

/// What an operation with a body can answer when the body is wrong.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum BodyErrors {
    /// `payload_too_large`: over 64 KiB.
    #[response(status = 413, content_type = "application/vnd.api+json")]
    PayloadTooLarge(ErrorDocument),
    /// `unsupported_media_type`: not JSON.
    #[response(status = 415, content_type = "application/vnd.api+json")]
    UnsupportedMediaType(ErrorDocument),
    /// `validation_failed`: one error object per attribute, with `source.pointer`.
    #[response(status = 422, content_type = "application/vnd.api+json")]
    ValidationFailed(ErrorDocument),
}

/// A native error said as a JSON:API error document.
pub fn error_body(status: StatusCode, e: NativeError) -> (&'static str, Vec<u8>) {
    let body = serde_json::to_vec(&error_document(status, e)).unwrap_or_default();
    (JSON_API, body)
}

fn error_document(status: StatusCode, e: NativeError) -> ErrorDocument {
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    let object = |detail: String, source: Option<ErrorSource>| ErrorObject {
        id: e.request_id.clone(),
        status: status.as_str().to_owned(),
        code: e.code.clone(),
        title: title.clone(),
        detail,
        source,
    };
    let errors = if e.details.is_empty() {
        vec![object(e.message.clone(), None)]
    } else {
        // One object per field, each pointing at the attribute it is about.
        e.details
            .iter()
            .map(|d| {
                let pointer = match d.field.as_str() {
                    "data" => "/data".to_owned(),
                    "type" | "id" | "attributes" => format!("/data/{}", d.field),
                    attribute => format!("/data/attributes/{attribute}"),
                };
                object(
                    format!("{} {}", d.field, d.message),
                    Some(ErrorSource { pointer }),
                )
            })
            .collect()
    };
    ErrorDocument { errors }
}
