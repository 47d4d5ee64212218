//! The append-only audit trail on PostgreSQL: inserts and the newest-first listing.

use keyward_core::model::AuditEvent;
use keyward_core::store::{AuditQuery, StoreResult};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::{audit_from_row, json, millis, AUDIT_COLUMNS};

/// Rows per multi-row INSERT: 11 bound values each, far below PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 1000;

pub(crate) async fn insert_audit(conn: &mut PgConnection, event: &AuditEvent) -> StoreResult<()> {
    insert_audits(conn, std::slice::from_ref(event)).await
}

pub(crate) async fn insert_audits(
    conn: &mut PgConnection,
    events: &[AuditEvent],
) -> StoreResult<()> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let encoded = chunk
            .iter()
            .map(|e| Ok((e, json(&e.details, "audit details")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut sql: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "INSERT INTO audit_events (id, workspace_id, at, actor_type, actor_id, action, \
             target_type, target_id, ip, user_agent, details) ",
        );
        sql.push_values(encoded, |mut row, (event, details)| {
            row.push_bind(event.id)
                .push_bind(event.workspace_id)
                .push_bind(millis(event.at))
                .push_bind(event.actor.kind.as_str())
                .push_bind(event.actor.id)
                .push_bind(&event.action)
                .push_bind(&event.target.kind)
                .push_bind(event.target.id)
                .push_bind(event.ip.as_deref())
                .push_bind(event.user_agent.as_deref())
                .push_bind(details);
        });
        sql.build().execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}

pub(crate) async fn list_audit(
    ex: impl PgExecutor<'_>,
    workspace_id: Uuid,
    query: &AuditQuery,
) -> StoreResult<Vec<AuditEvent>> {
    let mut sql: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE workspace_id = "
    ));
    sql.push_bind(workspace_id);
    if let Some(action) = &query.action {
        sql.push(" AND action = ").push_bind(action.clone());
    }
    if let Some(target) = query.target_id {
        sql.push(" AND target_id = ").push_bind(target);
    }
    if let Some(user) = query.concerning_user {
        let own_keys = "(SELECT id FROM api_keys WHERE workspace_id = ";
        sql.push(" AND ((target_type = 'user' AND target_id = ")
            .push_bind(user)
            .push(") OR (actor_type = 'user' AND actor_id = ")
            .push_bind(user)
            .push(") OR (target_type = 'api_key' AND target_id IN ")
            .push(own_keys)
            .push_bind(workspace_id)
            .push(" AND created_by = ")
            .push_bind(user)
            .push(")) OR (actor_type = 'api_key' AND actor_id IN ")
            .push(own_keys)
            .push_bind(workspace_id)
            .push(" AND created_by = ")
            .push_bind(user)
            .push(")))");
    }
    if let Some(after) = query.after {
        sql.push(" AND (at, id) < (")
            .push_bind(millis(after.at))
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    sql.push(" ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows = sql.build().fetch_all(ex).await.map_err(map_err)?;
    rows.iter().map(audit_from_row).collect()
}
