//! `/workspaces/{workspace_id}/api-keys/...` and its alias `/api-keys/...`, which acts on the
//! caller's current workspace. Both call the same inner functions.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyward_core::service::{KeyFilter, KeyPatch, NewKey, Principal, Rotation};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{
    CreateKeyIn, CreatedKeyOut, KeyListQuery, KeyOut, RevokeIn, RotateIn, UpdateKeyIn,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{
    path_id, workspace_hint, Auth, JsonBody, OptionalJsonBody, PathParams, QueryParams,
};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(revoke))
        .routes(routes!(rotate))
        .routes(routes!(alias_list, alias_create))
        .routes(routes!(alias_get, alias_update, alias_delete))
        .routes(routes!(alias_revoke))
        .routes(routes!(alias_rotate))
}

async fn in_workspace(state: &AppState, auth: Auth, workspace_id: &str) -> ApiResult<Principal> {
    Ok(state
        .service
        .principal(&auth.0, path_id(workspace_id)?)
        .await?)
}

async fn in_current(state: &AppState, auth: Auth, headers: &HeaderMap) -> ApiResult<Principal> {
    let id = state
        .service
        .current_workspace(&auth.0, workspace_hint(headers)?)
        .await?;
    Ok(state.service.principal(&auth.0, id).await?)
}

async fn list_in(
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

async fn create_in(
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

async fn update_in(
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

async fn rotate_in(
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

/// List keys that are not deleted, newest first; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/api-keys", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,), KeyListQueryParams),
    responses((status = 200, body = Vec<KeyOut>, headers(("Link" = String, description = "rel=\"next\" page"))),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
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

/// Create a key. The response holds the secret once; it cannot be retrieved again.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/api-keys", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,)), request_body = CreateKeyIn,
    responses((status = 201, body = CreatedKeyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    PathParams(wid): PathParams<String>,
    JsonBody(body): JsonBody<CreateKeyIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_workspace(&s, auth, &wid).await?;
    create_in(&s, p, body).await
}

/// One key.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)),
    responses((status = 200, body = KeyOut), (status = 404, body = ErrorBody)))]
async fn get(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    Ok(Json(s.service.get_key(&p, path_id(&id)?).await?.into()))
}

/// Edit a key's name, scopes, expiry or metadata; takes effect at once.
#[utoipa::path(method(patch, put), path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body = UpdateKeyIn,
    responses((status = 200, body = KeyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
    JsonBody(body): JsonBody<UpdateKeyIn>,
) -> ApiResult<Json<KeyOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    update_in(&s, p, &id, body).await
}

/// Revoke the key if it is active, and remove it from listings.
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = in_workspace(&s, auth, &wid).await?;
    s.service.delete_key(&p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a key; it stays listed with status `revoked`. Idempotent.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}/revoke", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body(content = Option<RevokeIn>),
    responses((status = 200, body = KeyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
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

/// Mint a successor with the same name, scopes and metadata; the old key is revoked now, or
/// expires after `grace_period_seconds`.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}/rotate", tag = "api-keys",
    params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,)), request_body(content = Option<RotateIn>),
    responses((status = 201, body = CreatedKeyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn rotate(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<RotateIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_workspace(&s, auth, &wid).await?;
    rotate_in(&s, p, &id, body).await
}

/// List the current workspace's keys (a key's own workspace, or a session's `X-Workspace-ID`).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", params(KeyListQueryParams),
    responses((status = 200, body = Vec<KeyOut>), (status = 401, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = CreateKeyIn,
    responses((status = 201, body = CreatedKeyOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn alias_create(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateKeyIn>,
) -> ApiResult<(StatusCode, Json<CreatedKeyOut>)> {
    let p = in_current(&s, auth, &headers).await?;
    create_in(&s, p, body).await
}

/// One key of the current workspace.
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = uuid::Uuid, Path,)),
    responses((status = 200, body = KeyOut), (status = 404, body = ErrorBody)))]
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
#[utoipa::path(method(patch, put), path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = uuid::Uuid, Path,)),
    request_body = UpdateKeyIn, responses((status = 200, body = KeyOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
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

/// Delete a key of the current workspace.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = uuid::Uuid, Path,)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "api-keys", params(("id" = uuid::Uuid, Path,)),
    request_body(content = Option<RevokeIn>), responses((status = 200, body = KeyOut), (status = 404, body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/rotate", tag = "api-keys", params(("id" = uuid::Uuid, Path,)),
    request_body(content = Option<RotateIn>), responses((status = 201, body = CreatedKeyOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
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

/// The query parameters of key listings, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct KeyListQueryParams {
    /// `active`, `revoked` or `expired`.
    status: Option<String>,
    /// Only keys created by this user id.
    created_by: Option<uuid::Uuid>,
    /// Name contains (case-insensitive).
    q: Option<String>,
    /// 1–200, default 50.
    limit: Option<u32>,
    /// From the previous page's `Link` header.
    cursor: Option<String>,
}
