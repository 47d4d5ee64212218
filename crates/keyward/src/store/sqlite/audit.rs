//! The append-only audit trail: inserts and the newest-first listing.

use keyward_core::model::AuditEvent;
use keyward_core::store::{AuditQuery, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

use super::error::map_err;
use super::rows::{id, opt_id};
use crate::store::rows::{audit_from_row, json, millis, AUDIT_COLUMNS};

/// Rows per multi-row INSERT: 11 bound values each, far below SQLite's variable limit.
const ROWS_PER_INSERT: usize = 500;

pub(crate) async fn insert_audit(
    conn: &mut SqliteConnection,
    event: &AuditEvent,
) -> StoreResult<()> {
    insert_audits(conn, std::slice::from_ref(event)).await
}

pub(crate) async fn insert_audits(
    conn: &mut SqliteConnection,
    events: &[AuditEvent],
) -> StoreResult<()> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let encoded = chunk
            .iter()
            .map(|e| Ok((e, json(&e.details, "audit details")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        // OR FAIL rather than the default ABORT: a failing row then leaves the rows before
        // it in place instead of undoing the statement, which spares SQLite a statement
        // journal (a copy of every page the statement touches; a seventh of a 100,000-key
        // import's time). Callers drop the whole transaction on any error anyway.
        let mut sql: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT OR FAIL INTO audit_events (id, workspace_id, at, actor_type, actor_id, action, \
             target_type, target_id, ip, user_agent, details) ",
        );
        sql.push_values(encoded, |mut row, (event, details)| {
            row.push_bind(id(event.id))
                .push_bind(id(event.workspace_id))
                .push_bind(millis(event.at))
                .push_bind(event.actor.kind.as_str())
                .push_bind(opt_id(event.actor.id))
                .push_bind(&event.action)
                .push_bind(&event.target.kind)
                .push_bind(id(event.target.id))
                .push_bind(event.ip.as_deref())
                .push_bind(event.user_agent.as_deref())
                .push_bind(details);
        });
        sql.build().execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}

pub(crate) async fn list_audit(
    ex: impl SqliteExecutor<'_>,
    workspace_id: Uuid,
    query: &AuditQuery,
) -> StoreResult<Vec<AuditEvent>> {
    let mut sql: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE workspace_id = "
    ));
    sql.push_bind(id(workspace_id));
    if let Some(action) = &query.action {
        sql.push(" AND action = ").push_bind(action.clone());
    }
    if let Some(target) = query.target_id {
        sql.push(" AND target_id = ").push_bind(id(target));
    }
    if let Some(user) = query.concerning_user {
        let own_keys = "(SELECT id FROM api_keys WHERE workspace_id = ";
        sql.push(" AND ((target_type = 'user' AND target_id = ")
            .push_bind(id(user))
            .push(") OR (actor_type = 'user' AND actor_id = ")
            .push_bind(id(user))
            .push(") OR (target_type = 'api_key' AND target_id IN ")
            .push(own_keys)
            .push_bind(id(workspace_id))
            .push(" AND created_by = ")
            .push_bind(id(user))
            .push(")) OR (actor_type = 'api_key' AND actor_id IN ")
            .push(own_keys)
            .push_bind(id(workspace_id))
            .push(" AND created_by = ")
            .push_bind(id(user))
            .push(")))");
    }
    if let Some(after) = query.after {
        sql.push(" AND (at, id) < (")
            .push_bind(millis(after.at))
            .push(", ")
            .push_bind(id(after.id))
            .push(")");
    }
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows = sql.build().fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(audit_from_row).collect()
}
