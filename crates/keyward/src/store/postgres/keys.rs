//! API keys on PostgreSQL: the verification lookup, the newest-first listing, limit counts,
//! writes, and the batched `last_used_at` update. Same semantics as the SQLite backend,
//! statement for statement; where PostgreSQL's SQL differs, the comment says how.

use keyward_core::model::{ApiKey, KeyStatus, Timestamp};
use keyward_core::secret::CredentialHash;
use keyward_core::store::{KeyCounts, KeyLookup, KeyQuery, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::{
    hash, json, key_from_row, like_pattern, lookup_from_row, millis, opt_millis, KEY_COLUMNS,
};

/// Rows per multi-row INSERT: 19 bound values each stays far below PostgreSQL's limit of
/// 65,535 parameters per statement, and one statement per 1,000 rows is what lets an import
/// write 100,000 keys with 100 round trips rather than 100,000.
const ROWS_PER_INSERT: usize = 1000;

/// The verification lookup. Deleted keys are returned on purpose: the verifier answers for
/// them itself. The two workspace facts come from primary-key probes in the same statement:
/// one round trip.
pub(crate) async fn key_by_hash(
    ex: impl PgExecutor<'_>,
    credential: &CredentialHash,
) -> StoreResult<Option<KeyLookup>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS}, \
         EXISTS (SELECT 1 FROM memberships m \
                 WHERE m.workspace_id = api_keys.workspace_id AND m.user_id = api_keys.created_by) \
           AS creator_is_member, \
         (SELECT w.members_can_create_keys FROM workspaces w WHERE w.id = api_keys.workspace_id) \
           AS members_can_create_keys \
         FROM api_keys WHERE hash = $1"
    );
    sqlx::query(&sql)
        .bind(hash(credential))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .map(|row| lookup_from_row(&row))
        .transpose()
}

pub(crate) async fn key(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    key_id: Uuid,
) -> StoreResult<Option<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys \
         WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(workspace_id)
        .bind(key_id)
        .fetch_optional(ex)
        .await;
    one_key(row)
}

pub(crate) async fn key_by_id(
    ex: impl PgExecutor<'_>,
    key_id: Uuid,
) -> StoreResult<Option<ApiKey>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND deleted_at IS NULL");
    one_key(sqlx::query(&sql).bind(key_id).fetch_optional(ex).await)
}

pub(crate) async fn key_by_seq(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    seq: i64,
) -> StoreResult<Option<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys \
         WHERE seq = $1 AND workspace_id = $2 AND deleted_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(seq)
        .bind(workspace_id)
        .fetch_optional(ex)
        .await;
    one_key(row)
}

/// The key a query selecting `KEY_COLUMNS` found, if any.
fn one_key(row: Result<Option<PgRow>, sqlx::Error>) -> StoreResult<Option<ApiKey>> {
    row.map_err(map_err)?.as_ref().map(key_from_row).transpose()
}

pub(crate) async fn list_keys(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    query: &KeyQuery,
) -> StoreResult<Vec<ApiKey>> {
    let now = millis(query.now);
    let mut sql: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE workspace_id = "
    ));
    sql.push_bind(workspace_id).push(" AND deleted_at IS NULL");
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
        sql.push(" AND created_by = ").push_bind(creator);
    }
    if let Some(needle) = &query.name_contains {
        // PostgreSQL's LIKE is case-sensitive; ILIKE is the case-insensitive match that
        // SQLite's LIKE gives. The escape is named although a backslash is PostgreSQL's
        // default, so the pattern does not depend on it.
        sql.push(" AND name ILIKE ")
            .push_bind(like_pattern(needle))
            .push(" ESCAPE '\\'");
    }
    if let Some(after) = query.after {
        sql.push(" AND (created_at, id) < (")
            .push_bind(millis(after.at))
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows = sql.build().fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(key_from_row).collect()
}

pub(crate) async fn key_counts(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    now: Timestamp,
) -> StoreResult<KeyCounts> {
    // A key in a rotation's grace period does not count for the plan while its successor,
    // which does, is active: the pair counts once. Once the successor is gone, it counts.
    // (SQLite sums a boolean; PostgreSQL counts with a FILTER.)
    let (total, active): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), \
         COUNT(*) FILTER (WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) \
                          AND NOT EXISTS (SELECT 1 FROM api_keys AS successor \
                                          WHERE successor.id = api_keys.rotated_to \
                                            AND successor.revoked_at IS NULL \
                                            AND successor.deleted_at IS NULL \
                                            AND (successor.expires_at IS NULL \
                                                 OR successor.expires_at > $1))) \
         FROM api_keys WHERE workspace_id = $2 AND deleted_at IS NULL",
    )
    .bind(millis(now))
    .bind(workspace_id)
    .fetch_one(ex)
    .await
    .map_err(map_err)?;
    Ok(KeyCounts {
        active: active.unsigned_abs(),
        total: total.unsigned_abs(),
    })
}

pub(crate) async fn unrevoked_keys_of_user(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    user_id: Uuid,
) -> StoreResult<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM api_keys \
         WHERE workspace_id = $1 AND created_by = $2 AND revoked_at IS NULL \
           AND deleted_at IS NULL \
         ORDER BY created_at DESC, id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(workspace_id)
        .bind(user_id)
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter().map(key_from_row).collect()
}

/// The columns a key insert writes: every column but `seq`, which the column's sequence
/// fills in (the key's own `seq` is ignored, as the trait says).
const INSERT_KEY: &str = "INSERT INTO api_keys (id, workspace_id, name, key_prefix, hash, \
     source, scopes, creator_role, creator_scopes, created_by, created_at, updated_at, \
     expires_at, last_used_at, revoked_at, deleted_at, metadata, rotated_from, rotated_to) ";

/// Inserts one key and returns the sequence number it was given. The number comes from a
/// sequence, not from `MAX(seq) + 1` as on SQLite: PostgreSQL has no database-wide write
/// lock, and a sequence hands out each number once however many nodes insert at once.
pub(crate) async fn insert_key(conn: &mut PgConnection, key: &ApiKey) -> StoreResult<i64> {
    let mut sql = insert_keys_statement(std::slice::from_ref(key))?;
    sql.push(" RETURNING seq");
    let row = sql.build().fetch_one(&mut *conn).await.map_err(map_err)?;
    row.try_get("seq").map_err(map_err)
}

/// Inserts keys, each numbered by the sequence, up to [`ROWS_PER_INSERT`] to a statement.
pub(crate) async fn insert_keys(conn: &mut PgConnection, keys: &[ApiKey]) -> StoreResult<()> {
    for chunk in keys.chunks(ROWS_PER_INSERT) {
        insert_keys_statement(chunk)?
            .build()
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// One multi-row INSERT of `keys`, encoded first so that pushing values cannot fail half-way
/// through the statement.
fn insert_keys_statement(keys: &[ApiKey]) -> StoreResult<QueryBuilder<'_, Postgres>> {
    let encoded = keys
        .iter()
        .map(|k| {
            Ok((
                k,
                json(&k.scopes, "scopes")?,
                json(&k.creator_scopes, "creator scopes")?,
                json(&k.metadata, "metadata")?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut sql: QueryBuilder<'_, Postgres> = QueryBuilder::new(INSERT_KEY);
    sql.push_values(encoded, |mut row, (k, scopes, creator_scopes, metadata)| {
        row.push_bind(k.id)
            .push_bind(k.workspace_id)
            .push_bind(&k.name)
            .push_bind(&k.key_prefix)
            .push_bind(hash(&k.hash))
            .push_bind(k.source.as_str())
            .push_bind(scopes)
            .push_bind(k.creator_role.as_str())
            .push_bind(creator_scopes)
            .push_bind(k.created_by)
            .push_bind(millis(k.created_at))
            .push_bind(millis(k.updated_at))
            .push_bind(opt_millis(k.expires_at))
            .push_bind(opt_millis(k.last_used_at))
            .push_bind(opt_millis(k.revoked_at))
            .push_bind(opt_millis(k.deleted_at))
            .push_bind(metadata)
            .push_bind(k.rotated_from)
            .push_bind(k.rotated_to);
    });
    Ok(sql)
}

/// Which of `hashes` are stored, through the unique index: one `= ANY` array per statement
/// of [`ROWS_PER_INSERT`] hashes, rather than a list of parameters.
pub(crate) async fn existing_key_hashes(
    conn: &mut PgConnection,
    hashes: &[CredentialHash],
) -> StoreResult<Vec<CredentialHash>> {
    let mut found = Vec::new();
    for chunk in hashes.chunks(ROWS_PER_INSERT) {
        let asked: Vec<&[u8]> = chunk.iter().map(hash).collect();
        let rows: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT hash FROM api_keys WHERE hash = ANY($1)")
                .bind(asked)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?;
        found.extend(rows.iter().filter_map(|b| CredentialHash::from_slice(b)));
    }
    Ok(found)
}

/// A probe of the partial index `api_keys_imported`, which holds imported keys only.
pub(crate) async fn imported_keys_exist(ex: impl PgExecutor<'_>) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_keys WHERE source = 'imported')")
        .fetch_one(ex)
        .await
        .map_err(map_err)
}

pub(crate) async fn update_key(ex: impl PgExecutor<'_>, key: &ApiKey) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_keys SET name = $1, scopes = $2, expires_at = $3, metadata = $4, \
         revoked_at = $5, deleted_at = $6, rotated_to = $7, updated_at = $8 \
         WHERE workspace_id = $9 AND id = $10",
    )
    .bind(&key.name)
    .bind(json(&key.scopes, "scopes")?)
    .bind(opt_millis(key.expires_at))
    .bind(json(&key.metadata, "metadata")?)
    .bind(opt_millis(key.revoked_at))
    .bind(opt_millis(key.deleted_at))
    .bind(key.rotated_to)
    .bind(millis(key.updated_at))
    .bind(key.workspace_id)
    .bind(key.id)
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Applies a batch of uses in one statement (one round trip, and atomic without a
/// transaction of its own). `GREATEST` keeps `last_used_at` monotonic even when batches
/// from several nodes arrive out of order, and, since it ignores NULL, starts it too;
/// several uses of one key in a batch are reduced to the latest first, because an UPDATE
/// joined to two source rows for one target row applies only one of them.
///
/// Rows are locked in id order before they are written: two nodes flushing overlapping
/// batches then wait for each other instead of deadlocking, which an UPDATE … FROM alone
/// (locking in whatever order its join produces) could do.
pub(crate) async fn record_key_use(
    ex: impl PgExecutor<'_>,
    uses: &[(Uuid, Timestamp)],
) -> StoreResult<()> {
    let (ids, ats): (Vec<Uuid>, Vec<i64>) = uses.iter().map(|(id, at)| (*id, millis(*at))).unzip();
    sqlx::query(
        "WITH uses AS ( \
             SELECT id, MAX(at) AS at FROM UNNEST($1::uuid[], $2::bigint[]) AS u (id, at) \
             GROUP BY id \
         ), locked AS ( \
             SELECT k.id, uses.at FROM api_keys AS k JOIN uses ON uses.id = k.id \
             ORDER BY k.id FOR UPDATE OF k \
         ) \
         UPDATE api_keys SET last_used_at = GREATEST(api_keys.last_used_at, locked.at) \
         FROM locked WHERE api_keys.id = locked.id",
    )
    .bind(ids)
    .bind(ats)
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}
