//! The operator's instance-wide views and fixes, for the server-side admin CLI: every user,
//! every workspace, and marking a user's email verified (PRODUCT.md §9). The CLI acts as
//! the `system` actor and skips role checks, so none of this is reachable over HTTP.

use serde_json::json;

use super::{decode_cursor, page_limit, paginate, Caller, Page, Service};
use crate::error::Result;
use crate::model::{now, User, Workspace};
use crate::store::Cursor;

impl Service {
    /// Every user, oldest first; `limit` is 1–200 (default 50) and `cursor` continues a
    /// previous page.
    pub async fn list_users(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<Page<User>> {
        let limit = page_limit(limit)?;
        let after = decode_cursor(cursor.as_deref())?;
        let rows = self.store.list_users(after, limit + 1).await?;
        Ok(paginate(rows, limit, |u| Cursor {
            at: u.created_at,
            id: u.id,
        }))
    }

    /// Every workspace, oldest first, paged like [`Service::list_users`].
    pub async fn list_all_workspaces(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<Page<Workspace>> {
        let limit = page_limit(limit)?;
        let after = decode_cursor(cursor.as_deref())?;
        let rows = self.store.list_workspaces(after, limit + 1).await?;
        Ok(paginate(rows, limit, |w| Cursor {
            at: w.created_at,
            id: w.id,
        }))
    }

    /// Marks the user's email verified, for users who never got (or lost) the emailed link:
    /// without it they can never manage keys. Writes one `user.email_verified` event with the
    /// `system` actor in each workspace the user belongs to. Idempotent: the flag is `false`
    /// when the user was verified already, and nothing is written then.
    pub async fn verify_user_email(&self, user: User) -> Result<(User, bool)> {
        let workspaces = self.store.workspaces_of_user(user.id).await?;
        retrying!({
            let mut tx = self.store.begin().await?;
            // Read again inside the transaction, so two concurrent runs write one set of events.
            let Some(mut user) = tx.user_by_email(&user.email).await? else {
                return Err(crate::Error::NotFound);
            };
            if user.email_verified_at.is_some() {
                return Ok((user, false));
            }
            user.email_verified_at = Some(now());
            tx.update_user(&user).await?;
            let actor = Caller::system(user.clone());
            for (ws, _) in &workspaces {
                let details = json!({"email": user.email, "via": "admin_cli"});
                tx.insert_audit(&actor.audit(
                    ws.id,
                    "user.email_verified",
                    ("user", user.id),
                    details,
                ))
                .await?;
            }
            self.commit(tx).await?;
            Ok((user, true))
        })
    }
}
