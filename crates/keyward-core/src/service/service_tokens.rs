//! Service tokens, the operator's credentials for the verify API: create one (shown once),
//! list them, and revoke one by id or name (PRODUCT.md §9).

use uuid::Uuid;

use super::Service;
use crate::error::{Error, Result};
use crate::key_format::{self, KeyPrefix, SERVICE_TOKEN_PREFIX};
use crate::model::{new_id, now, ServiceToken};
use crate::secret::SecretString;
use crate::store::StoreError;
use crate::validate;

impl Service {
    /// The operator's `admin service-token create`; the secret is returned once. Names are
    /// unique, revoked tokens included, so that revoking by name is never ambiguous.
    pub async fn create_service_token(&self, name: &str) -> Result<(ServiceToken, SecretString)> {
        let name = validate::name("name", name).map_err(|e| Error::Validation(vec![e]))?;
        let prefix = KeyPrefix::parse(SERVICE_TOKEN_PREFIX)
            .ok_or_else(|| Error::Internal("bad token prefix".into()))?;
        let minted = key_format::generate(&prefix, key_format::KeyFormat::Base62);
        let token = ServiceToken {
            id: new_id(),
            name,
            token_prefix: minted.display_prefix,
            hash: self.pepper.hash(minted.secret.expose_secret()),
            created_at: now(),
            revoked_at: None,
            last_used_at: None,
        };
        retrying!({
            let mut tx = self.store.begin().await?;
            // The unique index decides, so two creates racing for one name cannot both win.
            tx.insert_service_token(&token).await.map_err(|e| match e {
                StoreError::Conflict(_) => Error::Conflict(format!(
                    "a service token named {:?} already exists (revoked tokens keep their \
                     names); choose another name",
                    token.name
                )),
                other => other.into(),
            })?;
            self.commit(tx).await
        })?;
        Ok((token, minted.secret))
    }

    /// Every service token, oldest first, with uses not yet flushed included.
    pub async fn list_service_tokens(&self) -> Result<Vec<ServiceToken>> {
        let mut tokens = self.store.service_tokens().await?;
        for t in &mut tokens {
            if let Some(at) = self.usage.pending_service_token(t.id) {
                t.last_used_at = Some(t.last_used_at.map_or(at, |stored| stored.max(at)));
            }
        }
        Ok(tokens)
    }

    /// Revokes the token with this id or name. The verify API looks tokens up on every call,
    /// so the very next call with it fails. Idempotent: the second element is `false` when
    /// the token was already revoked, and nothing changes then.
    pub async fn revoke_service_token(&self, id_or_name: &str) -> Result<(ServiceToken, bool)> {
        let wanted = id_or_name.trim();
        let by_id = Uuid::parse_str(wanted).ok();
        let tokens = self.store.service_tokens().await?;
        // An id wins over a name: a token may be named like another token's id, and the
        // operator who pastes an id means that token.
        let found = tokens
            .iter()
            .position(|t| Some(t.id) == by_id)
            .or_else(|| tokens.iter().position(|t| t.name == wanted));
        let mut token = found
            .and_then(|i| tokens.into_iter().nth(i))
            .ok_or(Error::NotFound)?;
        if token.revoked_at.is_some() {
            return Ok((token, false));
        }
        token.revoked_at = Some(now());
        retrying!({
            let mut tx = self.store.begin().await?;
            tx.update_service_token(&token).await?;
            self.commit(tx).await
        })?;
        tracing::info!(token_id = %token.id, "revoked a service token");
        Ok((token, true))
    }
}
