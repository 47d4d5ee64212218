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
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{path_id, workspace_hint, Auth, PathParams, QueryParams};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current_user))
        .routes(routes!(scopes))
        .routes(routes!(audit_events))
}

/// Who is calling: the user, the current workspace and role, and how they authenticated.
#[utoipa::path(get, path = "/api/v1/users/current", tag = "users",
    responses((status = 200, body = CurrentOut), (status = 401, body = ErrorBody)))]
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

/// The scope catalog: the operator's product scopes, then keyward's management scopes.
#[utoipa::path(get, path = "/api/v1/scopes", tag = "scopes",
    responses((status = 200, body = Vec<ScopeOut>), (status = 401, body = ErrorBody)))]
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

/// The workspace's audit events, newest first; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/audit-events", tag = "audit",
    params(("workspace_id" = uuid::Uuid, Path,), ("action" = Option<String>, Query,), ("target_id" = Option<uuid::Uuid>, Query,),
           ("limit" = Option<u32>, Query,), ("cursor" = Option<String>, Query,)),
    responses((status = 200, body = Vec<AuditEventOut>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
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
