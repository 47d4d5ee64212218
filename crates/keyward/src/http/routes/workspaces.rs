//! `/workspaces` and `/workspaces/{workspace_id}/members`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyward_core::service::{MemberPatch, NewMember, WorkspacePatch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{
    AddMemberIn, CreateWorkspaceIn, MemberOut, NoQuery, UpdateMemberIn, UpdateWorkspaceIn,
    WorkspaceOut,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{path_id, Auth, JsonBody, PathParams, QueryParams};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace))
        .routes(routes!(list_members, add_member))
        .routes(routes!(update_member, remove_member))
}

/// The caller's workspaces (for an API key, only its own).
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces",
    responses((status = 200, body = Vec<WorkspaceOut>), (status = 401, body = ErrorBody)))]
async fn list_workspaces(
    State(s): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Vec<WorkspaceOut>>> {
    let list = s.service.list_workspaces(&caller).await?;
    Ok(Json(
        list.into_iter()
            .map(|(w, role)| WorkspaceOut::new(w, Some(role)))
            .collect(),
    ))
}

/// Create a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = CreateWorkspaceIn,
    responses((status = 201, body = WorkspaceOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_workspace(
    State(s): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody<CreateWorkspaceIn>,
) -> ApiResult<(StatusCode, Json<WorkspaceOut>)> {
    let ws = s.service.create_workspace(&caller, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceOut::new(
            ws,
            Some(keyward_core::model::Role::Owner),
        )),
    ))
}

/// One workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}", tag = "workspaces",
    params(("workspace_id" = uuid::Uuid, Path,)), responses((status = 200, body = WorkspaceOut), (status = 404, body = ErrorBody)))]
async fn get_workspace(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
) -> ApiResult<Json<WorkspaceOut>> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let role = p.role;
    Ok(Json(WorkspaceOut::new(
        s.service.get_workspace(&p).await?,
        Some(role),
    )))
}

/// Change the name, key prefix, or whether members may create keys.
#[utoipa::path(patch, path = "/api/v1/workspaces/{workspace_id}", tag = "workspaces",
    params(("workspace_id" = uuid::Uuid, Path,)), request_body = UpdateWorkspaceIn,
    responses((status = 200, body = WorkspaceOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_workspace(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
    JsonBody(body): JsonBody<UpdateWorkspaceIn>,
) -> ApiResult<Json<WorkspaceOut>> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let patch = WorkspacePatch {
        name: body.name,
        key_prefix: body.key_prefix,
        members_can_create_keys: body.members_can_create_keys,
    };
    let role = p.role;
    Ok(Json(WorkspaceOut::new(
        s.service.update_workspace(&p, patch).await?,
        Some(role),
    )))
}

/// The workspace's members.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/members", tag = "members",
    params(("workspace_id" = uuid::Uuid, Path,)), responses((status = 200, body = Vec<MemberOut>), (status = 404, body = ErrorBody)))]
async fn list_members(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
) -> ApiResult<Json<Vec<MemberOut>>> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    Ok(Json(
        s.service
            .list_members(&p)
            .await?
            .into_iter()
            .map(MemberOut::from)
            .collect(),
    ))
}

/// Add an existing user, by email, with a role and optional product scopes.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/members", tag = "members",
    params(("workspace_id" = uuid::Uuid, Path,)), request_body = AddMemberIn,
    responses((status = 201, body = MemberOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_member(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
    JsonBody(body): JsonBody<AddMemberIn>,
) -> ApiResult<(StatusCode, Json<MemberOut>)> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let member = s
        .service
        .add_member(
            &p,
            NewMember {
                email: body.email,
                role: body.role,
                scopes: body.scopes,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Change a member's role or scopes. Only owners change owners; the last owner stays.
#[utoipa::path(patch, path = "/api/v1/workspaces/{workspace_id}/members/{user_id}", tag = "members",
    params(("workspace_id" = uuid::Uuid, Path,), ("user_id" = uuid::Uuid, Path,)), request_body = UpdateMemberIn,
    responses((status = 200, body = MemberOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_member(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams((wid, uid)): PathParams<(String, String)>,
    JsonBody(body): JsonBody<UpdateMemberIn>,
) -> ApiResult<Json<MemberOut>> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let member = s
        .service
        .update_member(
            &p,
            path_id(&uid)?,
            MemberPatch {
                role: body.role,
                scopes: body.scopes,
            },
        )
        .await?;
    Ok(Json(member.into()))
}

/// Remove a member, revoking every key that user created in this workspace.
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/members/{user_id}", tag = "members",
    params(("workspace_id" = uuid::Uuid, Path,), ("user_id" = uuid::Uuid, Path,)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_member(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams((wid, uid)): PathParams<(String, String)>,
    QueryParams(NoQuery {}): QueryParams<NoQuery>,
) -> ApiResult<StatusCode> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    s.service.remove_member(&p, path_id(&uid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
