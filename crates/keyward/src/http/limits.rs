//! The sizes a request may have before any handler sees it: the path with its query, and
//! the headers. The body's 64 KiB is enforced where a body is read ([`super::body`]).
//!
//! hyper already stops reading a request head past about 400 KiB; these limits are far
//! below that, so that no route, extractor or log line handles a head that no real client
//! sends, and a client that sends one gets the JSON envelope saying which limit it broke.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use super::error::{headers_too_large, uri_too_long};

/// The path and query together; browsers and proxies commonly stop near 8 KiB too.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// All header names and values together. (More than 100 header lines never get here:
/// hyper's parser refuses them with a bare 431.)
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn check(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let uri_bytes = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return uri_too_long();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return headers_too_large();
    }
    next.run(request).await
}
