//! Workspaces: list mine, create one, read and change settings, and the operator's set-plan.

use serde_json::json;
use uuid::Uuid;

use super::{Caller, Principal, Service, Via};
use crate::error::{Error, Result};
use crate::key_format::{KeyFormat, KeyPrefix};
use crate::model::{new_id, now, Membership, Role, Workspace};
use crate::validate::{self, Fields};

#[derive(Debug, Clone, Default)]
pub struct WorkspacePatch {
    pub name: Option<String>,
    pub key_prefix: Option<String>,
    pub key_format: Option<String>,
    pub members_can_create_keys: Option<bool>,
}

/// The outcome of the operator's `set-plan`.
#[derive(Debug, Clone)]
pub struct PlanChange {
    pub workspace: Workspace,
    pub previous_plan: String,
    /// The workspace's active keys, counted as the plan limit counts them.
    pub active_keys: u64,
    /// The new plan's limit; `None` for no limit.
    pub max_active_keys: Option<u64>,
}

impl PlanChange {
    /// More active keys than the new plan allows: no new key until some are revoked.
    pub fn over_limit(&self) -> bool {
        self.max_active_keys
            .is_some_and(|max| self.active_keys > max)
    }
}

impl Service {
    /// A session sees all of its user's workspaces; a key sees only its own, and only with
    /// `workspace:read`, like `GET /workspaces/{id}`.
    pub async fn list_workspaces(&self, caller: &Caller) -> Result<Vec<(Workspace, Role)>> {
        match &caller.via {
            Via::ApiKey(key) => {
                let p = self.principal(caller, key.workspace_id).await?;
                p.require("workspace:read")?;
                Ok(vec![(p.workspace, p.role)])
            }
            _ => Ok(self.store.workspaces_of_user(caller.user.id).await?),
        }
    }

    /// Creates a workspace owned by the caller. A key may do it only with full access, since
    /// the new workspace lies outside the one the key was scoped to.
    pub async fn create_workspace(&self, caller: &Caller, name: &str) -> Result<Workspace> {
        if let Via::ApiKey(key) = &caller.via {
            let p = self.principal(caller, key.workspace_id).await?;
            if !p.held.is_full() {
                return Err(Error::InsufficientScope(
                    "creating a workspace with an API key needs full access".into(),
                ));
            }
        }
        let name = validate::name("name", name).map_err(|e| Error::Validation(vec![e]))?;
        retrying!({
            let mut tx = self.store.begin().await?;
            let ws = self
                .insert_workspace(
                    tx.as_mut(),
                    caller,
                    name.clone(),
                    caller.user.id,
                    Role::Owner,
                )
                .await?;
            self.commit(tx).await?;
            Ok(ws)
        })
    }

    /// Inserts a workspace with `user_id` as its first member, and its audit event.
    pub(crate) async fn insert_workspace(
        &self,
        tx: &mut dyn crate::store::StoreTx,
        caller: &Caller,
        name: String,
        user_id: Uuid,
        role: Role,
    ) -> Result<Workspace> {
        let now = now();
        let ws = Workspace {
            id: new_id(),
            name,
            plan: self.settings.default_plan.clone(),
            key_prefix: self.settings.default_key_prefix.clone(),
            key_format: self.settings.default_key_format,
            members_can_create_keys: false,
            created_at: now,
            updated_at: now,
        };
        tx.insert_workspace(&ws).await?;
        tx.insert_membership(&Membership {
            workspace_id: ws.id,
            user_id,
            role,
            scopes: None,
            created_at: now,
        })
        .await?;
        let details = json!({"name": ws.name, "plan": ws.plan, "owner_id": user_id});
        tx.insert_audit(&caller.audit(ws.id, "workspace.created", ("workspace", ws.id), details))
            .await?;
        Ok(ws)
    }

    /// Adds `user` to an existing workspace in `role`, for the operator's `admin user create
    /// --workspace ID`, recorded like an addition through the API (`member.added`).
    pub(crate) async fn join_workspace(
        &self,
        tx: &mut dyn crate::store::StoreTx,
        caller: &Caller,
        workspace_id: Uuid,
        role: Role,
    ) -> Result<Workspace> {
        let ws = tx.lock_workspace(workspace_id).await?.ok_or_else(|| {
            Error::validation(
                "workspace",
                "no workspace has this id; see `keyward admin workspace list`",
            )
        })?;
        let user = &caller.user;
        tx.insert_membership(&Membership {
            workspace_id,
            user_id: user.id,
            role,
            scopes: None,
            created_at: now(),
        })
        .await?;
        let details = json!({"email": user.email, "role": role, "scopes": null});
        tx.insert_audit(&caller.audit(ws.id, "member.added", ("user", user.id), details))
            .await?;
        Ok(ws)
    }

    pub async fn get_workspace(&self, p: &Principal) -> Result<Workspace> {
        p.require("workspace:read")?;
        Ok(p.workspace.clone())
    }

    pub async fn update_workspace(
        &self,
        p: &Principal,
        patch: WorkspacePatch,
    ) -> Result<Workspace> {
        p.require("workspace:write")?;
        if patch.members_can_create_keys.is_some() {
            // The setting hands `api_keys:write` to every member: the same power as making
            // them all key managers, so only full access may change it.
            p.require_full_access()?;
        }
        let mut f = Fields::new();
        let name = patch
            .name
            .as_deref()
            .map(|raw| f.take(validate::name("name", raw)));
        let prefix = patch.key_prefix.as_deref().map(|raw| {
            f.take(KeyPrefix::parse_for_workspace(raw).ok_or_else(|| {
                crate::error::FieldError::new(
                    "key_prefix",
                    "must match ^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$, e.g. sk_live_ or kw_, and not start with kwsvc_",
                )
            }))
        });
        let format = patch.key_format.as_deref().map(|raw| {
            f.take(KeyFormat::parse(raw).ok_or_else(|| {
                crate::error::FieldError::new("key_format", "must be base62 or hex64")
            }))
        });
        f.finish()?;
        retrying!({
            let (mut tx, mut ws) = self.begin_as(p).await?;
            let mut changed = serde_json::Map::new();
            if let Some(Some(name)) = name.clone() {
                changed.insert("name".into(), json!(name));
                ws.name = name;
            }
            if let Some(Some(prefix)) = prefix.clone() {
                changed.insert("key_prefix".into(), json!(prefix.as_str()));
                ws.key_prefix = prefix;
            }
            if let Some(Some(format)) = format {
                changed.insert("key_format".into(), json!(format.as_str()));
                ws.key_format = format;
            }
            if let Some(flag) = patch.members_can_create_keys {
                changed.insert("members_can_create_keys".into(), json!(flag));
                ws.members_can_create_keys = flag;
            }
            ws.updated_at = now();
            tx.update_workspace(&ws).await?;
            tx.insert_audit(&p.audit(
                "workspace.updated",
                ("workspace", ws.id),
                json!({ "changed": changed }),
            ))
            .await?;
            self.commit(tx).await?;
            Ok(ws)
        })
    }

    /// The operator's `admin workspace set-plan`. A workspace may already hold more active
    /// keys than the new plan allows: they keep working, and the answer says so, because
    /// only new keys are refused.
    pub async fn set_plan(&self, workspace_id: Uuid, plan: &str) -> Result<PlanChange> {
        if !self.settings.plans.contains_key(plan) {
            let known: Vec<&str> = self.settings.plans.keys().map(String::as_str).collect();
            return Err(Error::validation(
                "plan",
                &format!("unknown plan; configured plans: {}", known.join(", ")),
            ));
        }
        // The operator's principal records the event with the `system` actor.
        let operator = self.operator(workspace_id).await?;
        retrying!({
            let mut tx = self.store.begin().await?;
            let mut ws = tx
                .lock_workspace(workspace_id)
                .await?
                .ok_or(Error::NotFound)?;
            let old = std::mem::replace(&mut ws.plan, plan.to_owned());
            ws.updated_at = now();
            tx.update_workspace(&ws).await?;
            let details = json!({"changed": {"plan": plan}, "previous_plan": old});
            tx.insert_audit(&operator.audit("workspace.updated", ("workspace", ws.id), details))
                .await?;
            // Counted like the plan check counts them, inside the same transaction.
            let active_keys = tx.key_counts(ws.id, now()).await?.active;
            self.commit(tx).await?;
            let max_active_keys = self
                .settings
                .plans
                .get(plan)
                .and_then(|p| p.max_active_keys);
            Ok(PlanChange {
                workspace: ws,
                previous_plan: old,
                active_keys,
                max_active_keys,
            })
        })
    }
}
