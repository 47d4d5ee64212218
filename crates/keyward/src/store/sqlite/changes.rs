//! The key-change log that migration 0007's triggers write: read by every server to keep its
//! verification cache in step with writes made anywhere, and pruned by the server.

use keyward_core::model::Timestamp;
use keyward_core::secret::CredentialHash;
use keyward_core::store::{KeyChange, StoreError, StoreResult};
use sqlx::{Row, SqliteExecutor};

use super::error::map_err;
use crate::store::rows::millis;

pub(crate) async fn latest_key_change(ex: impl SqliteExecutor<'_>) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM key_changes")
        .fetch_one(ex)
        .await
        .map_err(map_err)
}

pub(crate) async fn key_changes_since(
    ex: impl SqliteExecutor<'_>,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<KeyChange>> {
    let rows = sqlx::query("SELECT id, hash FROM key_changes WHERE id > ? ORDER BY id LIMIT ?")
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id").map_err(map_err)?;
            let bytes: Option<Vec<u8>> = row.try_get("hash").map_err(map_err)?;
            let hash = bytes
                .map(|b| {
                    CredentialHash::from_slice(&b).ok_or_else(|| {
                        StoreError::Other("stored column key_changes.hash is invalid".into())
                    })
                })
                .transpose()?;
            Ok(KeyChange { id, hash })
        })
        .collect()
}

pub(crate) async fn prune_key_changes(
    ex: impl SqliteExecutor<'_>,
    before: Timestamp,
) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM key_changes WHERE at < ?")
        .bind(millis(before))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected())
}
