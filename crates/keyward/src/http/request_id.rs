//! Gives every request a fresh id, visible to handlers, errors and logs, and returned in the
//! `X-Request-Id` header. Client-sent ids are ignored so logs cannot be spoofed.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::error::REQUEST_ID;

pub async fn assign(request: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7().simple().to_string();
    // The route template, never the raw path: paths hold workspace and key ids.
    let route = super::metrics::route_label(&request);
    let span = tracing::info_span!("request", request_id = %id, route = %route);
    let mut response =
        tracing::Instrument::instrument(REQUEST_ID.scope(id.clone(), next.run(request)), span)
            .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
