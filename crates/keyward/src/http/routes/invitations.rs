//! `/workspaces/{workspace_id}/invitations`: the pending invitations of a workspace, and
//! withdrawing one. Invitations are made by adding a member whose email has no account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{InvitationOut, NoQuery};
use crate::http::error::ApiResult;
use crate::http::extract::{path_id, Auth, PathParams, QueryParams};
use crate::http::openapi::{AuthErrors, BadRequest, NotFound};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations))
        .routes(routes!(withdraw_invitation))
}

/// List pending invitations.
///
/// Invitations not yet used, withdrawn or expired, oldest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/invitations", tag = "members", operation_id = "list_invitations",
    params(("workspace_id" = uuid::Uuid, Path,)),
    responses((status = 200, body = Vec<InvitationOut>), NotFound, AuthErrors))]
async fn list_invitations(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
) -> ApiResult<Json<Vec<InvitationOut>>> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let pending = s.service.list_invitations(&p).await?;
    Ok(Json(pending.into_iter().map(InvitationOut::from).collect()))
}

/// Withdraw an invitation.
///
/// Its link stops working at once. Withdrawing needs the same power as adding that role;
/// an invitation that was used, withdrawn or has expired is `404`.
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/invitations/{invitation_id}", tag = "members", operation_id = "withdraw_invitation",
    params(("workspace_id" = uuid::Uuid, Path,), ("invitation_id" = uuid::Uuid, Path,)),
    responses((status = 204, description = "Withdrawn"), BadRequest, NotFound, AuthErrors))]
async fn withdraw_invitation(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams((wid, iid)): PathParams<(String, String)>,
    QueryParams(NoQuery {}): QueryParams<NoQuery>,
) -> ApiResult<StatusCode> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    s.service.withdraw_invitation(&p, path_id(&iid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
