//! `/auth/*`: sign-up, email verification, log-in and log-out, and accepting an invitation
//! with a session (PRODUCT.md §4).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keyward_core::secret::SecretString;
use keyward_core::service::Signup;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::dto::{UserOut, WorkspaceOut};
use crate::http::error::ApiResult;
use crate::http::extract::{Auth, JsonBody, Origin};
use crate::http::openapi::{AuthErrors, BodyErrors, Conflict};
use crate::http::openapi_fields::{Email, Name, NameOrBlank, Password};
use crate::http::{session_cookie, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(accept_invitation))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupIn {
    #[schema(value_type = Email)]
    pub email: String,
    #[schema(value_type = Password)]
    pub password: String,
    #[schema(value_type = Name)]
    pub name: String,
    /// The new workspace's name; by default (or when blank) "<name>'s workspace".
    #[schema(value_type = Option<NameOrBlank>)]
    pub workspace_name: Option<String>,
    /// The token of an emailed invitation: join that workspace instead of getting one.
    pub invitation_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    /// The `token` of the emailed link.
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailIn {
    #[schema(value_type = Email)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginOut {
    pub user: UserOut,
    /// Send it as `X-CSRF-Token` on every state-changing request made with the session.
    pub csrf_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedOut {
    pub message: &'static str,
}

/// Sign up.
///
/// Creates the user and its own workspace, with the user as owner and no key, and emails a
/// link that verifies the address (valid 24 hours). With `invitation_token`, the user joins
/// the inviting workspace instead, in the invited role, and the address counts as
/// verified. `403 forbidden` when the operator closed sign-up (`allow_signup = false`),
/// except with an invitation; `409` when the email has an account.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", operation_id = "signup",
    request_body = SignupIn, security(()),
    responses((status = 201, body = UserOut), BodyErrors, Conflict, AuthErrors))]
async fn signup(
    State(s): State<AppState>,
    origin: Origin,
    JsonBody(body): JsonBody<SignupIn>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let input = Signup {
        email: body.email,
        password: SecretString::new(body.password),
        name: body.name,
        workspace_name: body.workspace_name,
        invitation: body.invitation_token.map(SecretString::new),
    };
    let user = s.service.signup(input, origin.meta).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Verify an email address.
///
/// Uses the `token` of the emailed link: once, within 24 hours. A used, expired or unknown
/// token is `422`.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", operation_id = "verify_email",
    request_body = TokenIn, security(()),
    responses((status = 200, body = UserOut), BodyErrors, AuthErrors))]
async fn verify_email(
    State(s): State<AppState>,
    origin: Origin,
    JsonBody(body): JsonBody<TokenIn>,
) -> ApiResult<Json<UserOut>> {
    let user = s.service.verify_email(&body.token, origin.meta).await?;
    Ok(Json(user.into()))
}

/// Send the verification link again.
///
/// Always `202`, whether or not the address has an unverified account, so that it cannot
/// be used to find accounts; at most one message per address a minute (`429`).
#[utoipa::path(post, path = "/api/v1/auth/resend-verification", tag = "auth", operation_id = "resend_verification",
    request_body = EmailIn, security(()),
    responses((status = 202, body = AcceptedOut), BodyErrors, AuthErrors))]
async fn resend_verification(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<EmailIn>,
) -> ApiResult<(StatusCode, Json<AcceptedOut>)> {
    s.service.resend_verification(&body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AcceptedOut {
            message: "if this address has an unverified account, a new link is on its way",
        }),
    ))
}

/// Log in.
///
/// Starts a console session with a fresh id, set as an `HttpOnly; SameSite=Lax` cookie
/// (`Secure` when `public_url` is https), and returns the session's CSRF token. A wrong
/// password and an unknown email are the same `401`. Failed log-ins are limited per
/// account and per client IP (`429`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginIn, security(()),
    responses((status = 200, body = LoginOut, headers(("Set-Cookie" = String, description = "The session cookie"))),
              BodyErrors, AuthErrors))]
async fn login(
    State(s): State<AppState>,
    origin: Origin,
    JsonBody(body): JsonBody<LoginIn>,
) -> ApiResult<Response> {
    let done = s
        .service
        .login(&body.email, SecretString::new(body.password), origin.ip)
        .await?;
    let out = LoginOut {
        user: done.user.into(),
        csrf_token: done.csrf_token.expose_secret().to_owned(),
    };
    let mut response = Json(out).into_response();
    if let Some(cookie) = session_cookie::set(&done.session, s.secure_cookies) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Log out.
///
/// Ends the session on the server, so its cookie stops working everywhere, and clears it.
/// Like every state change with a session, it needs the `X-CSRF-Token` header.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "logout",
    security(("session" = [])),
    responses((status = 204, description = "Logged out"), AuthErrors))]
async fn logout(State(s): State<AppState>, Auth(caller): Auth) -> ApiResult<Response> {
    s.service.logout(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie::clear(s.secure_cookies));
    Ok(response)
}

/// Accept an invitation.
///
/// For a user who has an account already: joins the workspace of the emailed invitation
/// `token`, which must have been sent to this user's email.
#[utoipa::path(post, path = "/api/v1/auth/accept-invitation", tag = "auth", operation_id = "accept_invitation",
    request_body = TokenIn, security(("session" = [])),
    responses((status = 200, body = WorkspaceOut), BodyErrors, Conflict, AuthErrors))]
async fn accept_invitation(
    State(s): State<AppState>,
    Auth(caller): Auth,
    JsonBody(body): JsonBody<TokenIn>,
) -> ApiResult<Json<WorkspaceOut>> {
    let ws = s
        .service
        .accept_invitation(&caller, &SecretString::new(body.token))
        .await?;
    let p = s.service.principal(&caller, ws.id).await?;
    Ok(Json(WorkspaceOut::new(p.workspace, Some(p.role))))
}
