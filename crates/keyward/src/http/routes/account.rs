//! `/users/current`, `/scopes` and `/workspaces/{workspace_id}/audit-events`.

use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyward_core::scope::MANAGEMENT_SCOPES;
use keyward_core::service::AuditFilter;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{AuditEventOut, AuditQueryIn, CurrentOut, ScopeOut};
use crate::http::error::ApiResult;
use crate::http::extract::{path_id, workspace_hint, Auth, PathParams, QueryParams};
use crate::http::openapi::{audit_action, AuthErrors, BadRequest, NotFound};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current_user))
        .routes(routes!(scopes))
        .routes(routes!(audit_events))
}

/// Who is calling.
///
/// The user, the current workspace and role, and how the caller authenticated: by session,
/// or by API key (with its id, display prefix and the scopes it holds). A session naming in
/// `X-Workspace-ID` a workspace it does not belong to gets `404`, as for any such workspace.
#[utoipa::path(get, path = "/api/v1/users/current", tag = "users", operation_id = "get_current_user",
    params(("X-Workspace-ID" = Option<uuid::Uuid>, Header, description = "A session's workspace")),
    responses((status = 200, body = CurrentOut), BadRequest, NotFound, AuthErrors))]
async fn current_user(
    State(s): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
) -> ApiResult<Json<CurrentOut>> {
    Ok(Json(
        s.service
            .whoami(&caller, workspace_hint(&headers)?)
            .await?
            .into(),
    ))
}

/// List the scope catalog.
///
/// The operator's product scopes, then keyward's management scopes. A key can hold only
/// scopes from this list, or `*` for full access.
#[utoipa::path(get, path = "/api/v1/scopes", tag = "scopes", operation_id = "list_scopes",
    responses((status = 200, body = Vec<ScopeOut>), AuthErrors))]
async fn scopes(State(s): State<AppState>, Auth(_caller): Auth) -> Json<Vec<ScopeOut>> {
    let catalog = &s.service.settings().catalog;
    let product = catalog.product_scopes().iter().map(|n| ScopeOut {
        name: n.clone(),
        kind: "product",
    });
    let management = MANAGEMENT_SCOPES.iter().map(|n| ScopeOut {
        name: (*n).to_owned(),
        kind: "management",
    });
    Json(product.chain(management).collect())
}

/// List a workspace's audit events.
///
/// Newest first, filtered by `action` and `target_id`. Pages hold `limit` events; the next
/// page is in the `Link` header. Events are never deleted with their target, and never
/// hold a secret.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/audit-events", tag = "audit",
    operation_id = "list_audit_events", params(("workspace_id" = uuid::Uuid, Path,), AuditQueryParams),
    responses((status = 200, body = Vec<AuditEventOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`, when there is a next page"))),
              BadRequest, NotFound, AuthErrors))]
async fn audit_events(
    State(s): State<AppState>,
    Auth(caller): Auth,
    PathParams(wid): PathParams<String>,
    QueryParams(q): QueryParams<AuditQueryIn>,
    uri: Uri,
) -> ApiResult<Response> {
    let p = s.service.principal(&caller, path_id(&wid)?).await?;
    let filter = AuditFilter {
        action: q.action.clone(),
        target_id: q.target_id.clone(),
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let page = s.service.list_audit(&p, filter).await?;
    let body: Vec<AuditEventOut> = page.items.into_iter().map(AuditEventOut::from).collect();
    let mut response = Json(body).into_response();
    if let Some(cursor) = page.next_cursor {
        let next = AuditQueryIn {
            cursor: Some(cursor),
            ..q
        };
        if let Some(link) = super::next_link(&uri, &next) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

/// The query parameters of the audit log, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AuditQueryParams {
    /// Only events of this action.
    #[param(schema_with = audit_action)]
    action: Option<String>,
    /// Only events about this object (a key, a member, the workspace).
    target_id: Option<uuid::Uuid>,
    /// Events per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
    /// From the previous page's `Link` header; one the server did not issue is `400`.
    #[param(schema_with = crate::http::openapi_fields::cursor)]
    cursor: Option<String>,
}
