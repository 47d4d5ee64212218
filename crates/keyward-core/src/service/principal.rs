//! Who is calling, and what they hold inside one workspace.
//!
//! A [`Caller`] is an authenticated user (by session, API key or the operator's CLI). A
//! [`Principal`] is that caller resolved against one workspace: its role and held scopes.
//! Another workspace's objects are `NotFound`, never `Forbidden`, so their existence leaks.

use uuid::Uuid;

use super::Service;
use crate::error::{Error, Result};
use crate::model::{
    ActorType, ApiKey, AuditActor, AuditEvent, AuditTarget, Role, Session, User, Workspace,
};
use crate::scope::ScopeSet;

/// Where a request came from, recorded in audit events.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    ApiKey(Box<ApiKey>),
    Session(Session),
    /// The operator's server-side CLI: skips role and email checks, never data rules.
    System,
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub via: Via,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn system(user: User) -> Self {
        Self {
            user,
            via: Via::System,
            meta: RequestMeta::default(),
        }
    }

    pub fn is_system(&self) -> bool {
        matches!(self.via, Via::System)
    }

    pub fn actor(&self) -> AuditActor {
        match &self.via {
            Via::ApiKey(k) => AuditActor {
                kind: ActorType::ApiKey,
                id: Some(k.id),
            },
            Via::Session(_) => AuditActor {
                kind: ActorType::User,
                id: Some(self.user.id),
            },
            Via::System => AuditActor {
                kind: ActorType::System,
                id: None,
            },
        }
    }

    pub fn audit(
        &self,
        workspace_id: Uuid,
        action: &str,
        target: (&str, Uuid),
        details: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent {
            id: crate::model::new_id(),
            workspace_id,
            at: crate::model::now(),
            actor: self.actor(),
            action: action.to_owned(),
            target: AuditTarget {
                kind: target.0.to_owned(),
                id: target.1,
            },
            ip: self.meta.ip.clone(),
            user_agent: self.meta.user_agent.clone(),
            details,
        }
    }
}

/// A caller inside one workspace.
#[derive(Debug, Clone)]
pub struct Principal {
    pub caller: Caller,
    pub workspace: Workspace,
    pub role: Role,
    /// What the caller holds here: a session's role scopes, or a key's effective scopes.
    pub held: ScopeSet,
}

impl Principal {
    pub fn user_id(&self) -> Uuid {
        self.caller.user.id
    }

    /// Refuses unless the caller holds `scope`. The operator's CLI skips role checks.
    pub fn require(&self, scope: &str) -> Result<()> {
        if self.caller.is_system() || self.held.grants(scope) {
            Ok(())
        } else {
            Err(Error::scope(scope))
        }
    }

    /// Key writes need a verified email, whatever the role (the operator's CLI excepted).
    pub fn require_verified(&self) -> Result<()> {
        if self.caller.is_system() || self.caller.user.email_verified_at.is_some() {
            Ok(())
        } else {
            Err(Error::EmailUnverified)
        }
    }

    /// Members who may create keys see and manage only their own (PRODUCT.md §3); without
    /// `members_can_create_keys` a member sees every key of the workspace, read-only. A member
    /// key that still holds `api_keys:write` from when the flag was on stays limited too.
    pub fn own_keys_only(&self) -> bool {
        self.role == Role::Member
            && !self.caller.is_system()
            && (self.workspace.members_can_create_keys || self.held.grants("api_keys:write"))
    }

    /// Only owners change or remove owners.
    pub fn may_manage_owners(&self) -> bool {
        self.caller.is_system() || self.role == Role::Owner
    }

    pub fn audit(
        &self,
        action: &str,
        target: (&str, Uuid),
        details: serde_json::Value,
    ) -> AuditEvent {
        self.caller
            .audit(self.workspace.id, action, target, details)
    }
}

impl Service {
    /// Resolves a caller against a workspace; a workspace the caller cannot see is `NotFound`.
    pub async fn principal(&self, caller: &Caller, workspace_id: Uuid) -> Result<Principal> {
        let workspace = self
            .store
            .workspace(workspace_id)
            .await?
            .ok_or(Error::NotFound)?;
        let (role, held) = match &caller.via {
            Via::ApiKey(key) => {
                if key.workspace_id != workspace_id {
                    return Err(Error::NotFound);
                }
                (key.creator_role, key.effective_scopes())
            }
            Via::Session(_) => {
                let m = self
                    .store
                    .membership(workspace_id, caller.user.id)
                    .await?
                    .ok_or(Error::NotFound)?;
                let held = m.holds(&self.settings.catalog, workspace.members_can_create_keys);
                (m.role, held)
            }
            Via::System => {
                let m = self
                    .store
                    .membership(workspace_id, caller.user.id)
                    .await?
                    .ok_or_else(|| {
                        Error::validation("user", "is not a member of this workspace")
                    })?;
                let held = m.holds(&self.settings.catalog, workspace.members_can_create_keys);
                (m.role, held)
            }
        };
        Ok(Principal {
            caller: caller.clone(),
            workspace,
            role,
            held,
        })
    }

    /// The workspace of the `/api/v1/api-keys` alias: a key's own, or for a session the
    /// `X-Workspace-ID` it sent, or its only workspace.
    pub async fn current_workspace(&self, caller: &Caller, hint: Option<Uuid>) -> Result<Uuid> {
        match (&caller.via, hint) {
            (Via::ApiKey(key), _) => Ok(key.workspace_id),
            (_, Some(id)) => Ok(id),
            _ => {
                let mine = self.store.workspaces_of_user(caller.user.id).await?;
                match mine.as_slice() {
                    [(only, _)] => Ok(only.id),
                    [] => Err(Error::NotFound),
                    _ => Err(Error::BadRequest(
                        "you belong to several workspaces; send X-Workspace-ID".into(),
                    )),
                }
            }
        }
    }
}

impl Service {
    /// The operator acting on a workspace from the server-side CLI, with no user of its own:
    /// for listing and revoking. Creating a key always acts for a named user instead.
    pub async fn operator(&self, workspace_id: Uuid) -> Result<Principal> {
        let workspace = self
            .store
            .workspace(workspace_id)
            .await?
            .ok_or(Error::NotFound)?;
        let operator = User {
            id: Uuid::nil(),
            email: "operator".into(),
            name: "operator".into(),
            password_hash: None,
            email_verified_at: None,
            created_at: workspace.created_at,
        };
        Ok(Principal {
            caller: Caller::system(operator),
            workspace,
            role: Role::Owner,
            held: ScopeSet::full(),
        })
    }
}
