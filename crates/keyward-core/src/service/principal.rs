//! Who is calling, and what they hold inside one workspace.
//!
//! A [`Caller`] is an authenticated user (by session, API key or the operator's CLI). A
//! [`Principal`] is that caller resolved against one workspace: its role and held scopes.
//! Another workspace's objects are `NotFound`, never `Forbidden`, so their existence leaks.

use uuid::Uuid;

use super::Service;
use crate::error::{Error, Result};
use crate::model::{
    now, ActorType, ApiKey, AuditActor, AuditEvent, AuditTarget, KeyStatus, Membership, Role,
    Session, User, Workspace,
};
use crate::scope::ScopeSet;
use crate::store::StoreTx;

/// Where a request came from, recorded in audit events.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    ApiKey(std::sync::Arc<ApiKey>),
    Session(Session),
    /// The operator's server-side CLI: skips role and email checks, never data rules.
    System,
    /// A user acting on their own account before any session exists: signing up, verifying
    /// their email, accepting an invitation. It holds nothing in any workspace.
    Account,
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
            Via::Session(_) | Via::Account => AuditActor {
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
    /// `members_can_create_keys` a member sees every key of the workspace, read-only.
    pub fn own_keys_only(&self) -> bool {
        self.role == Role::Member
            && !self.caller.is_system()
            && self.workspace.members_can_create_keys
    }

    /// The operator's own principal (from [`Service::operator`]), which acts for no user.
    pub fn is_operator(&self) -> bool {
        self.caller.is_system() && self.caller.user.id.is_nil()
    }

    /// Whether the caller holds `*`: what making admins, changing the workspace policy and
    /// resetting a membership to every product scope all need.
    pub fn require_full_access(&self) -> Result<()> {
        if self.has_full_access() {
            Ok(())
        } else {
            Err(Error::scope("*"))
        }
    }

    pub fn has_full_access(&self) -> bool {
        self.caller.is_system() || self.held.is_full()
    }

    /// Granting, changing or taking away `role` needs the power of that role (PRODUCT.md §3,
    /// "Members and roles follow the same rule"): an owner needs an owner's `*`, an admin
    /// `*`, and a member only `members:write`, checked by the caller.
    pub fn require_power_over(&self, role: Role) -> Result<()> {
        match role {
            Role::Member => Ok(()),
            Role::Admin => self.require_full_access(),
            Role::Owner => {
                self.require_full_access()?;
                if self.caller.is_system() || self.role == Role::Owner {
                    Ok(())
                } else {
                    Err(Error::Forbidden(
                        "only owners can add, change or remove owners".into(),
                    ))
                }
            }
        }
    }

    /// Editing, rotating or deleting a key needs a rank at least that of its creator when it
    /// was made (PRODUCT.md §3, "Rank"): otherwise a lower role could take over a key that
    /// acts with a higher one. Revoking is exempt: it only ever takes power away.
    pub fn require_rank_over(&self, key: &ApiKey) -> Result<()> {
        if self.caller.is_system() || self.role <= key.creator_role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this key was made by an {}; only a caller of that rank or higher can change it (revoking is allowed)",
                key.creator_role.as_str()
            )))
        }
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
        let membership = match &caller.via {
            // Another workspace's key learns nothing, not even whether the workspace exists.
            Via::ApiKey(key) if key.workspace_id != workspace_id => return Err(Error::NotFound),
            _ => self.store.membership(workspace_id, caller.user.id).await?,
        };
        let (role, held) = self.standing(caller, &workspace, membership)?;
        Ok(Principal {
            caller: caller.clone(),
            workspace,
            role,
            held,
        })
    }

    /// Starts a write as `p`: begins the transaction, locks the workspace, and reads again,
    /// under that lock, everything `p` was resolved from.
    ///
    /// A principal is resolved before its transaction begins, and a writer may then wait for
    /// the lock while another commits. Without this a request that authenticated just before
    /// its key was revoked, or its user removed or demoted, would write with the power it no
    /// longer has: a create could even mint a key for a member the removal had just left.
    /// Gone is `Unauthorized` (a key) or `NotFound` (a session); changed is `Conflict`.
    pub(crate) async fn begin_as(&self, p: &Principal) -> Result<(Box<dyn StoreTx>, Workspace)> {
        let mut tx = self.store.begin().await?;
        let workspace = tx
            .lock_workspace(p.workspace.id)
            .await?
            .ok_or(Error::NotFound)?;
        if p.is_operator() {
            return Ok((tx, workspace));
        }
        if let Via::ApiKey(key) = &p.caller.via {
            let live = tx
                .key(workspace.id, key.id)
                .await?
                .is_some_and(|k| k.status(now()) == KeyStatus::Active);
            if !live {
                return Err(Error::Unauthorized { token_sent: true });
            }
        }
        let membership = tx.membership(workspace.id, p.caller.user.id).await?;
        let (role, held) = self.standing(&p.caller, &workspace, membership)?;
        if role != p.role || held != p.held {
            return Err(Error::Conflict(
                "your role or scopes in this workspace changed while the request ran; send it again"
                    .into(),
            ));
        }
        Ok((tx, workspace))
    }

    /// The role and scopes a caller holds in `workspace`, given its membership there (the
    /// membership of the key's creator, for a key).
    fn standing(
        &self,
        caller: &Caller,
        workspace: &Workspace,
        membership: Option<Membership>,
    ) -> Result<(Role, ScopeSet)> {
        let catalog = &self.settings.catalog;
        let policy = workspace.members_can_create_keys;
        match (&caller.via, membership) {
            // A key acts as its creator did when it was made, under today's workspace
            // policy, and only while its creator is still a member.
            (Via::ApiKey(key), Some(_)) => Ok((key.creator_role, key.effective_scopes(policy))),
            (Via::ApiKey(_), None) => Err(Error::Unauthorized { token_sent: true }),
            (Via::Session(_), Some(m)) => Ok((m.role, m.holds(catalog, policy))),
            (Via::Session(_) | Via::Account, None) => Err(Error::NotFound),
            (Via::Account, Some(_)) => Err(Error::Unauthorized { token_sent: false }),
            (Via::System, Some(m)) => Ok((m.role, m.holds(catalog, policy))),
            (Via::System, None) => Err(Error::validation(
                "user",
                "is not a member of this workspace",
            )),
        }
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
