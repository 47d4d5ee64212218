//! Service tokens and console sessions: instance-level credentials, stored only as hashes
//! and found through their unique hash indexes.

use keyward_core::model::{ServiceToken, Session, Timestamp};
use keyward_core::secret::CredentialHash;
use keyward_core::store::StoreResult;
use sqlx::{SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use super::error::map_err;
use super::rows::id;
use crate::store::rows::{
    hash, millis, opt_millis, service_token_from_row, session_from_row, SERVICE_TOKEN_COLUMNS,
    SESSION_COLUMNS,
};

pub(crate) async fn service_token_by_hash(
    ex: impl SqliteExecutor<'_>,
    credential: &CredentialHash,
) -> StoreResult<Option<ServiceToken>> {
    let sql = format!("SELECT {SERVICE_TOKEN_COLUMNS} FROM service_tokens WHERE hash = ?");
    sqlx::query(&sql)
        .bind(hash(credential))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(service_token_from_row)
        .transpose()
}

pub(crate) async fn service_tokens(ex: impl SqliteExecutor<'_>) -> StoreResult<Vec<ServiceToken>> {
    let sql = format!("SELECT {SERVICE_TOKEN_COLUMNS} FROM service_tokens ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(service_token_from_row).collect()
}

pub(crate) async fn insert_service_token(
    ex: impl SqliteExecutor<'_>,
    token: &ServiceToken,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO service_tokens \
         (id, name, token_prefix, hash, created_at, revoked_at, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(token.id))
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
    ex: impl SqliteExecutor<'_>,
    token: &ServiceToken,
) -> StoreResult<()> {
    sqlx::query("UPDATE service_tokens SET name = ?, revoked_at = ? WHERE id = ?")
        .bind(&token.name)
        .bind(opt_millis(token.revoked_at))
        .bind(id(token.id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn record_service_token_use(
    conn: &mut SqliteConnection,
    uses: &[(Uuid, Timestamp)],
) -> StoreResult<()> {
    for (token_id, at) in uses {
        sqlx::query(
            "UPDATE service_tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) \
             WHERE id = ?",
        )
        .bind(millis(*at))
        .bind(id(*token_id))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

pub(crate) async fn session_by_hash(
    ex: impl SqliteExecutor<'_>,
    credential: &CredentialHash,
) -> StoreResult<Option<Session>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?");
    sqlx::query(&sql)
        .bind(hash(credential))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(session_from_row)
        .transpose()
}

pub(crate) async fn insert_session(
    ex: impl SqliteExecutor<'_>,
    session: &Session,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, csrf_hash, user_id, created_at, last_seen_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id(session.id))
    .bind(hash(&session.token_hash))
    .bind(hash(&session.csrf_hash))
    .bind(id(session.user_id))
    .bind(millis(session.created_at))
    .bind(millis(session.last_seen_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn delete_session(
    ex: impl SqliteExecutor<'_>,
    session_id: Uuid,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id(session_id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn touch_session(
    ex: impl SqliteExecutor<'_>,
    session_id: Uuid,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?")
        .bind(millis(at))
        .bind(id(session_id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
