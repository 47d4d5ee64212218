//! Service tokens and console sessions on PostgreSQL: instance-level credentials, stored
//! only as hashes and found through their unique hash indexes.

use keyward_core::model::{ServiceToken, Session, Timestamp};
use keyward_core::secret::CredentialHash;
use keyward_core::store::StoreResult;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::{
    hash, millis, opt_millis, service_token_from_row, session_from_row, SERVICE_TOKEN_COLUMNS,
    SESSION_COLUMNS,
};

pub(crate) async fn service_token_by_hash(
    ex: impl PgExecutor<'_>,
    credential: &CredentialHash,
) -> StoreResult<Option<ServiceToken>> {
    let sql = format!("SELECT {SERVICE_TOKEN_COLUMNS} FROM service_tokens WHERE hash = $1");
    sqlx::query(&sql)
        .bind(hash(credential))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(service_token_from_row)
        .transpose()
}

pub(crate) async fn service_tokens(ex: impl PgExecutor<'_>) -> StoreResult<Vec<ServiceToken>> {
    let sql = format!("SELECT {SERVICE_TOKEN_COLUMNS} FROM service_tokens ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(service_token_from_row).collect()
}

pub(crate) async fn insert_service_token(
    ex: impl PgExecutor<'_>,
    token: &ServiceToken,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO service_tokens \
         (id, name, token_prefix, hash, created_at, revoked_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token.id)
    .bind(&token.name)
    .bind(&token.token_prefix)
    .bind(hash(&token.hash))
    .bind(millis(token.created_at))
    .bind(opt_millis(token.revoked_at))
    .bind(opt_millis(token.last_used_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn update_service_token(
    ex: impl PgExecutor<'_>,
    token: &ServiceToken,
) -> StoreResult<()> {
    sqlx::query("UPDATE service_tokens SET name = $1, revoked_at = $2 WHERE id = $3")
        .bind(&token.name)
        .bind(opt_millis(token.revoked_at))
        .bind(token.id)
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// One statement per batch, like `keys::record_key_use` and for the same reasons: the
/// latest use per token, `GREATEST` so it only moves forward, rows locked in id order.
pub(crate) async fn record_service_token_use(
    ex: impl PgExecutor<'_>,
    uses: &[(Uuid, Timestamp)],
) -> StoreResult<()> {
    let (ids, ats): (Vec<Uuid>, Vec<i64>) = uses.iter().map(|(id, at)| (*id, millis(*at))).unzip();
    sqlx::query(
        "WITH uses AS ( \
             SELECT id, MAX(at) AS at FROM UNNEST($1::uuid[], $2::bigint[]) AS u (id, at) \
             GROUP BY id \
         ), locked AS ( \
             SELECT t.id, uses.at FROM service_tokens AS t JOIN uses ON uses.id = t.id \
             ORDER BY t.id FOR UPDATE OF t \
         ) \
         UPDATE service_tokens SET last_used_at = GREATEST(service_tokens.last_used_at, locked.at) \
         FROM locked WHERE service_tokens.id = locked.id",
    )
    .bind(ids)
    .bind(ats)
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn session_by_hash(
    ex: impl PgExecutor<'_>,
    credential: &CredentialHash,
) -> StoreResult<Option<Session>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
    sqlx::query(&sql)
        .bind(hash(credential))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(session_from_row)
        .transpose()
}

pub(crate) async fn insert_session(ex: impl PgExecutor<'_>, session: &Session) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, csrf_hash, user_id, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(session.id)
    .bind(hash(&session.token_hash))
    .bind(hash(&session.csrf_hash))
    .bind(session.user_id)
    .bind(millis(session.created_at))
    .bind(millis(session.last_seen_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn delete_session(ex: impl PgExecutor<'_>, session_id: Uuid) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(session_id)
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Moves `last_seen_at` forward only, as on SQLite (`MAX` there, `GREATEST` here).
pub(crate) async fn touch_session(
    ex: impl PgExecutor<'_>,
    session_id: Uuid,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id = $2")
        .bind(millis(at))
        .bind(session_id)
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
