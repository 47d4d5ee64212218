//! `/workspaces/{workspace_id}/api-keys/...`, and the inner functions it shares with its
//! alias `/api-keys/...` (`keys_alias.rs`), which acts on the caller's current workspace.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyward_core::model::KeyStatus;
use keyward_core::service::{KeyFilter, KeyPatch, NewKey, Principal, Rotation};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{
    CreateKeyIn, CreatedKeyOut, KeyListQuery, KeyOut, RevokeIn, RotateIn, UpdateKeyIn,
};
use crate::http::error::ApiResult;
use crate::http::extract::{
    path_id, workspace_hint, Auth, JsonBody, OptionalJsonBody, PathParams, QueryParams,
};
use crate::http::openapi::{AuthErrors, BadRequest, BodyErrors, Conflict, NotFound};
use crate::http::AppState;

/// Every key route but `DELETE …/api-keys/{id}`, which [`delete_router`] or the signalsmith
/// profile (`http::compat::signalsmith`) provides.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, update_put))
        .routes(routes!(revoke))
        .routes(routes!(rotate))
}

/// The native `DELETE …/api-keys/{id}`: revoke and soft-delete.
pub fn delete_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(delete))
}

pub(crate) async fn in_workspace(
    state: &AppState,
    auth: Auth,
    workspace_id: &str,
) -> ApiResult<Principal> {
    Ok(state
        .service
        .principal(&auth.0, path_id(workspace_id)?)
        .await?)
}

pub(crate) async fn in_current(
    state: &AppState,
    auth: Auth,
    headers: &HeaderMap,
) -> ApiResult<Principal> {
    let id = state
        .service
        .current_workspace(&auth.0, workspace_hint(headers)?)
        .await?;
    Ok(state.service.principal(&auth.0, id).await?)
}

pub(super) async fn list_in(
    state: &AppState,
    p: Principal,
    q: KeyListQuery,
    uri: &Uri,
) -> ApiResult<Response> {
    let filter = KeyFilter {
        status: q.status.clone(),
        created_by: q.created_by.clone(),
        q: q.q.clone(),
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let page = state.service.list_keys(&p, filter).await?;
    let body: Vec<KeyOut> = page.items.into_iter().map(KeyOut::from).collect();
    let mut response = Json(body).into_response();
    if let Some(cursor) = page.next_cursor {
        let next = KeyListQuery {
            cursor: Some(cursor),
            ..q
        };
        if let Some(link) = super::next_link(uri, &next) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

pub(super) async fn create_in(
    state: &AppState,
    p: Principal,
    body: CreateKeyIn,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let input = NewKey {
        name: body.name,
        expires_at: body.expires_at,
        scopes: body.scopes,
        metadata: body.metadata,
    };
    let created = state.service.create_key(&p, input).await?;
    let out = CreatedKeyOut {
        key: created.secret.expose_secret().to_owned(),
        api_key: created.key.into(),
    };
    Ok((StatusCode::CREATED, Json(out)))
}

pub(super) async fn update_in(
    state: &AppState,
    p: Principal,
    id: &str,
    body: UpdateKeyIn,
) -> ApiResult<Json<KeyOut>> {
    let patch = KeyPatch {
        name: body.name,
        scopes: body.scopes,
        expires_at: body.expires_at,
        metadata: body.metadata,
    };
    Ok(Json(
        state
            .service
            .update_key(&p, path_id(id)?, patch)
            .await?
            .into(),
    ))
}

pub(super) async fn rotate_in(
    state: &AppState,
    p: Principal,
    id: &str,
    body: Option<RotateIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let body = body.unwrap_or_default();
    let rotation = Rotation {
        grace_period_seconds: body.grace_period_seconds,
        expires_at: body.expires_at,
    };
    let created = state.service.rotate_key(&p, path_id(id)?, rotation).await?;
    let out = CreatedKeyOut {
        key: created.secret.expose_secret().to_owned(),
        api_key: created.key.into(),
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// List a workspace's keys.
///
/// The keys that are not deleted, newest first, filtered by `status`, `created_by` and `q`
/// (name contains). Pages hold `limit` keys; the next page is in the `Link` header. A
/// member limited to its own keys sees only those.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/api-keys", tag = "api-keys",
    operation_id = "list_keys", params(("workspace_id" = uuid::Uuid, Path,), KeyListQueryParams),
    responses((status = 200, body = Vec<KeyOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`, when there is a next page"))),
              BadRequest, NotFound, AuthErrors))]
async fn list(
    State(s): State<AppState>,
    auth: Auth,
    PathParams(wid): PathParams<String>,
    QueryParams(q): QueryParams<KeyListQuery>,
    uri: Uri,
) -> ApiResult<Response> {
    let p = in_workspace(&s, auth, &wid).await?;
    list_in(&s, p, q, &uri).await
}

/// Create a key.
///
/// The response holds the secret in `key`, this once: it cannot be retrieved again. Scopes
/// default to what the caller holds, and can never exceed it. Past the plan's number of
/// active keys it is `403 plan_limit_reached`; past the workspace's hard cap,
/// `409 key_limit_reached`.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/api-keys", tag = "api-keys",
    operation_id = "create_key", params(("workspace_id" = uuid::Uuid, Path,)), request_body = CreateKeyIn,
    responses((status = 201, body = CreatedKeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    PathParams(wid): PathParams<String>,
    JsonBody(body): JsonBody<CreateKeyIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_workspace(&s, auth, &wid).await?;
    create_in(&s, p, body).await
}

/// Get one key.
///
/// The key object, without its secret. A key in another workspace, or deleted, is `404`
/// like a missing one.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    operation_id = "get_key", params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)),
    responses((status = 200, body = KeyOut), NotFound, AuthErrors))]
async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    Ok(Json(s.service.get_key(&p, path_id(&id)?).await?.into()))
}

/// Edit a key.
///
/// Changes the name, scopes, expiry or metadata; fields left out stay as they are, and
/// `expires_at: null` removes the expiry. The change takes effect at once, on every node.
#[utoipa::path(patch, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    operation_id = "update_key", params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body = UpdateKeyIn,
    responses((status = 200, body = KeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn update(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
    JsonBody(body): JsonBody<UpdateKeyIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    update_in(&s, p, &id, body).await
}

/// Edit a key (PUT).
///
/// The same edit as PATCH, for clients that update with PUT: fields left out stay as
/// they are.
#[utoipa::path(put, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    operation_id = "update_key_put", params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body = UpdateKeyIn,
    responses((status = 200, body = KeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn update_put(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
    JsonBody(body): JsonBody<UpdateKeyIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    update_in(&s, p, &id, body).await
}

/// Delete a key.
///
/// Revokes the key if it is active, then removes it from listings and lookups. Its audit
/// trail stays.
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    operation_id = "delete_key", params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)),
    responses((status = 204, description = "Deleted"), NotFound, AuthErrors))]
async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = in_workspace(&s, auth, &wid).await?;
    s.service.delete_key(&p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a key.
///
/// The key stops working at once and stays listed with status `revoked`. Revoking again
/// changes nothing. The body, with an optional `reason`, may be left out.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}/revoke", tag = "api-keys",
    operation_id = "revoke_key", params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body(content = Option<RevokeIn>),
    responses((status = 200, body = KeyOut), BodyErrors, NotFound, AuthErrors))]
async fn revoke(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<RevokeIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    let reason = body.and_then(|b| b.reason);
    Ok(Json(
        s.service
            .revoke_key(&p, path_id(&id)?, reason)
            .await?
            .into(),
    ))
}

/// Rotate a key.
///
/// Mints a successor with the same name, scopes and metadata, and returns it with its
/// secret, once. The old key is revoked at once, or, with `grace_period_seconds`, keeps
/// working until then. A key already rotated, or revoked, is `409`. The body may be left out.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}/rotate", tag = "api-keys",
    operation_id = "rotate_key", params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body(content = Option<RotateIn>),
    responses((status = 201, body = CreatedKeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn rotate(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<RotateIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_workspace(&s, auth, &wid).await?;
    rotate_in(&s, p, &id, body).await
}

/// The query parameters of key listings, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct KeyListQueryParams {
    /// Only keys with this status.
    status: Option<KeyStatus>,
    /// Only keys created by this user id.
    created_by: Option<uuid::Uuid>,
    /// Name contains (case-insensitive).
    q: Option<String>,
    /// Keys per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
    /// From the previous page's `Link` header; one the server did not issue is `400`.
    #[param(schema_with = crate::http::openapi_fields::cursor)]
    cursor: Option<String>,
}
