//! Users, workspaces and memberships. Each function takes any SQLite executor, so the
//! read pool (for `Store`) and an open transaction (for `StoreTx`) share one query.

use keyward_core::model::{Member, Membership, Role, User, Workspace};
use keyward_core::store::{Cursor, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqliteExecutor};
use uuid::Uuid;

use super::error::map_err;
use super::rows::id;
use crate::store::rows::{
    json, member_from_row, membership_from_row, millis, opt_millis, user_from_row,
    workspace_from_row, MEMBERSHIP_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS,
};

pub(crate) async fn count_users(ex: impl SqliteExecutor<'_>) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(ex)
        .await
        .map_err(map_err)?;
    Ok(n.unsigned_abs())
}

pub(crate) async fn user_by_id(
    ex: impl SqliteExecutor<'_>,
    user_id: Uuid,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?");
    sqlx::query(&sql)
        .bind(id(user_id))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(crate) async fn user_by_email(
    ex: impl SqliteExecutor<'_>,
    email: &str,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = ?");
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
    ex: impl SqliteExecutor<'_>,
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

/// ` WHERE (created_at, id) > (?, ?)`: oldest-first listings continue after the cursor.
fn push_after(sql: &mut QueryBuilder<'_, Sqlite>, table: &str, after: Option<Cursor>) {
    if let Some(after) = after {
        sql.push(format!(" WHERE ({table}.created_at, {table}.id) > ("))
            .push_bind(millis(after.at))
            .push(", ")
            .push_bind(id(after.id))
            .push(")");
    }
}

pub(crate) async fn update_user(ex: impl SqliteExecutor<'_>, user: &User) -> StoreResult<()> {
    sqlx::query("UPDATE users SET name = ?, password_hash = ?, email_verified_at = ? WHERE id = ?")
        .bind(&user.name)
        .bind(user.password_hash.as_ref().map(|h| h.expose_secret()))
        .bind(opt_millis(user.email_verified_at))
        .bind(id(user.id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn insert_user(ex: impl SqliteExecutor<'_>, user: &User) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id(user.id))
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
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = ?");
    sqlx::query(&sql)
        .bind(id(workspace_id))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(workspace_from_row)
        .transpose()
}

pub(crate) async fn list_workspaces(
    ex: impl SqliteExecutor<'_>,
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
    ex: impl SqliteExecutor<'_>,
    user_id: Uuid,
) -> StoreResult<Vec<(Workspace, Role)>> {
    let sql = format!(
        "SELECT {WORKSPACE_COLUMNS}, {MEMBERSHIP_COLUMNS} FROM memberships m \
         JOIN workspaces w ON w.id = m.workspace_id \
         WHERE m.user_id = ? ORDER BY w.created_at ASC, w.id ASC"
    );
    let rows = sqlx::query(&sql)
        .bind(id(user_id))
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| Ok((workspace_from_row(row)?, membership_from_row(row)?.role)))
        .collect()
}

pub(crate) async fn insert_workspace(
    ex: impl SqliteExecutor<'_>,
    w: &Workspace,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO workspaces \
         (id, name, plan, key_prefix, key_format, members_can_create_keys, created_at, \
          updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(w.id))
    .bind(&w.name)
    .bind(&w.plan)
    .bind(w.key_prefix.as_str())
    .bind(w.key_format.as_str())
    .bind(i64::from(w.members_can_create_keys))
    .bind(millis(w.created_at))
    .bind(millis(w.updated_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn update_workspace(
    ex: impl SqliteExecutor<'_>,
    w: &Workspace,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE workspaces SET name = ?, plan = ?, key_prefix = ?, key_format = ?, \
         members_can_create_keys = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&w.name)
    .bind(&w.plan)
    .bind(w.key_prefix.as_str())
    .bind(w.key_format.as_str())
    .bind(i64::from(w.members_can_create_keys))
    .bind(millis(w.updated_at))
    .bind(id(w.id))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn membership(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    user_id: Uuid,
) -> StoreResult<Option<Membership>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.workspace_id = ? AND m.user_id = ?"
    );
    sqlx::query(&sql)
        .bind(id(workspace_id))
        .bind(id(user_id))
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(membership_from_row)
        .transpose()
}

pub(crate) async fn members(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS}, {USER_COLUMNS} FROM memberships m \
         JOIN users u ON u.id = m.user_id \
         WHERE m.workspace_id = ? ORDER BY m.created_at ASC, m.user_id ASC"
    );
    let rows = sqlx::query(&sql)
        .bind(id(workspace_id))
        .fetch_all(ex)
        .await
        .map_err(map_err)?;
    rows.iter().map(member_from_row).collect()
}

pub(crate) async fn count_owners(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'",
    )
    .bind(id(workspace_id))
    .fetch_one(ex)
    .await
    .map_err(map_err)?;
    Ok(n.unsigned_abs())
}

pub(crate) async fn insert_membership(
    ex: impl SqliteExecutor<'_>,
    m: &Membership,
) -> StoreResult<()> {
    let scopes = m.scopes.as_ref().map(|s| json(s, "scopes")).transpose()?;
    sqlx::query(
        "INSERT INTO memberships (workspace_id, user_id, role, scopes, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id(m.workspace_id))
    .bind(id(m.user_id))
    .bind(m.role.as_str())
    .bind(scopes)
    .bind(millis(m.created_at))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn update_membership(
    ex: impl SqliteExecutor<'_>,
    m: &Membership,
) -> StoreResult<()> {
    let scopes = m.scopes.as_ref().map(|s| json(s, "scopes")).transpose()?;
    sqlx::query(
        "UPDATE memberships SET role = ?, scopes = ? WHERE workspace_id = ? AND user_id = ?",
    )
    .bind(m.role.as_str())
    .bind(scopes)
    .bind(id(m.workspace_id))
    .bind(id(m.user_id))
    .execute(ex)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn delete_membership(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    user_id: Uuid,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?")
        .bind(id(workspace_id))
        .bind(id(user_id))
        .execute(ex)
        .await
        .map_err(map_err)?;
    Ok(())
}
