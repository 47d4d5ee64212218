//! The Settings page (the workspace's name, key prefix and format, and whether members may
//! create keys),
//! the workspace switcher, and creating a workspace.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::service::WorkspacePatch;
use serde::Deserialize;
use uuid::Uuid;

use super::form::Form;
use super::page::{redirect, render, status_of, words};
use super::visitor::{choose_workspace, PageResult, Shell, Visitor};
use crate::http::AppState;

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    shell: Shell,
    /// `None` for a visitor in no workspace: the page offers to create one.
    workspace: Option<WorkspaceForm>,
    can_edit: bool,
    /// Changing `members_can_create_keys` needs `*` (PRODUCT.md §3).
    can_edit_policy: bool,
    plan: String,
    default_prefix: String,
}

struct WorkspaceForm {
    name: String,
    key_prefix: String,
    key_format: String,
    members_can_create_keys: bool,
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    notice: Option<String>,
}

pub async fn page(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<SettingsQuery>,
) -> PageResult {
    let v = Visitor::of_page(&s, &parts).await?;
    let shell = v.shell(&parts.headers, "settings", q.notice.as_deref());
    Ok(show(&s, &parts, &v, shell, None, StatusCode::OK).await)
}

async fn show(
    s: &AppState,
    parts: &Parts,
    v: &Visitor,
    shell: Shell,
    sent: Option<WorkspaceForm>,
    status: StatusCode,
) -> Response {
    let default_prefix = s.service.settings().default_key_prefix.as_str().to_owned();
    if v.current(&parts.headers).is_none() {
        let page = SettingsPage {
            shell,
            workspace: None,
            can_edit: false,
            can_edit_policy: false,
            plan: String::new(),
            default_prefix,
        };
        return render(status, &page);
    }
    let p = match v.principal(s, &parts.headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let ws = &p.workspace;
    let form = sent.unwrap_or(WorkspaceForm {
        name: ws.name.clone(),
        key_prefix: ws.key_prefix.as_str().to_owned(),
        key_format: ws.key_format.as_str().to_owned(),
        members_can_create_keys: ws.members_can_create_keys,
    });
    let page = SettingsPage {
        shell,
        workspace: Some(form),
        can_edit: p.require("workspace:write").is_ok(),
        can_edit_policy: p.require_full_access().is_ok(),
        plan: ws.plan.clone(),
        default_prefix,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    key_prefix: String,
    /// Absent when the select is disabled (a visitor who may not edit).
    #[serde(default)]
    key_format: Option<String>,
    /// A checkbox: present ("on") when ticked, absent otherwise.
    #[serde(default)]
    members_can_create_keys: Option<String>,
}

pub async fn save(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    let v = Visitor::of_form(&s, &parts, &f.csrf_token).await?;
    let p = v.principal(&s, &parts.headers).await?;
    let ws = &p.workspace;
    let policy = f.members_can_create_keys.is_some();
    // Send only what changed: changing the policy needs more than renaming does, and an
    // admin saving a new name must not be refused for a setting it left alone.
    let patch = WorkspacePatch {
        name: Some(f.name.clone()).filter(|n| *n != ws.name),
        key_prefix: Some(f.key_prefix.clone()).filter(|k| k != ws.key_prefix.as_str()),
        key_format: f.key_format.clone().filter(|k| k != ws.key_format.as_str()),
        members_can_create_keys: Some(policy).filter(|m| *m != ws.members_can_create_keys),
    };
    Ok(match s.service.update_workspace(&p, patch).await {
        Ok(_) => redirect("/platform/settings?notice=settings_saved"),
        Err(e) => {
            let mut shell = v.shell(&parts.headers, "settings", None);
            shell.error = Some(words(&e));
            let sent = WorkspaceForm {
                name: f.name,
                key_prefix: f.key_prefix,
                key_format: f
                    .key_format
                    .unwrap_or_else(|| ws.key_format.as_str().to_owned()),
                members_can_create_keys: policy,
            };
            show(&s, &parts, &v, shell, Some(sent), status_of(&e)).await
        }
    })
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    workspace_id: String,
}

/// The workspace switcher: remembers the choice if the visitor belongs to that workspace.
pub async fn switch_workspace(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<SwitchForm>,
) -> PageResult {
    let v = Visitor::of_form(&s, &parts, &f.csrf_token).await?;
    let mut r = redirect("/platform/api-keys");
    if let Some((ws, _)) = Uuid::parse_str(&f.workspace_id)
        .ok()
        .and_then(|id| v.workspaces.iter().find(|(w, _)| w.id == id))
    {
        choose_workspace(&mut r, ws.id, s.secure_cookies);
    }
    Ok(r)
}

#[derive(Deserialize)]
pub struct NewWorkspaceForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

pub async fn create_workspace(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<NewWorkspaceForm>,
) -> PageResult {
    let v = Visitor::of_form(&s, &parts, &f.csrf_token).await?;
    Ok(match s.service.create_workspace(&v.caller, &f.name).await {
        Ok(ws) => {
            let mut r = redirect("/platform/api-keys");
            choose_workspace(&mut r, ws.id, s.secure_cookies);
            r
        }
        Err(e) => {
            let mut shell = v.shell(&parts.headers, "settings", None);
            shell.error = Some(words(&e));
            show(&s, &parts, &v, shell, None, status_of(&e)).await
        }
    })
}
