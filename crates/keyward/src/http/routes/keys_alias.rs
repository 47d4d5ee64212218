//! `/api-keys/...`: the key routes on the caller's current workspace (a key's own
//! workspace; for a session, its `X-Workspace-ID` or its only workspace). They call the
//! same inner functions as `/workspaces/{workspace_id}/api-keys/...`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::keys::{create_in, in_current, list_in, rotate_in, update_in, KeyListQueryParams};
use crate::http::dto::{
    CreateKeyIn, CreatedKeyOut, KeyListQuery, KeyOut, RevokeIn, RotateIn, UpdateKeyIn,
};
use crate::http::error::ApiResult;
use crate::http::extract::{path_id, Auth, JsonBody, OptionalJsonBody, PathParams, QueryParams};
use crate::http::openapi::{AuthErrors, BadRequest, BodyErrors, Conflict, NotFound};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(alias_list, alias_create))
        .routes(routes!(
            alias_get,
            alias_update,
            alias_update_put,
            alias_delete
        ))
        .routes(routes!(alias_revoke))
        .routes(routes!(alias_rotate))
}

/// List the current workspace's keys.
///
/// As `GET /api/v1/workspaces/{workspace_id}/api-keys`, on the current workspace: a key's
/// own, or for a session the `X-Workspace-ID` it sends (needed when it has several).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", operation_id = "list_current_workspace_keys",
    params(KeyListQueryParams, ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = Vec<KeyOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`, when there is a next page"))),
              BadRequest, NotFound, AuthErrors))]
async fn alias_list(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    QueryParams(q): QueryParams<KeyListQuery>,
    uri: Uri,
) -> ApiResult<Response> {
    let p = in_current(&s, auth, &headers).await?;
    list_in(&s, p, q, &uri).await
}

/// Create a key in the current workspace.
///
/// As `POST /api/v1/workspaces/{workspace_id}/api-keys`, on the current workspace. The
/// secret is in the response, this once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", operation_id = "create_current_workspace_key",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")), request_body = CreateKeyIn,
    responses((status = 201, body = CreatedKeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn alias_create(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateKeyIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_current(&s, auth, &headers).await?;
    create_in(&s, p, body).await
}

/// Get one key of the current workspace.
///
/// As `GET /api/v1/workspaces/{workspace_id}/api-keys/{id}`, on the current workspace.
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "api-keys", operation_id = "get_current_workspace_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = KeyOut), BadRequest, NotFound, AuthErrors))]
async fn alias_get(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_current(&s, auth, &headers).await?;
    Ok(Json(s.service.get_key(&p, path_id(&id)?).await?.into()))
}

/// Edit a key of the current workspace.
///
/// As `PATCH /api/v1/workspaces/{workspace_id}/api-keys/{id}`, on the current workspace.
#[utoipa::path(patch, path = "/api/v1/api-keys/{id}", tag = "api-keys", operation_id = "update_current_workspace_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body = UpdateKeyIn, responses((status = 200, body = KeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn alias_update(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<UpdateKeyIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_current(&s, auth, &headers).await?;
    update_in(&s, p, &id, body).await
}

/// Edit a key of the current workspace (PUT).
///
/// The same edit as PATCH, for clients that update with PUT.
#[utoipa::path(put, path = "/api/v1/api-keys/{id}", tag = "api-keys", operation_id = "update_current_workspace_key_put",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body = UpdateKeyIn, responses((status = 200, body = KeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn alias_update_put(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<UpdateKeyIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_current(&s, auth, &headers).await?;
    update_in(&s, p, &id, body).await
}

/// Delete a key of the current workspace.
///
/// As `DELETE /api/v1/workspaces/{workspace_id}/api-keys/{id}`, on the current workspace.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", operation_id = "delete_current_workspace_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 204, description = "Deleted"), BadRequest, NotFound, AuthErrors))]
async fn alias_delete(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    let p = in_current(&s, auth, &headers).await?;
    s.service.delete_key(&p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a key of the current workspace.
///
/// As `POST /api/v1/workspaces/{workspace_id}/api-keys/{id}/revoke`, on the current
/// workspace. The body may be left out.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "api-keys", operation_id = "revoke_current_workspace_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body(content = Option<RevokeIn>), responses((status = 200, body = KeyOut), BodyErrors, NotFound, AuthErrors))]
async fn alias_revoke(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    OptionalJsonBody(body): OptionalJsonBody<RevokeIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_current(&s, auth, &headers).await?;
    let reason = body.and_then(|b| b.reason);
    Ok(Json(
        s.service
            .revoke_key(&p, path_id(&id)?, reason)
            .await?
            .into(),
    ))
}

/// Rotate a key of the current workspace.
///
/// As `POST /api/v1/workspaces/{workspace_id}/api-keys/{id}/rotate`, on the current
/// workspace. The body may be left out.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/rotate", tag = "api-keys", operation_id = "rotate_current_workspace_key",
    params(("id" = uuid::Uuid, Path,), ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    request_body(content = Option<RotateIn>), responses((status = 201, body = CreatedKeyOut), BodyErrors, NotFound, Conflict, AuthErrors))]
async fn alias_rotate(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    OptionalJsonBody(body): OptionalJsonBody<RotateIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_current(&s, auth, &headers).await?;
    rotate_in(&s, p, &id, body).await
}
