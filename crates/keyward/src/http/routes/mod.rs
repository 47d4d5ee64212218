//! The route modules, one per resource; each exposes `router()`, merged in `http::router`.

pub mod account;
pub mod auth;
pub mod invitations;
pub mod keys;
pub mod keys_alias;
pub mod ops;
pub mod secret_scanning;
pub mod verify;
pub mod workspaces;

use axum::http::{HeaderValue, Uri};
use serde::Serialize;

/// `<path?query>; rel="next"` for the page after this one, relative to the request path.
pub fn next_link(uri: &Uri, next_query: &impl Serialize) -> Option<HeaderValue> {
    let query = serde_urlencoded::to_string(next_query).ok()?;
    HeaderValue::from_str(&format!("<{}?{}>; rel=\"next\"", uri.path(), query)).ok()
}
