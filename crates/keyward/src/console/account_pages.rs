//! The pages before and around a session: log-in, sign-up, "check your email", the emailed
//! verification and invitation links, and log-out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::Response;
use keyward_core::secret::SecretString;
use keyward_core::service::Signup;
use keyward_core::Error;
use serde::Deserialize;

use super::form::Form;
use super::page::{self, message, redirect, render, words};
use super::visitor::{choose_workspace, Visitor};
use crate::http::extract::{client_ip, meta};
use crate::http::{session_cookie, AppState};

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    email: String,
    notice: Option<&'static str>,
    error: Option<String>,
    signup_open: bool,
}

#[derive(Template)]
#[template(path = "console/signup.html")]
struct SignupPage {
    name: String,
    email: String,
    workspace_name: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/check_email.html")]
struct CheckEmailPage {
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/invitation.html")]
struct InvitationPage {
    token: String,
    workspace_name: String,
    email: String,
    role: &'static str,
    name: String,
    /// The logged-in visitor this invitation is for, who joins with one click.
    csrf: Option<String>,
    error: Option<String>,
}

/// `/`: the console for a visitor with a session, the log-in page otherwise.
pub async fn root(State(s): State<AppState>, parts: Parts) -> Response {
    match Visitor::of_page(&s, &parts).await {
        Ok(_) => redirect("/platform/api-keys"),
        Err(_) => redirect("/login"),
    }
}

pub async fn login_page(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if Visitor::of_page(&s, &parts).await.is_ok() {
        return redirect("/platform/api-keys");
    }
    render(
        StatusCode::OK,
        &LoginPage {
            email: String::new(),
            notice: page::notice(q.notice.as_deref()),
            error: None,
            signup_open: s.service.settings().allow_signup,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn login(State(s): State<AppState>, parts: Parts, Form(f): Form<LoginForm>) -> Response {
    let ip = client_ip(&parts);
    match s
        .service
        .login(&f.email, SecretString::new(f.password), ip)
        .await
    {
        Ok(done) => {
            let mut r = redirect("/platform/api-keys");
            if let Some(cookie) = session_cookie::set(&done.session, s.secure_cookies) {
                r.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            r
        }
        Err(e) => render(
            page::status_of(&e),
            &LoginPage {
                email: f.email.trim().to_owned(),
                notice: None,
                error: Some(words(&e)),
                signup_open: s.service.settings().allow_signup,
            },
        ),
    }
}

pub async fn logout(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<super::form::CsrfOnly>,
) -> Response {
    let mut r = redirect("/login?notice=logged_out");
    if let Ok(v) = Visitor::of_form(&s, &parts, &f.csrf_token).await {
        if let Err(e) = s.service.logout(&v.caller).await {
            return page::problem(page::status_of(&e), &words(&e));
        }
    }
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie::clear(s.secure_cookies));
    r
}

fn signup_closed() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Sign-up is closed",
        "Sign-up is closed on this server. Ask its operator for an account, or a member of \
         your team for an invitation.",
        Some(("/login", "Log in")),
    )
}

pub async fn signup_page(State(s): State<AppState>) -> Response {
    if !s.service.settings().allow_signup {
        return signup_closed();
    }
    render(
        StatusCode::OK,
        &SignupPage {
            name: String::new(),
            email: String::new(),
            workspace_name: String::new(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    workspace_name: String,
}

pub async fn signup(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<SignupForm>,
) -> Response {
    let input = Signup {
        email: f.email.clone(),
        password: SecretString::new(f.password),
        name: f.name.clone(),
        workspace_name: Some(f.workspace_name.clone()).filter(|w| !w.trim().is_empty()),
        invitation: None,
    };
    match s
        .service
        .signup(input, meta(&parts, client_ip(&parts)))
        .await
    {
        Ok(_) => redirect("/check-email"),
        Err(Error::Forbidden(_)) => signup_closed(),
        Err(e) => render(
            page::status_of(&e),
            &SignupPage {
                name: f.name,
                email: f.email,
                workspace_name: f.workspace_name,
                error: Some(words(&e)),
            },
        ),
    }
}

pub async fn check_email(Query(q): Query<NoticeQuery>) -> Response {
    render(
        StatusCode::OK,
        &CheckEmailPage {
            notice: page::notice(q.notice.as_deref()),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    email: String,
    /// Set when the banner of a signed-in page sends it: back to where the visitor was.
    #[serde(default)]
    back: Option<String>,
}

pub async fn resend(State(s): State<AppState>, Form(f): Form<ResendForm>) -> Response {
    match s.service.resend_verification(&f.email).await {
        Ok(()) if f.back.is_some() => redirect("/platform/api-keys?notice=resent"),
        Ok(()) => redirect("/check-email?notice=resent"),
        Err(e) => render(
            page::status_of(&e),
            &CheckEmailPage {
                notice: None,
                error: Some(words(&e)),
            },
        ),
    }
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn invalid_link() -> Response {
    message(
        StatusCode::UNPROCESSABLE_ENTITY,
        "This link is not valid",
        "It was used already, has expired, or was withdrawn. Log in and ask for a new one.",
        Some(("/login", "Log in")),
    )
}

/// The emailed verification link. Opening it verifies the address: it is single-use and
/// proves only that its reader received the message, which is exactly what it checks.
pub async fn verify_email(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<TokenQuery>,
) -> Response {
    match s
        .service
        .verify_email(&q.token, meta(&parts, client_ip(&parts)))
        .await
    {
        Ok(_) => {
            let signed_in = Visitor::of_page(&s, &parts).await.is_ok();
            let link = if signed_in {
                ("/platform/api-keys", "Go to the console")
            } else {
                ("/login?notice=verified", "Log in")
            };
            message(
                StatusCode::OK,
                "Email verified",
                "Thank you: your address is confirmed, and you can now create API keys.",
                Some(link),
            )
        }
        Err(_) => invalid_link(),
    }
}

pub async fn invitation_page(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Ok(view) = s.service.invitation_for_token(&q.token).await else {
        return invalid_link();
    };
    let visitor = Visitor::of_page(&s, &parts).await.ok();
    let csrf = visitor
        .filter(|v| v.caller.user.email == view.invitation.email)
        .map(|v| v.csrf);
    render(
        StatusCode::OK,
        &InvitationPage {
            token: q.token,
            workspace_name: view.workspace.name,
            email: view.invitation.email,
            role: view.invitation.role.as_str(),
            name: String::new(),
            csrf,
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    /// Present when a signed-in visitor accepts with one click.
    #[serde(default)]
    csrf_token: Option<String>,
}

pub async fn accept_invitation(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<AcceptForm>,
) -> Response {
    let Ok(view) = s.service.invitation_for_token(&f.token).await else {
        return invalid_link();
    };
    let token = SecretString::new(f.token.clone());
    if let Some(csrf) = f.csrf_token.as_deref() {
        let visitor = match Visitor::of_form(&s, &parts, csrf).await {
            Ok(v) => v,
            Err(r) => return r,
        };
        return match s.service.accept_invitation(&visitor.caller, &token).await {
            Ok(ws) => {
                let mut r = redirect("/platform/api-keys");
                choose_workspace(&mut r, ws.id, s.secure_cookies);
                r
            }
            Err(e) => page::problem(page::status_of(&e), &words(&e)),
        };
    }
    let input = Signup {
        email: view.invitation.email.clone(),
        password: SecretString::new(f.password),
        name: f.name.clone(),
        workspace_name: None,
        invitation: Some(token),
    };
    match s
        .service
        .signup(input, meta(&parts, client_ip(&parts)))
        .await
    {
        Ok(_) => redirect("/login?notice=joined"),
        Err(e) => render(
            page::status_of(&e),
            &InvitationPage {
                token: f.token,
                workspace_name: view.workspace.name,
                email: view.invitation.email,
                role: view.invitation.role.as_str(),
                name: f.name,
                csrf: None,
                error: Some(words(&e)),
            },
        ),
    }
}
