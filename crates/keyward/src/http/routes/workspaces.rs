//! `/workspaces` and `/workspaces/{workspace_id}/members`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyward_core::service::{Added, MemberPatch, NewMember, WorkspacePatch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{
    AddMemberIn, CreateWorkspaceIn, InvitationOut, MemberOut, NoQuery, UpdateMemberIn,
    UpdateWorkspaceIn, WorkspaceOut,
};
use crate::http::error::ApiResult;
use crate::http::extract::{path_id, Auth, JsonBody, PathParams, QueryParams};
use crate::http::openapi::{AuthErrors, BadRequest, BodyErrors, Conflict, NotFound};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace))
        .routes(routes!(list_members, add_member))
        .routes(routes!(update_member, remove_member))
}

/// List the caller's workspaces.
///
/// Every workspace the user belongs to, with its role there; for an API key, only the
/// key's own workspace.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces", operation_id = "list_workspaces",
    responses((status = 200, body = Vec<WorkspaceOut>), AuthErrors))]
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

/// Create a workspace.
///
/// The caller becomes its owner. It starts on the default plan, with the default key
/// prefix and format.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", operation_id = "create_workspace",
    request_body = CreateWorkspaceIn, responses((status = 201, body = WorkspaceOut), BodyErrors, AuthErrors))]
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

/// Get one workspace.
///
/// Its settings, plan and the caller's role there. A workspace the caller does not belong
/// to is `404`.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}", tag = "workspaces", operation_id = "get_workspace",
    params(("workspace_id" = uuid::Uuid, Path,)), responses((status = 200, body = WorkspaceOut), NotFound, AuthErrors))]
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

/// Change a workspace's settings.
///
/// The name, the key prefix and format of new keys, or whether members may create keys (which needs
/// `*`). Fields left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/workspaces/{workspace_id}", tag = "workspaces", operation_id = "update_workspace",
    params(("workspace_id" = uuid::Uuid, Path,)), request_body = UpdateWorkspaceIn,
    responses((status = 200, body = WorkspaceOut), BodyErrors, NotFound, AuthErrors))]
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
        key_format: body.key_format,
        members_can_create_keys: body.members_can_create_keys,
    };
    let role = p.role;
    Ok(Json(WorkspaceOut::new(
        s.service.update_workspace(&p, patch).await?,
        Some(role),
    )))
}

/// List a workspace's members.
///
/// Every member with its role, product scopes and whether its email is verified.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/members", tag = "members", operation_id = "list_members",
    params(("workspace_id" = uuid::Uuid, Path,)), responses((status = 200, body = Vec<MemberOut>), NotFound, AuthErrors))]
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

/// Add a member, or invite one.
///
/// Adds an existing user, by email, with a role and optional product scopes (`201`). An
/// email with no account gets an invitation instead (`202`): a single-use link, valid 7
/// days, that leads to sign-up and joins the workspace in that role. Nobody can grant more
/// than it holds: adding an owner needs an owner.
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/members", tag = "members", operation_id = "add_member",
    params(("workspace_id" = uuid::Uuid, Path,)), request_body = AddMemberIn,
    responses((status = 201, body = MemberOut, description = "The user was added"),
              (status = 202, body = InvitationOut, description = "The email has no account: it was invited"),
              BodyErrors, NotFound, Conflict, AuthErrors))]
async fn add_member(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
    JsonBody(body): JsonBody<AddMemberIn>,
) -> ApiResult<Response> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let added = s
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
    Ok(match added {
        Added::Member(m) => (StatusCode::CREATED, Json(MemberOut::from(m))).into_response(),
        Added::Invited(i) => (StatusCode::ACCEPTED, Json(InvitationOut::from(i))).into_response(),
    })
}

/// Change a member.
///
/// Its role or product scopes. Only owners change owners, and the last owner stays one
/// (`409`).
#[utoipa::path(patch, path = "/api/v1/workspaces/{workspace_id}/members/{user_id}", tag = "members", operation_id = "update_member",
    params(("workspace_id" = uuid::Uuid, Path,), ("user_id" = uuid::Uuid, Path,)), request_body = UpdateMemberIn,
    responses((status = 200, body = MemberOut), BodyErrors, NotFound, Conflict, AuthErrors))]
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

/// Remove a member.
///
/// Also revokes, in the same transaction, every key that user created in this workspace: a
/// key acts only while its creator is a member. The last owner cannot be removed (`409`).
/// The endpoint takes no query parameters; one sent anyway is `400`.
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/members/{user_id}", tag = "members", operation_id = "remove_member",
    params(("workspace_id" = uuid::Uuid, Path,), ("user_id" = uuid::Uuid, Path,)),
    responses((status = 204, description = "Removed"), BadRequest, NotFound, Conflict, AuthErrors))]
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
