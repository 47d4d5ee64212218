//! The key lifecycle: create, list, read, edit, revoke, delete and rotate (PRODUCT.md §3–§5).

use serde_json::json;
use uuid::Uuid;

use super::{decode_cursor, page_limit, paginate, Page, Principal, Service};
use crate::error::{Error, Result};
use crate::key_format;
use crate::model::{new_id, now, ApiKey, JsonObject, KeySource, KeyStatus, Timestamp, Workspace};
use crate::scope::ScopeSet;
use crate::secret::SecretString;
use crate::store::{Cursor, KeyCounts, KeyQuery, StoreTx};
use crate::validate::{self, Fields};

#[derive(Debug, Clone, Default)]
pub struct NewKey {
    pub name: String,
    pub expires_at: Option<String>,
    /// `None` gives the key what the creator holds.
    pub scopes: Option<Vec<String>>,
    pub metadata: Option<serde_json::Value>,
}

/// An edit. For `expires_at`, `Some(None)` clears the expiry and `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct KeyPatch {
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<Option<String>>,
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    pub status: Option<String>,
    pub created_by: Option<String>,
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A key together with its secret: returned by create and rotate only.
#[derive(Debug)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

impl Service {
    pub async fn create_key(&self, p: &Principal, input: NewKey) -> Result<CreatedKey> {
        p.require("api_keys:write")?;
        p.require_verified()?;
        let now = now();
        let mut f = Fields::new();
        let name = f.take(validate::name("name", &input.name));
        let expires_at = match input.expires_at.as_deref() {
            Some(raw) => f
                .take(validate::future_time("expires_at", raw, now))
                .map(Some),
            None => Some(None),
        };
        let scopes = match input.scopes.as_deref() {
            Some(raw) => f.take(validate::scopes("scopes", raw, &self.settings.catalog)),
            // Without scopes a key gets what its creator holds: `["*"]` for holders of `*`.
            None => Some(p.held.clone()),
        };
        let metadata = match input.metadata {
            Some(raw) => f.take(validate::metadata("metadata", raw)),
            None => Some(JsonObject::new()),
        };
        f.finish()?;
        let (Some(name), Some(expires_at), Some(scopes), Some(metadata)) =
            (name, expires_at, scopes, metadata)
        else {
            return Err(Error::Internal("validation passed without values".into()));
        };
        check_no_escalation(p, &scopes)?;

        retrying!({
            let (mut tx, workspace) = self.begin_as(p).await?;
            self.check_limits(tx.as_mut(), &workspace, now, false)
                .await?;
            let minted = key_format::generate(&workspace.key_prefix, workspace.key_format);
            let mut key = ApiKey {
                id: new_id(),
                seq: 0,
                workspace_id: workspace.id,
                name: name.clone(),
                key_prefix: minted.display_prefix,
                hash: self.pepper.hash(minted.secret.expose_secret()),
                source: KeySource::Native,
                scopes: scopes.clone(),
                creator_role: p.role,
                creator_scopes: p.held.clone(),
                created_by: p.user_id(),
                created_at: now,
                updated_at: now,
                expires_at,
                last_used_at: None,
                revoked_at: None,
                deleted_at: None,
                metadata: metadata.clone(),
                rotated_from: None,
                rotated_to: None,
            };
            key.seq = tx.insert_key(&key).await?;
            tx.insert_audit(&p.audit("api_key.created", ("api_key", key.id), key_details(&key)))
                .await?;
            self.commit(tx).await?;
            Ok(CreatedKey {
                key,
                secret: minted.secret,
            })
        })
    }

    pub async fn list_keys(&self, p: &Principal, filter: KeyFilter) -> Result<Page<ApiKey>> {
        p.require("api_keys:read")?;
        let status = match filter.status.as_deref() {
            None => None,
            Some(raw) => Some(KeyStatus::parse(raw).ok_or_else(|| {
                Error::BadRequest("status must be one of active, revoked, expired".into())
            })?),
        };
        let mut created_by = match filter.created_by.as_deref() {
            None => None,
            Some(raw) => Some(
                Uuid::parse_str(raw)
                    .map_err(|_| Error::BadRequest("created_by must be a user id".into()))?,
            ),
        };
        if p.own_keys_only() {
            if created_by.is_some_and(|id| id != p.user_id()) {
                return Ok(Page {
                    items: vec![],
                    next_cursor: None,
                });
            }
            created_by = Some(p.user_id());
        }
        let limit = page_limit(filter.limit)?;
        let after = decode_cursor(filter.cursor.as_deref())?;
        // No name holds a control character (`validate::name`), so such a `q` matches
        // nothing, on every backend: PostgreSQL text cannot even hold NUL, and sending it
        // one was a 500.
        if filter
            .q
            .as_deref()
            .is_some_and(|q| q.chars().any(char::is_control))
        {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        }
        let query = KeyQuery {
            status,
            created_by,
            name_contains: filter.q.filter(|q| !q.is_empty()),
            after,
            limit: limit + 1,
            now: now(),
        };
        let rows = self.store.list_keys(p.workspace.id, &query).await?;
        let mut page = paginate(rows, limit, |k| Cursor {
            at: k.created_at,
            id: k.id,
        });
        page.items = page.items.into_iter().map(|k| self.with_usage(k)).collect();
        Ok(page)
    }

    pub async fn get_key(&self, p: &Principal, id: Uuid) -> Result<ApiKey> {
        p.require("api_keys:read")?;
        let key = self
            .store
            .key(p.workspace.id, id)
            .await?
            .ok_or(Error::NotFound)?;
        visible(p, &key)?;
        Ok(self.with_usage(key))
    }

    /// [`Service::get_key`] by the key's sequence number, for wire profiles with numeric ids.
    pub async fn get_key_by_seq(&self, p: &Principal, seq: i64) -> Result<ApiKey> {
        p.require("api_keys:read")?;
        let key = self
            .store
            .key_by_seq(p.workspace.id, seq)
            .await?
            .ok_or(Error::NotFound)?;
        visible(p, &key)?;
        Ok(self.with_usage(key))
    }

    pub async fn update_key(&self, p: &Principal, id: Uuid, patch: KeyPatch) -> Result<ApiKey> {
        p.require("api_keys:write")?;
        p.require_verified()?;
        let now = now();
        let mut f = Fields::new();
        let name = patch
            .name
            .as_deref()
            .map(|raw| f.take(validate::name("name", raw)));
        let scopes = patch
            .scopes
            .as_deref()
            .map(|raw| f.take(validate::scopes("scopes", raw, &self.settings.catalog)));
        let expires_at = patch.expires_at.map(|raw| match raw {
            Some(raw) => f
                .take(validate::future_time("expires_at", &raw, now))
                .map(Some),
            None => Some(None),
        });
        let metadata = patch
            .metadata
            .map(|raw| f.take(validate::metadata("metadata", raw)));
        f.finish()?;
        if let Some(Some(scopes)) = &scopes {
            check_no_escalation(p, scopes)?;
        }

        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let mut key = tx.key(p.workspace.id, id).await?.ok_or(Error::NotFound)?;
            visible(p, &key)?;
            p.require_rank_over(&key)?;
            if let Some(Some(new_expiry)) = expires_at {
                check_expiry_change(&key, new_expiry, now)?;
            }
            let mut changed = Vec::new();
            if let Some(Some(name)) = &name {
                changed.push("name");
                key.name = name.clone();
            }
            if let Some(Some(scopes)) = &scopes {
                changed.push("scopes");
                key.scopes = scopes.clone();
            }
            if let Some(Some(expires_at)) = expires_at {
                changed.push("expires_at");
                key.expires_at = expires_at;
            }
            if let Some(Some(metadata)) = &metadata {
                changed.push("metadata");
                key.metadata = metadata.clone();
            }
            key.updated_at = now;
            tx.update_key(&key).await?;
            let mut details = key_details(&key);
            details["changed"] = json!(changed);
            tx.insert_audit(&p.audit("api_key.updated", ("api_key", key.id), details))
                .await?;
            self.commit(tx).await?;
            Ok(self.with_usage(key))
        })
    }

    /// Idempotent: revoking a revoked key returns it unchanged and writes no new event.
    pub async fn revoke_key(
        &self,
        p: &Principal,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<ApiKey> {
        p.require("api_keys:write")?;
        p.require_verified()?;
        let reason = match reason {
            Some(r) => Some(validate::name("reason", &r).map_err(|e| Error::Validation(vec![e]))?),
            None => None,
        };
        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let mut key = tx.key(p.workspace.id, id).await?.ok_or(Error::NotFound)?;
            visible(p, &key)?;
            if key.revoked_at.is_none() {
                let now = now();
                key.revoked_at = Some(now);
                key.updated_at = now;
                tx.update_key(&key).await?;
                let mut details = key_details(&key);
                details["reason"] = json!(reason);
                tx.insert_audit(&p.audit("api_key.revoked", ("api_key", key.id), details))
                    .await?;
                self.commit(tx).await?;
            }
            Ok(self.with_usage(key))
        })
    }

    /// Revokes the key if it is still usable, then soft-deletes it.
    pub async fn delete_key(&self, p: &Principal, id: Uuid) -> Result<()> {
        p.require("api_keys:write")?;
        p.require_verified()?;
        let now = now();
        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let mut key = tx.key(p.workspace.id, id).await?.ok_or(Error::NotFound)?;
            visible(p, &key)?;
            p.require_rank_over(&key)?;
            // Only an active key is revoked on the way out; an expired one keeps its history.
            let revoking = key.status(now) == KeyStatus::Active;
            if revoking {
                key.revoked_at = Some(now);
            }
            key.deleted_at = Some(now);
            key.updated_at = now;
            tx.update_key(&key).await?;
            if revoking {
                let mut details = key_details(&key);
                details["reason"] = json!("deleted");
                tx.insert_audit(&p.audit("api_key.revoked", ("api_key", key.id), details))
                    .await?;
            }
            tx.insert_audit(&p.audit("api_key.deleted", ("api_key", key.id), key_details(&key)))
                .await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// Plan and hard-cap limits, inside the caller's write transaction so that concurrent
    /// creates cannot both pass the check. `replacing_active` discounts an active key that
    /// is being rotated: it leaves the plan's count (revoked, or into its grace period), while
    /// its successor joins it. Keys in a grace period are not counted as active at all.
    pub(super) async fn check_limits(
        &self,
        tx: &mut dyn StoreTx,
        workspace: &Workspace,
        now: Timestamp,
        replacing_active: bool,
    ) -> Result<()> {
        let mut counts = tx.key_counts(workspace.id, now).await?;
        counts.active = counts.active.saturating_sub(u64::from(replacing_active));
        self.refuse_over_limits(workspace, counts)
    }

    /// The plan's active-key limit, then the hard cap, for one more key in a workspace that
    /// holds `counts`. Callers read the counts in the transaction that inserts the key.
    pub(super) fn refuse_over_limits(
        &self,
        workspace: &Workspace,
        counts: KeyCounts,
    ) -> Result<()> {
        if let Some(max) = self
            .settings
            .plans
            .get(&workspace.plan)
            .and_then(|plan| plan.max_active_keys)
        {
            if counts.active >= max {
                return Err(Error::PlanLimitReached(format!(
                    "the {} plan allows {max} active API key(s); revoke one or change plan",
                    workspace.plan
                )));
            }
        }
        if counts.total >= self.settings.max_keys_per_workspace {
            return Err(Error::KeyLimitReached(format!(
                "this workspace has reached its limit of {} API keys (revoked and expired keys count; deleted keys do not)",
                self.settings.max_keys_per_workspace
            )));
        }
        Ok(())
    }
}

/// `expires_at` changes only while a key is active (PRODUCT.md §3, "Expiry"): an expired or
/// revoked key stays so, and the old key of a rotation may end its grace sooner, never later.
/// Since only an active key's expiry moves and it stays active, no edit changes how many
/// active keys a workspace has, so none can take it past its plan's limit.
fn check_expiry_change(key: &ApiKey, new_expiry: Option<Timestamp>, now: Timestamp) -> Result<()> {
    if key.status(now) != KeyStatus::Active {
        return Err(Error::Conflict(
            "only an active key's expiry can change; an expired or revoked key stays so (rotate it or create a new key)".into(),
        ));
    }
    if key.rotated_to.is_some() {
        let sooner = matches!((new_expiry, key.expires_at), (Some(new), Some(end)) if new <= end);
        if !sooner {
            return Err(Error::Conflict(
                "this key was rotated and cannot outlive its grace period; it may only end sooner"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// A caller can grant only what it holds; `["*"]` needs `*` (PRODUCT.md §3, no escalation).
pub(super) fn check_no_escalation(p: &Principal, requested: &ScopeSet) -> Result<()> {
    if p.held.covers(requested) {
        Ok(())
    } else {
        Err(Error::InsufficientScope(
            "you cannot give a key scopes that you do not hold".into(),
        ))
    }
}

/// Members limited to their own keys get `NotFound` for everyone else's.
pub(super) fn visible(p: &Principal, key: &ApiKey) -> Result<()> {
    if p.own_keys_only() && key.created_by != p.user_id() {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// What audit events say about a key: never its secret or hash.
pub(super) fn key_details(key: &ApiKey) -> serde_json::Value {
    json!({
        "name": key.name,
        "key_prefix": key.key_prefix,
        "scopes": key.scopes.as_strings(),
        "expires_at": key.expires_at,
    })
}
