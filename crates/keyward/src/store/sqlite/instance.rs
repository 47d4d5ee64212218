//! Instance-level rows: the pepper fingerprint, one per database.

use keyward_core::model::Timestamp;
use keyward_core::secret::CredentialHash;
use keyward_core::store::{StoreError, StoreResult};
use sqlx::SqliteExecutor;

use super::error::map_err;
use crate::store::rows::{hash, millis};

pub(crate) async fn pepper_fingerprint(
    ex: impl SqliteExecutor<'_>,
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

pub(crate) async fn insert_pepper_fingerprint(
    ex: impl SqliteExecutor<'_>,
    fingerprint: &CredentialHash,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO pepper_fingerprint (id, fingerprint, recorded_at) VALUES (1, ?, ?)")
        .bind(hash(fingerprint))
        .bind(millis(at))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
