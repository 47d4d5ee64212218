//! The web console (PRODUCT.md §10): server-rendered pages over the same service layer as
//! the JSON API. Handlers here parse a form, call the service and render a template; no rule
//! lives in this module, so the console cannot allow what the API refuses.
//!
//! Layout: `visitor.rs` turns the session cookie (and a form's CSRF token) into a caller and
//! its current workspace; `form.rs` reads form posts; `page.rs` renders templates with the
//! headers every page carries; one module per page group; `assets.rs` serves the CSS and
//! JavaScript, which are compiled into the binary.

mod account_pages;
mod assets;
mod form;
mod keys_page;
mod page;
mod settings_page;
mod team_pages;
mod time;
mod visitor;

use axum::routing::{get, post};
use axum::Router;

use crate::http::AppState;

/// Every console route: the public account pages at the root, the signed-in pages under
/// `/platform`, and the embedded assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(account_pages::root))
        .route(
            "/login",
            get(account_pages::login_page).post(account_pages::login),
        )
        .route("/logout", post(account_pages::logout))
        .route(
            "/signup",
            get(account_pages::signup_page).post(account_pages::signup),
        )
        .route("/check-email", get(account_pages::check_email))
        .route("/resend-verification", post(account_pages::resend))
        .route("/verify-email", get(account_pages::verify_email))
        .route(
            "/invitations/accept",
            get(account_pages::invitation_page).post(account_pages::accept_invitation),
        )
        .route("/platform", get(keys_page::home))
        .route("/platform/api-keys", get(keys_page::page))
        .route("/platform/api-keys/create", post(keys_page::create))
        .route("/platform/api-keys/{id}/edit", post(keys_page::edit))
        .route("/platform/api-keys/{id}/rotate", post(keys_page::rotate))
        .route("/platform/api-keys/{id}/revoke", post(keys_page::revoke))
        .route("/platform/api-keys/{id}/delete", post(keys_page::delete))
        .route("/platform/members", get(team_pages::members))
        .route("/platform/members/invite", post(team_pages::invite))
        .route("/platform/members/{id}/role", post(team_pages::change_role))
        .route("/platform/members/{id}/remove", post(team_pages::remove))
        .route(
            "/platform/invitations/{id}/withdraw",
            post(team_pages::withdraw),
        )
        .route("/platform/audit-log", get(team_pages::audit_log))
        .route(
            "/platform/settings",
            get(settings_page::page).post(settings_page::save),
        )
        .route("/platform/workspace", post(settings_page::switch_workspace))
        .route(
            "/platform/workspaces",
            post(settings_page::create_workspace),
        )
        .route("/assets/{file}", get(assets::serve))
}
