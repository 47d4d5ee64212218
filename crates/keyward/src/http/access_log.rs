//! One `info` line per request (PRODUCT.md §8): method, route template, status, latency,
//! request id, and the id of the credential that authenticated it, so that a `request_id`
//! a client quotes leads to its line.
//!
//! The line names the route template, never the raw path (which holds workspace and key
//! ids), the method as a bounded label, and credentials by id only, never by secret.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::display;
use uuid::Uuid;

use super::error::current_request_id;
use super::metrics::{method_label, route_label};

/// What authenticated a request, by id.
#[derive(Debug, Clone, Copy)]
pub enum Credential {
    ApiKey(Uuid),
    ServiceToken(Uuid),
    /// A console session, named by its user: the session id is as good as a password.
    Session {
        user_id: Uuid,
    },
}

/// Where the authenticating extractor leaves the credential for the log line. It lives in
/// the request's extensions, because the line is written after the handler has consumed
/// the request.
#[derive(Debug, Clone, Default)]
pub struct CredentialSlot(Arc<OnceLock<Credential>>);

impl CredentialSlot {
    /// Notes the credential of the request `parts` belongs to; the first one noted stays.
    pub fn record(parts: &Parts, credential: Credential) {
        if let Some(slot) = parts.extensions.get::<CredentialSlot>() {
            let _ = slot.0.set(credential);
        }
    }
}

pub async fn log_request(mut request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = route_label(&request);
    let slot = CredentialSlot::default();
    request.extensions_mut().insert(slot.clone());
    let started = Instant::now();
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let (mut key_id, mut service_token_id, mut user_id) = (None, None, None);
    match slot.0.get() {
        Some(Credential::ApiKey(id)) => key_id = Some(display(*id)),
        Some(Credential::ServiceToken(id)) => service_token_id = Some(display(*id)),
        Some(Credential::Session { user_id: id }) => user_id = Some(display(*id)),
        None => {}
    }
    // Outside the request's span: the line carries every field itself, once.
    tracing::info!(
        parent: None,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms,
        request_id = %current_request_id(),
        key_id,
        service_token_id,
        user_id,
        "request"
    );
    response
}
