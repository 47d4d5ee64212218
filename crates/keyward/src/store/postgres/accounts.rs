//! Users, workspaces and memberships on PostgreSQL. Each function takes any PostgreSQL
//! executor, so the pool (for `Store`) and an open transaction (for `StoreTx`) share one
//! query.

use keyward_core::model::{Member, Membership, Role, User, Workspace};
use keyward_core::store::{Cursor, StoreResult};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::{
    json, member_from_row, membership_from_row, millis, opt_millis, user_from_row,
    workspace_from_row, MEMBERSHIP_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS,
};

pub(crate) async fn count_users(ex: impl PgExecutor<'_>) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(ex)
        .await
        .map_err(map_err)?;
    Ok(n.unsigned_abs())
}

pub(crate) async fn user_by_id(
    ex: impl PgExecutor<'_>,
    user_id: Uuid,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    sqlx::query(&sql)
        .bind(user_id)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(crate) async fn user_by_email(
    ex: impl PgExecutor<'_>,
    email: &str,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
    sqlx::query(&sql)
        .bind(email)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(crate) async fn list_users(
    ex: impl PgExecutor<'_>,
    after: Option<Cursor>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    let mut sql = QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users u"));
    push_after(&mut sql, "u", after);
    sql.push(" ORDER BY u.created_at, u.id LIMIT ")
        .push_bind(i64::from(limit));
    let rows = sql.build().fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(user_from_row).collect()
}

/// ` WHERE (created_at, id) > ($n, $m)`: oldest-first listings continue after the cursor.
/// A row comparison, as on SQLite, so the `(created_at, id)` order is one index range.
fn push_after(sql: &mut QueryBuilder<'_, Postgres>, table: &str, after: Option<Cursor>) {
    if let Some(after) = after {
        sql.push(format!(" WHERE ({table}.created_at, {table}.id) > ("))
            .push_bind(millis(after.at))
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
}

pub(crate) async fn update_user(ex: impl PgExecutor<'_>, user: &User) -> StoreResult<()> {
    sqlx::query(
        "UPDATE users SET name = $1, password_hash = $2, email_verified_at = $3 WHERE id = $4",
    )
    .bind(&user.name)
    .bind(user.password_hash.as_ref().map(|h| h.expose_secret()))
    .bind(opt_millis(user.email_verified_at))
    .bind(user.id)
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn insert_user(ex: impl PgExecutor<'_>, user: &User) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.password_hash.as_ref().map(|h| h.expose_secret()))
    .bind(opt_millis(user.email_verified_at))
    .bind(millis(user.created_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn workspace(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1");
    sqlx::query(&sql)
        .bind(workspace_id)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(workspace_from_row)
        .transpose()
}

/// The workspace, row-locked until the transaction ends. FOR UPDATE (not the weaker FOR NO
/// KEY UPDATE) also waits for transactions that inserted rows referencing the workspace,
/// such as keys, and makes them wait in turn: every key insert of a workspace is ordered
/// against every limit check of it, on every node that shares the database.
pub(crate) async fn lock_workspace(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1 FOR UPDATE");
    sqlx::query(&sql)
        .bind(workspace_id)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(workspace_from_row)
        .transpose()
}

pub(crate) async fn list_workspaces(
    ex: impl PgExecutor<'_>,
    after: Option<Cursor>,
    limit: u32,
) -> StoreResult<Vec<Workspace>> {
    let mut sql = QueryBuilder::new(format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces w"));
    push_after(&mut sql, "w", after);
    sql.push(" ORDER BY w.created_at, w.id LIMIT ")
        .push_bind(i64::from(limit));
    let rows = sql.build().fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(workspace_from_row).collect()
}

pub(crate) async fn workspaces_of_user(
    ex: impl PgExecutor<'_>,
    user_id: Uuid,
) -> StoreResult<Vec<(Workspace, Role)>> {
    let sql = format!(
        "SELECT {WORKSPACE_COLUMNS}, {MEMBERSHIP_COLUMNS} FROM memberships m \
         JOIN workspaces w ON w.id = m.workspace_id \
         WHERE m.user_id = $1 ORDER BY w.created_at ASC, w.id ASC"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| Ok((workspace_from_row(row)?, membership_from_row(row)?.role)))
        .collect()
}

pub(crate) async fn insert_workspace(ex: impl PgExecutor<'_>, w: &Workspace) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO workspaces \
         (id, name, plan, key_prefix, key_format, members_can_create_keys, created_at, \
          updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(w.id)
    .bind(&w.name)
    .bind(&w.plan)
    .bind(w.key_prefix.as_str())
    .bind(w.key_format.as_str())
    .bind(w.members_can_create_keys)
    .bind(millis(w.created_at))
    .bind(millis(w.updated_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn update_workspace(ex: impl PgExecutor<'_>, w: &Workspace) -> StoreResult<()> {
    sqlx::query(
        "UPDATE workspaces SET name = $1, plan = $2, key_prefix = $3, key_format = $4, \
         members_can_create_keys = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(&w.name)
    .bind(&w.plan)
    .bind(w.key_prefix.as_str())
    .bind(w.key_format.as_str())
    .bind(w.members_can_create_keys)
    .bind(millis(w.updated_at))
    .bind(w.id)
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn membership(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    user_id: Uuid,
) -> StoreResult<Option<Membership>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m \
         WHERE m.workspace_id = $1 AND m.user_id = $2"
    );
    sqlx::query(&sql)
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(membership_from_row)
        .transpose()
}

pub(crate) async fn members(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS}, {USER_COLUMNS} FROM memberships m \
         JOIN users u ON u.id = m.user_id \
         WHERE m.workspace_id = $1 ORDER BY m.created_at ASC, m.user_id ASC"
    );
    let rows = sqlx::query(&sql)
        .bind(workspace_id)
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter().map(member_from_row).collect()
}

pub(crate) async fn count_owners(ex: impl PgExecutor<'_>, workspace_id: Uuid) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
    )
    .bind(workspace_id)
    .fetch_one(ex)
    .await
    .map_err(map_err)?;
    Ok(n.unsigned_abs())
}

pub(crate) async fn insert_membership(ex: impl PgExecutor<'_>, m: &Membership) -> StoreResult<()> {
    let scopes = m.scopes.as_ref().map(|s| json(s, "scopes")).transpose()?;
    sqlx::query(
        "INSERT INTO memberships (workspace_id, user_id, role, scopes, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(m.workspace_id)
    .bind(m.user_id)
    .bind(m.role.as_str())
    .bind(scopes)
    .bind(millis(m.created_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn update_membership(ex: impl PgExecutor<'_>, m: &Membership) -> StoreResult<()> {
    let scopes = m.scopes.as_ref().map(|s| json(s, "scopes")).transpose()?;
    sqlx::query(
        "UPDATE memberships SET role = $1, scopes = $2 WHERE workspace_id = $3 AND user_id = $4",
    )
    .bind(m.role.as_str())
    .bind(scopes)
    .bind(m.workspace_id)
    .bind(m.user_id)
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn delete_membership(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    user_id: Uuid,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
