//! The audit log: newest first, filtered by action or target, paginated like keys.

use uuid::Uuid;

use super::{decode_cursor, page_limit, paginate, Page, Principal, Service};
use crate::error::{Error, Result};
use crate::model::AuditEvent;
use crate::store::{AuditQuery, Cursor};

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Every action keyward records (PRODUCT.md §1).
pub const ACTIONS: [&str; 14] = [
    "api_key.created",
    "api_key.updated",
    "api_key.revoked",
    "api_key.deleted",
    "api_key.rotated",
    "api_key.leaked",
    "member.invited",
    "member.invitation_withdrawn",
    "member.added",
    "member.updated",
    "member.removed",
    "workspace.created",
    "workspace.updated",
    "user.email_verified",
];

impl Service {
    pub async fn list_audit(&self, p: &Principal, filter: AuditFilter) -> Result<Page<AuditEvent>> {
        p.require("audit:read")?;
        if let Some(action) = filter.action.as_deref() {
            if !ACTIONS.contains(&action) {
                // The list of what is accepted, never the value sent (PRODUCT.md §7).
                return Err(Error::BadRequest(format!(
                    "action must be one of {}",
                    ACTIONS.join(", ")
                )));
            }
        }
        let target_id = match filter.target_id.as_deref() {
            None => None,
            Some(raw) => Some(
                Uuid::parse_str(raw)
                    .map_err(|_| Error::BadRequest("target_id must be an id".into()))?,
            ),
        };
        let limit = page_limit(filter.limit)?;
        let query = AuditQuery {
            action: filter.action,
            target_id,
            concerning_user: p.own_keys_only().then(|| p.user_id()),
            after: decode_cursor(filter.cursor.as_deref())?,
            limit: limit + 1,
        };
        let rows = self.store.list_audit(p.workspace.id, &query).await?;
        Ok(paginate(rows, limit, |e| Cursor { at: e.at, id: e.id }))
    }
}
