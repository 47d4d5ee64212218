//! The console's session cookie: how it is set, cleared and read. The API's log-in and the
//! console's log-in form both set it here, so the two cannot differ in its attributes.

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use keyward_core::secret::SecretString;

pub const SESSION_COOKIE: &str = "keyward_session";

/// `HttpOnly` keeps it from scripts, `SameSite=Lax` from cross-site form posts, and
/// `Secure` (when `public_url` is https) from plain-http requests. No `Max-Age`: the server
/// ends sessions (idle and absolute timeouts), and the browser drops it when it closes.
pub fn set(token: &SecretString, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/{secure}",
        token.expose_secret()
    ))
    .ok()
}

/// Tells the browser to forget the cookie.
pub fn clear(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "keyward_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("keyward_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
    }
}

/// The cookie's value in a request, if it has one.
pub fn read(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the request's cookie called `name`, if it has a non-empty one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, value)| *n == name && !value.is_empty())
        .map(|(_, value)| value)
}

pub fn from_parts(parts: &Parts) -> Option<&str> {
    read(&parts.headers)
}
