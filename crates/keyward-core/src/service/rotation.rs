//! Rotation: a successor key with the same name, scopes and metadata, while the old key is
//! revoked at once or expires after a grace period (PRODUCT.md §4, "Rotate").

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::keys::{check_no_escalation, key_details, visible, CreatedKey};
use super::{Principal, Service};
use crate::error::{Error, FieldError, Result};
use crate::key_format;
use crate::model::{new_id, now, ApiKey, KeySource, KeyStatus};
use crate::store::StoreError;
use crate::validate::{self, Fields};

/// The longest grace period a rotation may give the old key. A key in its grace period does
/// not count toward the plan's limit, so this bounds the extra key any plan can hold: at most
/// one per rotated key, for at most 7 days.
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Default)]
pub struct Rotation {
    pub grace_period_seconds: Option<u64>,
    pub expires_at: Option<String>,
}

impl Service {
    /// Mints a successor with the same name, scopes and metadata; the old key is revoked at
    /// once, or expires after the grace period.
    pub async fn rotate_key(
        &self,
        p: &Principal,
        id: Uuid,
        rotation: Rotation,
    ) -> Result<CreatedKey> {
        p.require("api_keys:write")?;
        p.require_verified()?;
        let now = now();
        let grace = rotation.grace_period_seconds.unwrap_or(0);
        let mut f = Fields::new();
        if grace > MAX_GRACE_SECONDS {
            f.take::<()>(Err(FieldError::new(
                "grace_period_seconds",
                "must be at most 7 days (604800 seconds)",
            )));
        }
        let expires_at = match rotation.expires_at.as_deref() {
            Some(raw) => f
                .take(validate::future_time("expires_at", raw, now))
                .map(Some),
            None => Some(None),
        };
        f.finish()?;
        let explicit_expiry = expires_at.flatten();

        retrying!({
            let (mut tx, workspace) = self.begin_as(p).await?;
            let mut old = tx.key(workspace.id, id).await?.ok_or(Error::NotFound)?;
            visible(p, &old)?;
            // The caller receives a secret that acts as the old key's creator: it must already
            // hold everything that key can do, and rank at least as high as that creator.
            check_no_escalation(p, &old.effective_scopes(workspace.members_can_create_keys))?;
            p.require_rank_over(&old)?;
            if old.revoked_at.is_some() {
                return Err(Error::Conflict("a revoked key cannot be rotated".into()));
            }
            if old.rotated_to.is_some() {
                return Err(Error::Conflict(
                    "this key was already rotated and is in its grace period; rotate its successor instead".into(),
                ));
            }
            // One extra key per rotation, never a chain of them: while this key's predecessor
            // is still in its grace period, rotating again would keep three keys alive on a plan
            // that counts one.
            if let Some(previous) = old.rotated_from {
                let in_grace = tx.key(workspace.id, previous).await?.is_some_and(|k| {
                    k.rotated_to == Some(old.id) && k.status(now) == KeyStatus::Active
                });
                if in_grace {
                    return Err(Error::Conflict(
                        "the key this one replaced is still in its grace period; revoke it (or wait for its grace to end) before rotating again".into(),
                    ));
                }
            }
            // The old key leaves the plan's count either way: revoked now, or into a grace period
            // that does not count. So the successor takes its place, on every plan.
            let replacing_active = old.status(now) == KeyStatus::Active;
            self.check_limits(tx.as_mut(), &workspace, now, replacing_active)
                .await?;

            let minted = key_format::generate(&workspace.key_prefix, workspace.key_format);
            // The successor lives as long as its predecessor did, counted from now.
            let lifetime = old.expires_at.map(|e| e - old.created_at);
            let mut new = ApiKey {
                id: new_id(),
                seq: 0,
                key_prefix: minted.display_prefix,
                hash: self.pepper.hash(minted.secret.expose_secret()),
                // Rotating an imported key retires the old system's secret: the successor is a
                // keyward key in the workspace's format.
                source: KeySource::Native,
                created_at: now,
                updated_at: now,
                expires_at: explicit_expiry
                    .or_else(|| lifetime.map(|l| (now + l).min(validate::latest_time()))),
                last_used_at: None,
                revoked_at: None,
                deleted_at: None,
                rotated_from: Some(old.id),
                rotated_to: None,
                ..old.clone()
            };
            if grace == 0 {
                old.revoked_at = Some(now);
            } else {
                let end = now + Duration::seconds(grace as i64);
                old.expires_at = Some(old.expires_at.map_or(end, |e| e.min(end)));
            }
            old.rotated_to = Some(new.id);
            old.updated_at = now;
            // The successor first: the old key's `rotated_to` refers to it.
            new.seq = tx.insert_key(&new).await.map_err(|e| match e {
                StoreError::Conflict(_) => {
                    Error::Conflict("this key has already been rotated".into())
                }
                other => other.into(),
            })?;
            tx.update_key(&old).await?;
            let details = json!({"new_key_id": new.id, "new_key_prefix": new.key_prefix, "grace_period_seconds": grace});
            tx.insert_audit(&p.audit("api_key.rotated", ("api_key", old.id), details))
                .await?;
            let mut created = key_details(&new);
            created["rotated_from"] = json!(old.id);
            tx.insert_audit(&p.audit("api_key.created", ("api_key", new.id), created))
                .await?;
            self.commit(tx).await?;
            Ok(CreatedKey {
                key: new,
                secret: minted.secret,
            })
        })
    }
}
