//! The verification hot path, top to bottom in one place:
//! parse → checksum → HMAC → store → status, expiry and scopes → record use.
//!
//! It serves `POST /api/v1/keys/verify` and the Bearer authentication of the management API.
//! Every step before the store lookup is pure CPU: a malformed string or a failed checksum
//! never reaches the database. The lookup is by the peppered hash, through a unique index.

use std::sync::Arc;

use crate::error::Result;
use crate::key_format;
use crate::model::{now, ApiKey, KeyStatus};
use crate::secret::Pepper;
use crate::store::Store;
use crate::usage::UsageLog;

/// The answer codes of PRODUCT.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    Valid,
    Malformed,
    NotFound,
    Revoked,
    Expired,
    InsufficientScope,
}

impl VerifyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyCode::Valid => "VALID",
            VerifyCode::Malformed => "MALFORMED",
            VerifyCode::NotFound => "NOT_FOUND",
            VerifyCode::Revoked => "REVOKED",
            VerifyCode::Expired => "EXPIRED",
            VerifyCode::InsufficientScope => "INSUFFICIENT_SCOPE",
        }
    }
}

/// The outcome; only `Valid` and `InsufficientScope` carry the key.
#[derive(Debug)]
pub struct Verdict {
    pub code: VerifyCode,
    pub key: Option<ApiKey>,
}

impl Verdict {
    fn refused(code: VerifyCode) -> Self {
        Self { code, key: None }
    }
}

#[derive(Clone)]
pub struct Verifier {
    store: Arc<dyn Store>,
    pepper: Pepper,
    usage: Arc<UsageLog>,
}

impl Verifier {
    pub fn new(store: Arc<dyn Store>, pepper: Pepper, usage: Arc<UsageLog>) -> Self {
        Self {
            store,
            pepper,
            usage,
        }
    }

    /// Verifies a presented key, and that it holds every scope in `required`.
    /// Errors are store failures only; every answer about the key is a [`Verdict`].
    pub async fn verify(&self, presented: &str, required: &[String]) -> Result<Verdict> {
        // 1–2. Shape and checksum, without allocating or touching the store.
        if key_format::parse(presented).is_err() {
            return Ok(Verdict::refused(VerifyCode::Malformed));
        }

        // 3. The peppered hash is both the lookup key and the stored value.
        let hash = self.pepper.hash(presented);

        // 4. One indexed lookup. Deleted keys answer exactly like keys that never existed;
        //    the constant-time recheck keeps the decision independent of the index compare.
        let key = match self.store.key_by_hash(&hash).await? {
            Some(key) if key.deleted_at.is_none() && key.hash.ct_eq(&hash) => key,
            _ => return Ok(Verdict::refused(VerifyCode::NotFound)),
        };

        // 5. Status, in the documented order, then scopes.
        let now = now();
        match key.status(now) {
            KeyStatus::Revoked => return Ok(Verdict::refused(VerifyCode::Revoked)),
            KeyStatus::Expired => return Ok(Verdict::refused(VerifyCode::Expired)),
            KeyStatus::Active => {}
        }
        let code = if required.iter().all(|scope| key.grants(scope)) {
            VerifyCode::Valid
        } else {
            VerifyCode::InsufficientScope
        };

        // 6. Record the use in memory; the flusher writes it in batches, off this path.
        self.usage.record(key.id, now);
        Ok(Verdict {
            code,
            key: Some(key),
        })
    }
}
