//! Who is looking at a console page: the session cookie turned into a caller through the
//! same service call as the API's, the session's CSRF token for the page's forms, and the
//! workspace the visitor is working in.

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use keyward_core::model::{Role, Workspace};
use keyward_core::secret::SecretString;
use keyward_core::service::{Caller, Principal};
use keyward_core::Error;
use uuid::Uuid;

use super::page;
use crate::http::extract::{client_ip, meta};
use crate::http::{session_cookie, AppState};

/// Which workspace a visitor in several works in. A preference only: every page still
/// resolves the visitor against it through the service, which refuses a workspace the
/// visitor does not belong to.
const WORKSPACE_COOKIE: &str = "keyward_workspace";

pub struct Visitor {
    pub caller: Caller,
    /// The CSRF token of this session, rendered into every form.
    pub csrf: String,
    pub workspaces: Vec<(Workspace, Role)>,
}

impl Visitor {
    /// The visitor of a page (a GET: no CSRF token needed), or the way to the log-in page.
    pub async fn of_page(state: &AppState, parts: &Parts) -> Result<Visitor, Response> {
        Self::resolve(state, parts, None).await
    }

    /// The visitor of a form post: the form must carry the session's CSRF token.
    pub async fn of_form(state: &AppState, parts: &Parts, csrf: &str) -> Result<Visitor, Response> {
        Self::resolve(state, parts, Some(csrf)).await
    }

    async fn resolve(
        state: &AppState,
        parts: &Parts,
        csrf: Option<&str>,
    ) -> Result<Visitor, Response> {
        let Some(cookie) = session_cookie::from_parts(parts) else {
            return Err(page::redirect("/login"));
        };
        let meta = meta(parts, client_ip(parts));
        let caller = state
            .service
            .authenticate_session(cookie, csrf, csrf.is_some(), meta)
            .await
            .map_err(|e| match e {
                Error::Unauthorized { .. } => page::redirect("/login"),
                other => page::message(
                    page::status_of(&other),
                    "This form cannot be accepted",
                    &page::words(&other),
                    Some(("/platform/api-keys", "Reload the console")),
                ),
            })?;
        let csrf = state
            .service
            .csrf_token(&SecretString::new(cookie.to_owned()))
            .expose_secret()
            .to_owned();
        let workspaces = state
            .service
            .list_workspaces(&caller)
            .await
            .map_err(|e| page::problem(page::status_of(&e), &page::words(&e)))?;
        Ok(Visitor {
            caller,
            csrf,
            workspaces,
        })
    }

    /// The workspace the visitor works in: the one chosen with the switcher if the visitor
    /// still belongs to it, else the oldest membership. `None` for a user in no workspace.
    pub fn current(&self, headers: &HeaderMap) -> Option<&Workspace> {
        let chosen = chosen_workspace(headers);
        self.workspaces
            .iter()
            .find(|(w, _)| Some(w.id) == chosen)
            .or_else(|| self.workspaces.first())
            .map(|(w, _)| w)
    }

    /// The visitor resolved against its current workspace: role and scopes, as the API
    /// resolves any caller.
    pub async fn principal(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Principal, Response> {
        let Some(ws) = self.current(headers) else {
            return Err(page::redirect("/platform/settings"));
        };
        state
            .service
            .principal(&self.caller, ws.id)
            .await
            .map_err(|e| page::problem(page::status_of(&e), &page::words(&e)))
    }
}

fn chosen_workspace(headers: &HeaderMap) -> Option<Uuid> {
    session_cookie::cookie(headers, WORKSPACE_COOKIE).and_then(|v| Uuid::parse_str(v).ok())
}

/// Remembers the visitor's choice of workspace.
pub fn choose_workspace(response: &mut Response, id: Uuid, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{WORKSPACE_COOKIE}={id}; HttpOnly; SameSite=Lax; Path=/{secure}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// What the frame of every signed-in page shows: navigation, the workspace switcher, the
/// unverified banner, and the notice or error of the last action.
pub struct Shell {
    pub csrf: String,
    pub user_name: String,
    pub user_email: String,
    pub unverified: bool,
    pub workspaces: Vec<WorkspaceChoice>,
    pub workspace_name: String,
    /// Which navigation link is the current page: `keys`, `members`, `audit`, `settings`.
    pub active: &'static str,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

pub struct WorkspaceChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

impl Visitor {
    pub fn shell(&self, headers: &HeaderMap, active: &'static str, notice: Option<&str>) -> Shell {
        let current = self.current(headers);
        Shell {
            csrf: self.csrf.clone(),
            user_name: self.caller.user.name.clone(),
            user_email: self.caller.user.email.clone(),
            unverified: self.caller.user.email_verified_at.is_none(),
            workspaces: self
                .workspaces
                .iter()
                .map(|(w, _)| WorkspaceChoice {
                    id: w.id.to_string(),
                    name: w.name.clone(),
                    selected: current.is_some_and(|c| c.id == w.id),
                })
                .collect(),
            workspace_name: current.map(|w| w.name.clone()).unwrap_or_default(),
            active,
            notice: page::notice(notice),
            error: None,
        }
    }
}

impl Visitor {
    /// The visitor of a form post, with its principal in the current workspace: what every
    /// signed-in form needs before it calls the service.
    pub async fn acting(
        state: &AppState,
        parts: &Parts,
        csrf: &str,
    ) -> Result<(Visitor, Principal), Response> {
        let v = Visitor::of_form(state, parts, csrf).await?;
        let p = v.principal(state, &parts.headers).await?;
        Ok((v, p))
    }
}

/// What a console handler answers: a page, or the page (or redirect) that stopped it.
pub type PageResult = Result<Response, Response>;
