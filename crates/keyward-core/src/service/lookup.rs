//! Support's lookup (PRODUCT.md §9, `admin apikey lookup`): which key a leaked or presented
//! secret is, native or imported, and revoking it as leaked. Operator-only: nothing here is
//! reachable over HTTP.

use serde_json::json;
use uuid::Uuid;

use super::keys::key_details;
use super::Service;
use crate::error::{Error, Result};
use crate::key_format;
use crate::model::{now, ApiKey, KeySource, Workspace};
use crate::secret::{SecretString, Sha256Digest};

/// A key found by its secret, with its workspace.
#[derive(Debug, Clone)]
pub struct FoundKey {
    pub key: ApiKey,
    pub workspace: Workspace,
}

impl Service {
    /// The key a secret belongs to, whatever its status; `None` for an unknown or deleted
    /// key. A keyward key is found by its HMAC, any other string by its SHA-256 among
    /// imported keys: the hot path's rule, except that this does not first ask whether any
    /// import exists, since it is a support tool run by hand and not a request path.
    pub async fn lookup_secret(&self, secret: &SecretString) -> Result<Option<FoundKey>> {
        let presented = secret.expose_secret();
        let (source, hash) = match key_format::parse(presented) {
            Ok(_) => (KeySource::Native, self.pepper.hash(presented)),
            Err(_) => (
                KeySource::Imported,
                self.pepper.hash_imported(&Sha256Digest::of(presented)),
            ),
        };
        let key = match self.store.key_by_hash(&hash).await? {
            Some(found)
                if found.key.deleted_at.is_none()
                    && found.key.source == source
                    && found.key.hash.ct_eq(&hash) =>
            {
                found.key
            }
            _ => return Ok(None),
        };
        let workspace = self
            .store
            .workspace(key.workspace_id)
            .await?
            .ok_or_else(|| Error::Internal("a key's workspace is missing".into()))?;
        Ok(Some(FoundKey {
            key: self.with_usage(key),
            workspace,
        }))
    }

    /// Records that a key's secret leaked (`api_key.leaked`) and revokes it (`api_key.revoked`,
    /// reason `leaked`), as the `system` actor, in one transaction. A key revoked already
    /// stays as it was, but the leak is still recorded: support's trail shows the report.
    pub async fn revoke_leaked_key(&self, workspace_id: Uuid, key_id: Uuid) -> Result<ApiKey> {
        let operator = self.operator(workspace_id).await?;
        retrying!({
            let (mut tx, _) = self.begin_as(&operator).await?;
            let mut key = tx.key(workspace_id, key_id).await?.ok_or(Error::NotFound)?;
            let mut details = key_details(&key);
            details["source"] = json!(key.source.as_str());
            tx.insert_audit(&operator.audit(
                "api_key.leaked",
                ("api_key", key.id),
                details.clone(),
            ))
            .await?;
            if key.revoked_at.is_none() {
                let now = now();
                key.revoked_at = Some(now);
                key.updated_at = now;
                tx.update_key(&key).await?;
                details["reason"] = json!("leaked");
                tx.insert_audit(&operator.audit("api_key.revoked", ("api_key", key.id), details))
                    .await?;
            }
            self.commit(tx).await?;
            Ok(self.with_usage(key))
        })
    }
}
