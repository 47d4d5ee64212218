//! The Members page (invite, change a role, remove, withdraw an invitation) and the Audit
//! log page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::model::{now, ActorType, AuditEvent, Role};
use keyward_core::service::{Added, AuditFilter, MemberPatch, NewMember, Principal};
use keyward_core::Error;
use serde::Deserialize;
use uuid::Uuid;

use super::form::{CsrfOnly, Form};
use super::page::{redirect, render, status_of, words};
use super::time::When;
use super::visitor::{PageResult, Shell, Visitor};
use crate::http::extract::parse_id;
use crate::http::AppState;

#[derive(Template)]
#[template(path = "console/members.html")]
struct MembersPage {
    shell: Shell,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    can_manage: bool,
    invite_email: String,
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    verified: bool,
    joined: When,
    is_me: bool,
    /// The roles the visitor may give this member (empty: no controls for this row).
    roles: Vec<RoleOption>,
    can_remove: bool,
}

struct RoleOption {
    value: &'static str,
    selected: bool,
}

struct InvitationRow {
    id: String,
    email: String,
    role: &'static str,
    expires: When,
    can_withdraw: bool,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    shell: Shell,
    events: Vec<EventRow>,
    next: Option<String>,
}

struct EventRow {
    at: When,
    actor: String,
    action: String,
    target: String,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    notice: Option<String>,
    cursor: Option<String>,
}

const ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

pub async fn members(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let v = Visitor::of_page(&s, &parts).await?;
    let shell = v.shell(&parts.headers, "members", q.notice.as_deref());
    let p = v.principal(&s, &parts.headers).await?;
    Ok(show_members(&s, &p, shell, String::new(), StatusCode::OK).await)
}

async fn show_members(
    s: &AppState,
    p: &Principal,
    mut shell: Shell,
    invite_email: String,
    status: StatusCode,
) -> Response {
    let now = now();
    let can_manage = p.require("members:write").is_ok();
    let members = match s.service.list_members(p).await {
        Ok(ms) => ms,
        Err(e) => {
            shell.error = Some(words(&e));
            Vec::new()
        }
    };
    let owners = members
        .iter()
        .filter(|m| m.membership.role == Role::Owner)
        .count();
    let rows = members
        .into_iter()
        .map(|m| {
            let role = m.membership.role;
            let may_touch = can_manage && p.require_power_over(role).is_ok();
            let last_owner = role == Role::Owner && owners <= 1;
            MemberRow {
                id: m.user.id.to_string(),
                name: m.user.name,
                email: m.user.email,
                role: role.as_str(),
                verified: m.user.email_verified_at.is_some(),
                joined: When::new(m.membership.created_at, now),
                is_me: m.user.id == p.user_id(),
                roles: if may_touch && !last_owner {
                    ROLES
                        .iter()
                        .filter(|r| p.require_power_over(**r).is_ok())
                        .map(|r| RoleOption {
                            value: r.as_str(),
                            selected: *r == role,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                can_remove: may_touch && !last_owner,
            }
        })
        .collect();
    let invitations = s
        .service
        .list_invitations(p)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id.to_string(),
            email: i.email,
            role: i.role.as_str(),
            expires: When::new(i.expires_at, now),
            can_withdraw: can_manage && p.require_power_over(i.role).is_ok(),
        })
        .collect();
    render(
        status,
        &MembersPage {
            shell,
            members: rows,
            invitations,
            can_manage,
            invite_email,
        },
    )
}

async fn after(
    s: &AppState,
    parts: &Parts,
    v: &Visitor,
    p: &Principal,
    result: Result<&str, Error>,
    email: String,
) -> Response {
    match result {
        Ok(notice) => redirect(&format!("/platform/members?notice={notice}")),
        Err(e) => {
            let mut shell = v.shell(&parts.headers, "members", None);
            shell.error = Some(words(&e));
            show_members(s, p, shell, email, status_of(&e)).await
        }
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<InviteForm>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let input = NewMember {
        email: f.email.clone(),
        role: f.role,
        scopes: None,
    };
    let result = s
        .service
        .add_member(&p, input)
        .await
        .map(|added| match added {
            Added::Member(_) => "member_added",
            Added::Invited(_) => "invited",
        });
    Ok(after(&s, &parts, &v, &p, result, f.email).await)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    State(s): State<AppState>,
    parts: Parts,
    Path(raw): Path<String>,
    Form(f): Form<RoleForm>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let patch = MemberPatch {
        role: Some(f.role),
        scopes: None,
    };
    let result = async {
        s.service
            .update_member(&p, parse_id(&raw)?, patch)
            .await
            .map(|_| "member_updated")
    }
    .await;
    Ok(after(&s, &parts, &v, &p, result, String::new()).await)
}

pub async fn remove(
    State(s): State<AppState>,
    parts: Parts,
    Path(raw): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let result = async {
        s.service
            .remove_member(&p, parse_id(&raw)?)
            .await
            .map(|()| "member_removed")
    }
    .await;
    Ok(after(&s, &parts, &v, &p, result, String::new()).await)
}

pub async fn withdraw(
    State(s): State<AppState>,
    parts: Parts,
    Path(raw): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    let (v, p) = Visitor::acting(&s, &parts, &f.csrf_token).await?;
    let result = async {
        s.service
            .withdraw_invitation(&p, parse_id(&raw)?)
            .await
            .map(|()| "invitation_withdrawn")
    }
    .await;
    Ok(after(&s, &parts, &v, &p, result, String::new()).await)
}

pub async fn audit_log(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let v = Visitor::of_page(&s, &parts).await?;
    let mut shell = v.shell(&parts.headers, "audit", None);
    let p = v.principal(&s, &parts.headers).await?;
    let filter = AuditFilter {
        limit: Some(100),
        cursor: q.cursor,
        ..AuditFilter::default()
    };
    let (events, next) = match s.service.list_audit(&p, filter).await {
        Ok(page) => (page.items, page.next_cursor),
        Err(e) => {
            shell.error = Some(words(&e));
            (Vec::new(), None)
        }
    };
    let names: HashMap<Uuid, String> = s
        .service
        .list_members(&p)
        .await
        .map(|ms| ms.into_iter().map(|m| (m.user.id, m.user.email)).collect())
        .unwrap_or_default();
    let now = now();
    let events = events.iter().map(|e| event_row(e, &names, now)).collect();
    Ok(render(
        StatusCode::OK,
        &AuditPage {
            shell,
            events,
            next,
        },
    ))
}

/// One event in words: who (a person's email, a key's display prefix, the operator), what,
/// and to what.
fn event_row(
    e: &AuditEvent,
    emails: &HashMap<Uuid, String>,
    now: keyward_core::model::Timestamp,
) -> EventRow {
    let detail = |k: &str| e.details.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let actor = match (e.actor.kind, e.actor.id) {
        (ActorType::User, Some(id)) => emails
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "a former member".into()),
        (ActorType::ApiKey, Some(_)) => "an API key".into(),
        (ActorType::Service, _) => "a service".into(),
        (ActorType::System, _) => "the operator".into(),
        _ => "someone".into(),
    };
    let target = match e.target.kind.as_str() {
        "api_key" => match (
            detail("name"),
            detail("key_prefix"),
            detail("new_key_prefix"),
        ) {
            (Some(name), Some(prefix), _) => format!("{name} ({prefix}…)"),
            (Some(name), None, _) => name,
            (None, _, Some(new)) => format!("an API key, replaced by {new}…"),
            _ => "an API key".into(),
        },
        "user" => detail("email")
            .or_else(|| emails.get(&e.target.id).cloned())
            .unwrap_or_else(|| "a member".into()),
        "invitation" => detail("email").unwrap_or_else(|| "an invitation".into()),
        "workspace" => detail("name").unwrap_or_else(|| "the workspace".into()),
        other => other.to_owned(),
    };
    EventRow {
        at: When::new(e.at, now),
        actor,
        action: e.action.clone(),
        target,
    }
}
