//! The Signalsmith profile (PRODUCT.md §11). Its paths are already the native ones; it
//! changes two things on the workspace key routes: `DELETE …/api-keys/{keyId}` revokes and
//! answers `200 {"status": "revoked"}` (the key stays listed, as revoked, instead of being
//! soft-deleted), and an `X-Workspace-ID` header, which Signalsmith's clients send, must
//! name the path's workspace.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyward_core::Error;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{path_id, workspace_hint, Auth, PathParams};
use crate::http::openapi::{AuthErrors, BadRequest, NotFound};
use crate::http::routes::keys::in_workspace;
use crate::http::AppState;

/// The DELETE that replaces the native one while the profile is on.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(revoke))
}

#[derive(Serialize, ToSchema)]
#[schema(as = signalsmith::Revoked)]
pub struct RevokedOut {
    /// Always `revoked`.
    #[schema(example = "revoked")]
    status: &'static str,
}

/// Revoke a key (Signalsmith).
///
/// While the `signalsmith` profile is on, DELETE revokes the key and keeps it listed with
/// status `revoked`; any request with it is then `401`. Revoking again answers the same.
/// An `X-Workspace-ID` header, when sent, must be the path's workspace (`400` otherwise).
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/api-keys/{id}", tag = "api-keys",
    operation_id = "delete_key",
    params(("workspace_id" = uuid::Uuid, Path,), ("id" = uuid::Uuid, Path,),
           ("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "Must be `workspace_id` when sent")),
    responses((status = 200, body = RevokedOut), BadRequest, NotFound, AuthErrors))]
async fn revoke(
    State(s): State<AppState>,
    auth: Auth,
    PathParams((wid, id)): PathParams<(String, String)>,
) -> ApiResult<Json<RevokedOut>> {
    let p = in_workspace(&s, auth, &wid).await?;
    s.service.revoke_key(&p, path_id(&id)?, None).await?;
    Ok(Json(RevokedOut { status: "revoked" }))
}

/// Refuses a request whose `X-Workspace-ID` names another workspace than its path: a client
/// that believes it acts on one workspace must not act on another. Paths outside
/// `/api/v1/workspaces/{id}/` are not this rule's business.
pub async fn workspace_header(request: Request, next: Next) -> Response {
    let in_path = request
        .uri()
        .path()
        .strip_prefix("/api/v1/workspaces/")
        .and_then(|rest| rest.split('/').next())
        .map(str::to_owned);
    if let Some(in_path) = in_path {
        match workspace_hint(request.headers()) {
            Err(e) => return e.into_response(),
            Ok(Some(sent)) if path_id(&in_path).ok() != Some(sent) => {
                return ApiError(Error::BadRequest(
                    "X-Workspace-ID must name the workspace in the path".into(),
                ))
                .into_response();
            }
            Ok(_) => {}
        }
    }
    next.run(request).await
}
