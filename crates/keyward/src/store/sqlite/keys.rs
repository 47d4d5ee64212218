//! API keys: the verification lookup, the newest-first listing, limit counts, writes, and
//! the batched `last_used_at` update.

use keyward_core::model::{ApiKey, KeyStatus, Timestamp};
use keyward_core::secret::CredentialHash;
use keyward_core::store::{KeyCounts, KeyLookup, KeyQuery, StoreResult};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use super::error::map_err;
use super::rows::{id, opt_id};
use crate::store::rows::{
    hash, json, key_from_row, like_pattern, lookup_from_row, millis, opt_millis, KEY_COLUMNS,
};

/// The verification lookup's statement. Deleted keys are returned on purpose: the verifier
/// answers for them itself. The two workspace facts come from primary-key probes in the same
/// statement: one round trip.
pub(crate) fn key_by_hash_sql() -> String {
    format!(
        "SELECT {KEY_COLUMNS}, \
         EXISTS (SELECT 1 FROM memberships m \
                 WHERE m.workspace_id = api_keys.workspace_id AND m.user_id = api_keys.created_by) \
           AS creator_is_member, \
         (SELECT w.members_can_create_keys FROM workspaces w WHERE w.id = api_keys.workspace_id) \
           AS members_can_create_keys \
         FROM api_keys WHERE hash = ?"
    )
}

/// The verification lookup through the asynchronous pool: the fallback when the calling
/// thread's attempt (`lookup.rs`) met a busy database.
pub(crate) async fn key_by_hash(
    ex: impl SqliteExecutor<'_>,
    credential: &CredentialHash,
) -> StoreResult<Option<KeyLookup>> {
    sqlx::query(&key_by_hash_sql())
        .bind(hash(credential))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .map(|row| lookup_from_row(&row))
        .transpose()
}

pub(crate) async fn key(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    key_id: Uuid,
) -> StoreResult<Option<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys \
         WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL"
    );
    one_key(
        ex,
        sqlx::query(&sql).bind(id(workspace_id)).bind(id(key_id)),
    )
    .await
}

pub(crate) async fn key_by_id(
    ex: impl SqliteExecutor<'_>,
    key_id: Uuid,
) -> StoreResult<Option<ApiKey>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ? AND deleted_at IS NULL");
    one_key(ex, sqlx::query(&sql).bind(id(key_id))).await
}

/// The key a query selecting `KEY_COLUMNS` finds, if any.
async fn one_key<'q, 'c>(
    ex: impl SqliteExecutor<'c>,
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
) -> StoreResult<Option<ApiKey>> {
    query
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(key_from_row)
        .transpose()
}

pub(crate) async fn list_keys(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    query: &KeyQuery,
) -> StoreResult<Vec<ApiKey>> {
    let now = millis(query.now);
    let mut sql: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE workspace_id = "
    ));
    sql.push_bind(id(workspace_id))
        .push(" AND deleted_at IS NULL");
    match query.status {
        None => {}
        Some(KeyStatus::Active) => {
            sql.push(" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ")
                .push_bind(now)
                .push(")");
        }
        Some(KeyStatus::Revoked) => {
            sql.push(" AND revoked_at IS NOT NULL");
        }
        Some(KeyStatus::Expired) => {
            sql.push(" AND revoked_at IS NULL AND expires_at <= ")
                .push_bind(now);
        }
    }
    if let Some(creator) = query.created_by {
        sql.push(" AND created_by = ").push_bind(id(creator));
    }
    if let Some(needle) = &query.name_contains {
        // SQLite's LIKE ignores case for ASCII letters, which is what the filter asks for.
        sql.push(" AND name LIKE ")
            .push_bind(like_pattern(needle))
            .push(" ESCAPE '\\'");
    }
    if let Some(after) = query.after {
        sql.push(" AND (created_at, id) < (")
            .push_bind(millis(after.at))
            .push(", ")
            .push_bind(id(after.id))
            .push(")");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows = sql.build().fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(key_from_row).collect()
}

pub(crate) async fn key_counts(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    now: Timestamp,
) -> StoreResult<KeyCounts> {
    // A key in a rotation's grace period does not count for the plan while its successor,
    // which does, is active: the pair counts once. Once the successor is gone, it counts.
    let (total, active): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), \
         COALESCE(SUM(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1) \
                      AND NOT EXISTS (SELECT 1 FROM api_keys AS successor \
                                      WHERE successor.id = api_keys.rotated_to \
                                        AND successor.revoked_at IS NULL \
                                        AND successor.deleted_at IS NULL \
                                        AND (successor.expires_at IS NULL \
                                             OR successor.expires_at > ?1))), 0) \
         FROM api_keys WHERE workspace_id = ?2 AND deleted_at IS NULL",
    )
    .bind(millis(now))
    .bind(id(workspace_id))
    .fetch_one(ex)
    .await
    .map_err(map_err)?;
    Ok(KeyCounts {
        active: active.unsigned_abs(),
        total: total.unsigned_abs(),
    })
}

pub(crate) async fn unrevoked_keys_of_user(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    user_id: Uuid,
) -> StoreResult<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys \
         WHERE workspace_id = ? AND created_by = ? AND revoked_at IS NULL AND deleted_at IS NULL \
         ORDER BY created_at DESC, id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(id(workspace_id))
        .bind(id(user_id))
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter().map(key_from_row).collect()
}

/// Rows per multi-row INSERT: 20 bound values each stays far below SQLite's limit on
/// variables per statement (32,766), and one statement per 500 rows is what lets an import
/// write 100,000 keys in seconds rather than one round trip per key.
const ROWS_PER_INSERT: usize = 500;

pub(crate) async fn key_by_seq(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    seq: i64,
) -> StoreResult<Option<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys \
         WHERE seq = ? AND workspace_id = ? AND deleted_at IS NULL"
    );
    one_key(ex, sqlx::query(&sql).bind(seq).bind(id(workspace_id))).await
}

/// Inserts one key and returns the sequence number it was given.
pub(crate) async fn insert_key(conn: &mut SqliteConnection, key: &ApiKey) -> StoreResult<i64> {
    insert_keys(conn, std::slice::from_ref(key)).await
}

/// Inserts keys numbered from the highest sequence number so far, and returns the last one.
/// The caller's `BEGIN IMMEDIATE` holds the write lock, so no other writer can take the same
/// numbers between the probe and the insert; the unique index would refuse it anyway.
pub(crate) async fn insert_keys(conn: &mut SqliteConnection, keys: &[ApiKey]) -> StoreResult<i64> {
    let mut seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM api_keys")
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    for chunk in keys.chunks(ROWS_PER_INSERT) {
        // Encoded first: pushing values cannot fail half-way through the statement.
        let encoded = chunk
            .iter()
            .map(|k| {
                Ok((
                    k,
                    next(&mut seq),
                    json(&k.scopes, "scopes")?,
                    json(&k.creator_scopes, "creator scopes")?,
                    json(&k.metadata, "metadata")?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut sql: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO api_keys (id, seq, workspace_id, name, key_prefix, hash, source, scopes, \
             creator_role, creator_scopes, created_by, created_at, updated_at, expires_at, \
             last_used_at, revoked_at, deleted_at, metadata, rotated_from, rotated_to) ",
        );
        sql.push_values(
            encoded,
            |mut row, (k, seq, scopes, creator_scopes, metadata)| {
                row.push_bind(id(k.id))
                    .push_bind(seq)
                    .push_bind(id(k.workspace_id))
                    .push_bind(&k.name)
                    .push_bind(&k.key_prefix)
                    .push_bind(hash(&k.hash))
                    .push_bind(k.source.as_str())
                    .push_bind(scopes)
                    .push_bind(k.creator_role.as_str())
                    .push_bind(creator_scopes)
                    .push_bind(id(k.created_by))
                    .push_bind(millis(k.created_at))
                    .push_bind(millis(k.updated_at))
                    .push_bind(opt_millis(k.expires_at))
                    .push_bind(opt_millis(k.last_used_at))
                    .push_bind(opt_millis(k.revoked_at))
                    .push_bind(opt_millis(k.deleted_at))
                    .push_bind(metadata)
                    .push_bind(opt_id(k.rotated_from))
                    .push_bind(opt_id(k.rotated_to));
            },
        );
        sql.build().execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(seq)
}

fn next(seq: &mut i64) -> i64 {
    *seq += 1;
    *seq
}

/// Which of `hashes` are stored, through the unique index, 500 to a statement.
pub(crate) async fn existing_key_hashes(
    conn: &mut SqliteConnection,
    hashes: &[CredentialHash],
) -> StoreResult<Vec<CredentialHash>> {
    let mut found = Vec::new();
    for chunk in hashes.chunks(ROWS_PER_INSERT) {
        let mut sql: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT hash FROM api_keys WHERE hash IN (");
        let mut list = sql.separated(", ");
        for h in chunk {
            list.push_bind(hash(h));
        }
        sql.push(")");
        let rows = sql.build().fetch_all(&mut *conn).await.map_err(map_err)?;
        for row in rows {
            let bytes: Vec<u8> = row.try_get("hash").map_err(map_err)?;
            if let Some(h) = CredentialHash::from_slice(&bytes) {
                found.push(h);
            }
        }
    }
    Ok(found)
}

/// A probe of the partial index `api_keys_imported`, which holds imported keys only.
pub(crate) async fn imported_keys_exist(ex: impl SqliteExecutor<'_>) -> StoreResult<bool> {
    let exists: i64 =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_keys WHERE source = 'imported')")
            .fetch_one(ex)
            .await
            .map_err(map_err)?;
    Ok(exists != 0)
}

pub(crate) async fn update_key(ex: impl SqliteExecutor<'_>, key: &ApiKey) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_keys SET name = ?, scopes = ?, expires_at = ?, metadata = ?, \
         revoked_at = ?, deleted_at = ?, rotated_to = ?, updated_at = ? \
         WHERE workspace_id = ? AND id = ?",
    )
    .bind(&key.name)
    .bind(json(&key.scopes, "scopes")?)
    .bind(opt_millis(key.expires_at))
    .bind(json(&key.metadata, "metadata")?)
    .bind(opt_millis(key.revoked_at))
    .bind(opt_millis(key.deleted_at))
    .bind(opt_id(key.rotated_to))
    .bind(millis(key.updated_at))
    .bind(id(key.workspace_id))
    .bind(id(key.id))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Applies a batch of uses inside the caller's transaction. `MAX` keeps `last_used_at`
/// monotonic even when batches from several nodes arrive out of order.
pub(crate) async fn record_key_use(
    conn: &mut SqliteConnection,
    uses: &[(Uuid, Timestamp)],
) -> StoreResult<()> {
    for (key_id, at) in uses {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?",
        )
        .bind(millis(*at))
        .bind(id(*key_id))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}
