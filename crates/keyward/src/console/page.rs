//! Rendering: templates into responses with the headers every console page carries, the
//! message page for problems, redirects, and errors turned into words.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keyward_core::error::FieldError;
use keyward_core::Error;

use crate::http::error::current_request_id;

/// A plain page with a heading, a paragraph and one way on: results of emailed links, and
/// problems.
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage {
    pub heading: String,
    pub body: String,
    pub link: Option<(String, String)>,
    pub alert: bool,
}

/// Scripts and styles only from this server, no framing, no referrer: the verification and
/// invitation pages carry tokens in their address, which must not leak to another site.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn render<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(html) => with_headers((status, html).into_response()),
        Err(e) => {
            tracing::error!(request_id = %current_request_id(), error = %e, "template failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    }
}

fn with_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Pages show per-user data and, once, a new secret: never cache them.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub fn message(
    status: StatusCode,
    heading: &str,
    body: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let page = MessagePage {
        heading: heading.to_owned(),
        body: body.to_owned(),
        link: link.map(|(href, text)| (href.to_owned(), text.to_owned())),
        alert: status.is_client_error() || status.is_server_error(),
    };
    render(status, &page)
}

pub fn problem(status: StatusCode, body: &str) -> Response {
    let body = if status.is_server_error() {
        format!(
            "{body} Try again; if it keeps happening, tell your operator the request id {}.",
            current_request_id()
        )
    } else {
        body.to_owned()
    };
    message(
        status,
        "Something is not right",
        &body,
        Some(("/", "Back to the console")),
    )
}

/// `303 See Other`: after a form post, the browser loads the page with GET, so reloading
/// it never sends the form again.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The status a console page answers an error with: the API's.
pub use crate::http::error::status_of;

/// An error as a sentence for a person, never raw JSON. A 5xx detail stays in the log.
pub fn words(e: &Error) -> String {
    match e {
        Error::Validation(fields) => fields.iter().map(field_words).collect::<Vec<_>>().join(" "),
        Error::NotFound => "It no longer exists, or you cannot see it.".into(),
        Error::Unauthorized { .. } => "Your session has ended. Log in again.".into(),
        Error::LoginFailed => "The email or password is not right.".into(),
        Error::CsrfFailed => {
            "This form has expired or came from another site. Reload the page and try again.".into()
        }
        Error::EmailUnverified => {
            "Verify your email address first: open the link we emailed you.".into()
        }
        Error::RateLimited { retry_after_secs } => {
            format!("Too many attempts. Try again in {retry_after_secs} seconds.")
        }
        Error::Internal(detail) => {
            tracing::error!(request_id = %current_request_id(), error = %detail, "internal error");
            format!(
                "Something went wrong on our side. Try again; if it keeps happening, tell your operator the request id {}.",
                current_request_id()
            )
        }
        Error::Unavailable => {
            "The database cannot be reached right now. Try again in a moment.".into()
        }
        other => sentence(&other.to_string()),
    }
}

fn field_words(f: &FieldError) -> String {
    let label = match f.field.as_str() {
        "name" => "Name",
        "email" => "Email",
        "password" => "Password",
        "expires_at" => "Expiration date",
        "scopes" => "Permissions",
        "workspace_name" | "workspace" => "Workspace name",
        "key_prefix" => "Key prefix",
        "role" => "Role",
        "token" => "The link",
        "reason" => "Reason",
        _ => "A field",
    };
    sentence(&format!("{label} {}", f.message))
}

/// Capitalised and ending with a full stop.
fn sentence(raw: &str) -> String {
    let mut s: String = raw.trim().to_owned();
    if let Some(first) = s.get(0..1) {
        s = first.to_uppercase() + &s[1..];
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The fixed notices a page shows after a redirect (`?notice=…`); anything else is ignored,
/// so a crafted link cannot put words on the page.
pub fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "key_updated" => "The key was updated.",
        "key_revoked" => "The key was revoked. Requests with it now fail.",
        "key_deleted" => "The key was deleted.",
        "invited" => "The invitation is on its way.",
        "member_added" => "The member was added.",
        "member_updated" => "The member's role was changed.",
        "member_removed" => "The member was removed, and their keys here were revoked.",
        "invitation_withdrawn" => "The invitation was withdrawn.",
        "settings_saved" => "The settings were saved.",
        "verified" => "Your email address is verified. Log in to continue.",
        "joined" => "Your account is ready. Log in to open the workspace.",
        "logged_out" => "You have logged out.",
        "resent" => "If that address has an unverified account, a new link is on its way.",
        "workspace_created" => "The workspace was created.",
        _ => return None,
    })
}
