//! Instance-level rows on PostgreSQL: the pepper fingerprint, one per database.

use keyward_core::model::Timestamp;
use keyward_core::secret::CredentialHash;
use keyward_core::store::{StoreError, StoreResult};
use sqlx::PgExecutor;

use super::error::map_err;
use crate::store::rows::{hash, millis};

pub(crate) async fn pepper_fingerprint(
    ex: impl PgExecutor<'_>,
) -> StoreResult<Option<CredentialHash>> {
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT fingerprint FROM pepper_fingerprint WHERE id = 1")
            .fetch_optional(ex)
            .await
            .map_err(map_err)?;
    stored
        .map(|bytes| {
            CredentialHash::from_slice(&bytes).ok_or_else(|| {
                StoreError::Other("stored column pepper_fingerprint.fingerprint is invalid".into())
            })
        })
        .transpose()
}

/// A second record is refused by the primary key (`id` is always 1), which the error
/// mapping turns into the same conflict as on SQLite.
pub(crate) async fn insert_pepper_fingerprint(
    ex: impl PgExecutor<'_>,
    fingerprint: &CredentialHash,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO pepper_fingerprint (id, fingerprint, recorded_at) VALUES (1, $1, $2)")
        .bind(hash(fingerprint))
        .bind(millis(at))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
