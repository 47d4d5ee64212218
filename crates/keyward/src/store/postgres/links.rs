//! Email verification links and invitations on PostgreSQL: single-use tokens sent by email,
//! stored only as hashes and found through their unique hash indexes.

use keyward_core::model::{EmailToken, Invitation, Timestamp};
use keyward_core::secret::CredentialHash;
use keyward_core::store::StoreResult;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::{
    email_token_from_row, hash, invitation_from_row, json, millis, opt_millis, EMAIL_TOKEN_COLUMNS,
    INVITATION_COLUMNS,
};

pub(crate) async fn email_token_by_hash(
    ex: impl PgExecutor<'_>,
    token: &CredentialHash,
) -> StoreResult<Option<EmailToken>> {
    let sql = format!("SELECT {EMAIL_TOKEN_COLUMNS} FROM email_tokens WHERE token_hash = $1");
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
    ex: impl PgExecutor<'_>,
    token: &EmailToken,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_tokens (id, user_id, token_hash, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id)
    .bind(token.user_id)
    .bind(hash(&token.token_hash))
    .bind(millis(token.created_at))
    .bind(millis(token.expires_at))
    .bind(opt_millis(token.used_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Marks the link used only if it is not yet. Two racing uses cannot both succeed: the second
/// UPDATE waits for the first's row lock and, once that commits, re-checks `used_at IS NULL`
/// on the new row version (READ COMMITTED's rule for UPDATE) and changes nothing.
pub(crate) async fn use_email_token(
    ex: impl PgExecutor<'_>,
    token_id: Uuid,
    at: Timestamp,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE email_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(millis(at))
            .bind(token_id)
            .execute(ex)
            .await
            .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn invitation_by_hash(
    ex: impl PgExecutor<'_>,
    token: &CredentialHash,
) -> StoreResult<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1");
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
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    invitation_id: Uuid,
) -> StoreResult<Option<Invitation>> {
    let sql =
        format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = $1 AND id = $2");
    sqlx::query(&sql)
        .bind(workspace_id)
        .bind(invitation_id)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

/// Pending at `$2`: not accepted, not withdrawn and not expired.
const PENDING: &str = "accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > $2";

pub(crate) async fn pending_invitations(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    now: Timestamp,
) -> StoreResult<Vec<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = $1 AND {PENDING} \
         ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(workspace_id)
        .bind(millis(now))
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter().map(invitation_from_row).collect()
}

pub(crate) async fn pending_invitation(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    email: &str,
    now: Timestamp,
) -> StoreResult<Option<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations \
         WHERE workspace_id = $1 AND {PENDING} AND email = $3 LIMIT 1"
    );
    sqlx::query(&sql)
        .bind(workspace_id)
        .bind(millis(now))
        .bind(email)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

pub(crate) async fn insert_invitation(
    ex: impl PgExecutor<'_>,
    inv: &Invitation,
) -> StoreResult<()> {
    let scopes = inv.scopes.as_ref().map(|s| json(s, "scopes")).transpose()?;
    sqlx::query(
        "INSERT INTO invitations (id, workspace_id, email, role, scopes, invited_by, token_hash, \
         created_at, expires_at, accepted_at, withdrawn_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(inv.id)
    .bind(inv.workspace_id)
    .bind(&inv.email)
    .bind(inv.role.as_str())
    .bind(scopes)
    .bind(inv.invited_by)
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
    ex: impl PgExecutor<'_>,
    inv: &Invitation,
) -> StoreResult<()> {
    sqlx::query("UPDATE invitations SET accepted_at = $1, withdrawn_at = $2 WHERE id = $3")
        .bind(opt_millis(inv.accepted_at))
        .bind(opt_millis(inv.withdrawn_at))
        .bind(inv.id)
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
