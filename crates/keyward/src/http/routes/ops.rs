//! Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.
//! None needs a credential.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::metrics::Metrics;
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthOut {
    /// `ok`, `ready` or `database unavailable`.
    status: &'static str,
}

/// Liveness.
///
/// 200 while the process serves requests; it does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz", security(()),
    responses((status = 200, body = HealthOut)))]
async fn healthz() -> Json<HealthOut> {
    Json(HealthOut { status: "ok" })
}

/// Readiness.
///
/// 200 when the database answers, 503 when it does not.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz", security(()),
    responses((status = 200, body = HealthOut), (status = 503, body = HealthOut)))]
async fn readyz(State(s): State<AppState>) -> Response {
    match s.service.store().ping().await {
        Ok(()) => Json(HealthOut { status: "ready" }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let body = HealthOut {
                status: "database unavailable",
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// Metrics.
///
/// Requests by method, route template and status, latency histograms, verifications by
/// code, `last_used_at` writes, and the verification cache's hits, misses, evictions and
/// entries, as OpenMetrics text. Every label has a bounded set of
/// values.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics", security(()),
    responses((status = 200, body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
async fn metrics(State(s): State<AppState>) -> Response {
    let cache = s.service.verifier().cache();
    s.metrics.observe_cache(cache.stats());
    (
        [(header::CONTENT_TYPE, Metrics::CONTENT_TYPE)],
        s.metrics.render(),
    )
        .into_response()
}

/// This OpenAPI document.
///
/// An OpenAPI 3.1 document generated from the route declarations themselves.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", operation_id = "openapi",
    security(()), responses((status = 200, body = Object)))]
async fn openapi(Extension(doc): Extension<Arc<serde_json::Value>>) -> Response {
    Json(doc.as_ref()).into_response()
}
