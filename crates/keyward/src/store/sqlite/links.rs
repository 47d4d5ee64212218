//! Email verification links and invitations: single-use tokens sent by email, stored only as
//! hashes and found through their unique hash indexes.

use keyward_core::model::{EmailToken, Invitation, Timestamp};
use keyward_core::secret::CredentialHash;
use keyward_core::store::StoreResult;
use sqlx::SqliteExecutor;
use uuid::Uuid;

use super::error::map_err;
use super::rows::id;
use crate::store::rows::{
    email_token_from_row, hash, invitation_from_row, json, millis, opt_millis, EMAIL_TOKEN_COLUMNS,
    INVITATION_COLUMNS,
};

pub(crate) async fn email_token_by_hash(
    ex: impl SqliteExecutor<'_>,
    token: &CredentialHash,
) -> StoreResult<Option<EmailToken>> {
    let sql = format!("SELECT {EMAIL_TOKEN_COLUMNS} FROM email_tokens WHERE token_hash = ?");
    sqlx::query(&sql)
        .bind(hash(token))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(email_token_from_row)
        .transpose()
}

pub(crate) async fn insert_email_token(
    ex: impl SqliteExecutor<'_>,
    token: &EmailToken,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_tokens (id, user_id, token_hash, created_at, expires_at, used_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id(token.id))
    .bind(id(token.user_id))
    .bind(hash(&token.token_hash))
    .bind(millis(token.created_at))
    .bind(millis(token.expires_at))
    .bind(opt_millis(token.used_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn use_email_token(
    ex: impl SqliteExecutor<'_>,
    token_id: Uuid,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE email_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL")
        .bind(millis(at))
        .bind(id(token_id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn invitation_by_hash(
    ex: impl SqliteExecutor<'_>,
    token: &CredentialHash,
) -> StoreResult<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?");
    sqlx::query(&sql)
        .bind(hash(token))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

pub(crate) async fn invitation(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    invitation_id: Uuid,
) -> StoreResult<Option<Invitation>> {
    let sql =
        format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = ? AND id = ?");
    sqlx::query(&sql)
        .bind(id(workspace_id))
        .bind(id(invitation_id))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

/// Pending: not accepted, not withdrawn and not expired at `now`.
const PENDING: &str = "accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > ?";

pub(crate) async fn pending_invitations(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    now: Timestamp,
) -> StoreResult<Vec<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = ? AND {PENDING} \
         ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(id(workspace_id))
        .bind(millis(now))
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter().map(invitation_from_row).collect()
}

pub(crate) async fn pending_invitation(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    email: &str,
    now: Timestamp,
) -> StoreResult<Option<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations \
         WHERE workspace_id = ? AND email = ? AND {PENDING} LIMIT 1"
    );
    sqlx::query(&sql)
        .bind(id(workspace_id))
        .bind(email)
        .bind(millis(now))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

pub(crate) async fn insert_invitation(
    ex: impl SqliteExecutor<'_>,
    inv: &Invitation,
) -> StoreResult<()> {
    let scopes = inv.scopes.as_ref().map(|s| json(s, "scopes")).transpose()?;
    sqlx::query(
        "INSERT INTO invitations (id, workspace_id, email, role, scopes, invited_by, token_hash, \
         created_at, expires_at, accepted_at, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(inv.id))
    .bind(id(inv.workspace_id))
    .bind(&inv.email)
    .bind(inv.role.as_str())
    .bind(scopes)
    .bind(id(inv.invited_by))
    .bind(hash(&inv.token_hash))
    .bind(millis(inv.created_at))
    .bind(millis(inv.expires_at))
    .bind(opt_millis(inv.accepted_at))
    .bind(opt_millis(inv.withdrawn_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn update_invitation(
    ex: impl SqliteExecutor<'_>,
    inv: &Invitation,
) -> StoreResult<()> {
    sqlx::query("UPDATE invitations SET accepted_at = ?, withdrawn_at = ? WHERE id = ?")
        .bind(opt_millis(inv.accepted_at))
        .bind(opt_millis(inv.withdrawn_at))
        .bind(id(inv.id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
