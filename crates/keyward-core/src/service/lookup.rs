//! Which key a leaked or presented secret is, native or imported, and revoking it as
//! leaked: support's lookup (PRODUCT.md §9, `admin apikey lookup`) and the reports of
//! GitHub's secret scanning. Everything here acts as the `system` actor, so only the
//! operator reaches it (the admin CLI), or a report whose signature the HTTP layer checked.

use std::collections::HashMap;

use serde_json::json;
use uuid::Uuid;

use super::keys::key_details;
use super::{RequestMeta, Service};
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

/// Where a leak was reported, as the reporter says: recorded as the `report` of the
/// `api_key.leaked` event, so the key's owner can find the place and clean it up. It holds
/// nothing of the secret.
#[derive(Debug, Clone, Default)]
pub struct LeakReport {
    /// Who reported it, e.g. `github_secret_scanning`.
    pub reporter: &'static str,
    /// Where the secret was found (GitHub's `url`; may be empty).
    pub url: String,
    /// The kind of place (GitHub's `source`, e.g. `commit` or `issue_comment`).
    pub source: String,
    /// The reporter's name for the pattern that matched (GitHub's `type`).
    pub token_type: String,
}

/// The longest `url` an audit event keeps, and the longest `source` and `type`: the report
/// is the reporter's text, and an event is not the place for an unbounded one.
const MAX_URL_CHARS: usize = 2048;
const MAX_LABEL_CHARS: usize = 100;

impl LeakReport {
    fn details(&self) -> serde_json::Value {
        let bounded = |text: &str, max: usize| text.chars().take(max).collect::<String>();
        json!({
            "by": self.reporter,
            "url": bounded(&self.url, MAX_URL_CHARS),
            "source": bounded(&self.source, MAX_LABEL_CHARS),
            "type": bounded(&self.token_type, MAX_LABEL_CHARS),
        })
    }
}

/// One secret of a batch reported as leaked, with where it was found.
#[derive(Debug, Clone)]
pub struct ReportedLeak {
    pub secret: SecretString,
    pub report: LeakReport,
}

impl Service {
    /// The key a secret belongs to, whatever its status; `None` for an unknown or deleted
    /// key.
    pub async fn lookup_secret(&self, secret: &SecretString) -> Result<Option<FoundKey>> {
        let Some(key) = self.key_of_secret(secret).await? else {
            return Ok(None);
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

    /// A keyward key is found by its HMAC, any other string by its SHA-256 among imported
    /// keys: the hot path's rule, except that this does not first ask whether any import
    /// exists. Support's lookups and leak reports are rare, and must not miss an import
    /// another process has just made.
    async fn key_of_secret(&self, secret: &SecretString) -> Result<Option<ApiKey>> {
        let presented = secret.expose_secret();
        let (source, hash) = match key_format::parse(presented) {
            Ok(_) => (KeySource::Native, self.pepper.hash(presented)),
            Err(_) => (
                KeySource::Imported,
                self.pepper.hash_imported(&Sha256Digest::of(presented)),
            ),
        };
        Ok(match self.store.key_by_hash(&hash).await? {
            Some(found)
                if found.key.deleted_at.is_none()
                    && found.key.source == source
                    && found.key.hash.ct_eq(&hash) =>
            {
                Some(found.key)
            }
            _ => None,
        })
    }

    /// Revokes the keys of a batch of secrets reported as leaked (GitHub's secret
    /// scanning), each in its own transaction as [`Service::revoke_leaked_key`] does, with
    /// its report in the events. Returns, for each leak in order, whether its secret is a
    /// key here; a secret that is not is no error. `meta` is the reporter's request.
    pub async fn revoke_reported_leaks(
        &self,
        leaks: &[ReportedLeak],
        meta: &RequestMeta,
    ) -> Result<Vec<bool>> {
        // GitHub reports a secret once for each place it was found: it is looked up once,
        // and each place is recorded.
        let mut keys: HashMap<&str, Option<(Uuid, Uuid)>> = HashMap::new();
        let mut matched = Vec::with_capacity(leaks.len());
        for leak in leaks {
            let secret = leak.secret.expose_secret();
            let key = match keys.get(secret) {
                Some(known) => *known,
                None => {
                    let found = self.key_of_secret(&leak.secret).await?;
                    let ids = found.map(|k| (k.workspace_id, k.id));
                    keys.insert(secret, ids);
                    ids
                }
            };
            let Some((workspace_id, key_id)) = key else {
                matched.push(false);
                continue;
            };
            match self
                .record_leak(workspace_id, key_id, Some((&leak.report, meta)))
                .await
            {
                // Deleted since the lookup: nothing left to revoke, but the secret was ours.
                Ok(_) | Err(Error::NotFound) => matched.push(true),
                Err(e) => return Err(e),
            }
        }
        Ok(matched)
    }

    /// Records that a key's secret leaked (`api_key.leaked`) and revokes it (`api_key.revoked`,
    /// reason `leaked`), as the `system` actor, in one transaction. A key revoked already
    /// stays as it was, but the leak is still recorded: support's trail shows the report.
    pub async fn revoke_leaked_key(&self, workspace_id: Uuid, key_id: Uuid) -> Result<ApiKey> {
        self.record_leak(workspace_id, key_id, None).await
    }

    /// [`Service::revoke_leaked_key`], with the report and the reporter's request, when
    /// there is one, in both events.
    async fn record_leak(
        &self,
        workspace_id: Uuid,
        key_id: Uuid,
        reported: Option<(&LeakReport, &RequestMeta)>,
    ) -> Result<ApiKey> {
        let mut operator = self.operator(workspace_id).await?;
        if let Some((_, meta)) = reported {
            operator.caller.meta = meta.clone();
        }
        retrying!({
            let (mut tx, _) = self.begin_as(&operator).await?;
            let mut key = tx.key(workspace_id, key_id).await?.ok_or(Error::NotFound)?;
            let mut details = key_details(&key);
            details["source"] = json!(key.source.as_str());
            if let Some((report, _)) = reported {
                details["report"] = report.details();
            }
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
