//! Profiles with their own error shape (smplkit's JSON:API `errors`, Skillett's
//! `{"error", "message"}`) read each error the native stack produced back into its parts and
//! say the same thing in their shape: the status, code and message never differ between
//! surfaces. Doing it as a layer around the whole router covers every error under the
//! profile's paths alike: those the extractors raise (authentication, body, path) before a
//! handler runs, and the router's own `404` and `405`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

use super::{skillett, smplkit, Profile, Profiles};

/// How a profile says an error: its content type and body.
type Shape = fn(StatusCode, NativeError) -> (&'static str, Vec<u8>);

/// The error shape of the profile a request path belongs to, if it has its own.
fn shape_for(profiles: &Profiles, path: &str) -> Option<Shape> {
    if profiles.has(Profile::Smplkit) && smplkit::owns(path) {
        Some(smplkit::error_body)
    } else if profiles.has(Profile::Skillett) && skillett::owns(path) {
        Some(skillett::error_body)
    } else {
        None
    }
}

/// The middleware: errors under a profile's paths leave in that profile's shape.
pub async fn reshape(State(profiles): State<Profiles>, request: Request, next: Next) -> Response {
    let shape = shape_for(&profiles, request.uri().path());
    let response = next.run(request).await;
    match shape {
        Some(shape) => rewrite(response, shape).await,
        None => response,
    }
}

/// An error as the native envelope says it (PRODUCT.md §7).
#[derive(Debug, Deserialize)]
pub struct NativeError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: Vec<FieldDetail>,
    #[serde(default)]
    pub request_id: String,
}

#[derive(Debug, Deserialize)]
pub struct FieldDetail {
    pub field: String,
    pub message: String,
}

#[derive(Deserialize)]
struct Envelope {
    error: NativeError,
}

/// Error bodies are a few hundred bytes; this only bounds a broken one.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Rewrites an error response with `reshape(status, error) -> (content type, body)`, keeping
/// its status and headers (`WWW-Authenticate`, `Retry-After`, `Allow`, …). Successes, and
/// anything that is not the native envelope, pass through untouched.
async fn rewrite(response: Response, reshape: Shape) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        // The body could not be read: say nothing more than the status does.
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(Envelope { error }) = serde_json::from_slice::<Envelope>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (content_type, body) = reshape(status, error);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Response::from_parts(parts, Body::from(body))
}
