//! Members: list, add by email, change role or scopes, remove. A workspace never loses its
//! last owner, nobody grants a role or scopes beyond their own, and removal revokes keys.

use serde_json::json;
use uuid::Uuid;

use super::invitations::Added;
use super::keys::key_details;
use super::{Principal, Service};
use crate::error::{Error, FieldError, Result};
use crate::model::{now, Member, Membership, Role};
use crate::scope::ScopeSet;
use crate::store::StoreError;
use crate::validate::{self, Fields};

#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub role: String,
    pub scopes: Option<Vec<String>>,
}

/// For `scopes`, `Some(None)` resets the member to every product scope.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub role: Option<String>,
    pub scopes: Option<Option<Vec<String>>>,
}

impl Service {
    pub async fn list_members(&self, p: &Principal) -> Result<Vec<Member>> {
        p.require("members:read")?;
        Ok(self.store.members(p.workspace.id).await?)
    }

    /// Adds an existing user by email (`Added::Member`), or invites an email that has no
    /// account yet (`Added::Invited`), under the same checks either way.
    pub async fn add_member(&self, p: &Principal, input: NewMember) -> Result<Added> {
        p.require("members:write")?;
        let mut f = Fields::new();
        let email = f.take(validate::email("email", &input.email));
        let role = f.take(parse_role(&input.role));
        let scopes = match input.scopes.as_deref() {
            Some(raw) => f.take(self.product_scopes(raw)).map(Some),
            None => Some(None),
        };
        f.finish()?;
        let (Some(email), Some(role), Some(scopes)) = (email, role, scopes) else {
            return Err(Error::Internal("validation passed without values".into()));
        };
        p.require_power_over(role)?;
        let scopes = self.grantable_membership_scopes(p, scopes)?;
        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let Some(user) = tx.user_by_email(&email).await? else {
                let (invitation, link) = self
                    .insert_invitation(p, tx.as_mut(), email.clone(), role, scopes.clone())
                    .await?;
                self.commit(tx).await?;
                self.send_invitation(p, &invitation, link).await;
                return Ok(Added::Invited(invitation));
            };
            let membership = Membership {
                workspace_id: p.workspace.id,
                user_id: user.id,
                role,
                scopes: scopes.clone(),
                created_at: now(),
            };
            tx.insert_membership(&membership)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => {
                        Error::Conflict("this user is already a member".into())
                    }
                    other => other.into(),
                })?;
            let details = json!({"email": user.email, "role": role, "scopes": membership.scopes.as_ref().map(ScopeSet::as_strings)});
            tx.insert_audit(&p.audit("member.added", ("user", user.id), details))
                .await?;
            self.commit(tx).await?;
            Ok(Added::Member(Member { membership, user }))
        })
    }

    pub async fn update_member(
        &self,
        p: &Principal,
        user_id: Uuid,
        patch: MemberPatch,
    ) -> Result<Member> {
        p.require("members:write")?;
        let mut f = Fields::new();
        let role = patch.role.as_deref().map(|raw| f.take(parse_role(raw)));
        let scopes = patch.scopes.map(|raw| match raw {
            Some(raw) => f.take(self.product_scopes(&raw)).map(Some),
            None => Some(None),
        });
        f.finish()?;
        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let mut m = tx
                .membership(p.workspace.id, user_id)
                .await?
                .ok_or(Error::NotFound)?;
            let new_role = role.flatten().unwrap_or(m.role);
            // Changing someone needs power over both what they are and what they become, so a
            // narrow key can neither promote to admin nor demote an admin.
            p.require_power_over(m.role.min(new_role))?;
            if m.role == Role::Owner
                && new_role != Role::Owner
                && tx.count_owners(p.workspace.id).await? <= 1
            {
                return Err(Error::Conflict(
                    "a workspace must keep at least one owner".into(),
                ));
            }
            m.role = new_role;
            if let Some(Some(scopes)) = scopes.clone() {
                if scopes.is_none() {
                    // Back to every product scope, now and later: only `*` can give that.
                    p.require_full_access()?;
                }
                m.scopes = self.grantable_membership_scopes(p, scopes)?;
            }
            tx.update_membership(&m).await?;
            let details =
                json!({"role": m.role, "scopes": m.scopes.as_ref().map(ScopeSet::as_strings)});
            tx.insert_audit(&p.audit("member.updated", ("user", user_id), details))
                .await?;
            self.commit(tx).await?;
            let user = self
                .store
                .user_by_id(user_id)
                .await?
                .ok_or(Error::NotFound)?;
            Ok(Member {
                membership: m,
                user,
            })
        })
    }

    /// Removes a member and, in the same transaction, revokes every key they created in
    /// this workspace: a key acts only while its creator is a member (PRODUCT.md §3).
    pub async fn remove_member(&self, p: &Principal, user_id: Uuid) -> Result<()> {
        p.require("members:write")?;
        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let m = tx
                .membership(p.workspace.id, user_id)
                .await?
                .ok_or(Error::NotFound)?;
            p.require_power_over(m.role)?;
            if m.role == Role::Owner && tx.count_owners(p.workspace.id).await? <= 1 {
                return Err(Error::Conflict(
                    "a workspace must keep at least one owner".into(),
                ));
            }
            let now = now();
            let mut revoked = Vec::new();
            let mut keys = tx.unrevoked_keys_of_user(p.workspace.id, user_id).await?;
            // In id order, the order the last-used flush locks keys in: two transactions that
            // lock the same rows in one order cannot deadlock on PostgreSQL.
            keys.sort_by_key(|k| k.id);
            for mut key in keys {
                key.revoked_at = Some(now);
                key.updated_at = now;
                tx.update_key(&key).await?;
                let mut details = key_details(&key);
                details["reason"] = json!("member_removed");
                tx.insert_audit(&p.audit("api_key.revoked", ("api_key", key.id), details))
                    .await?;
                revoked.push(key.id);
            }
            tx.delete_membership(p.workspace.id, user_id).await?;
            let details = json!({"role": m.role, "revoked_keys": revoked});
            tx.insert_audit(&p.audit("member.removed", ("user", user_id), details))
                .await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// A membership's scopes may only be scopes the actor holds. Left out (`None`), they
    /// mean every product scope now and later, which only `*` can give; any other actor
    /// gives the product scopes it holds itself.
    fn grantable_membership_scopes(
        &self,
        p: &Principal,
        requested: Option<ScopeSet>,
    ) -> Result<Option<ScopeSet>> {
        if p.has_full_access() {
            return Ok(requested);
        }
        match requested {
            Some(scopes) if p.held.covers(&scopes) => Ok(Some(scopes)),
            Some(_) => Err(Error::InsufficientScope(
                "you cannot give a member scopes that you do not hold".into(),
            )),
            None => Ok(Some(p.held.intersect(&self.settings.catalog.product_set()))),
        }
    }

    /// A membership narrows to product scopes only; management scopes come from the role.
    fn product_scopes(&self, raw: &[String]) -> Result<ScopeSet, FieldError> {
        let set = validate::scopes("scopes", raw, &self.settings.catalog)?;
        let product = self.settings.catalog.product_set();
        if set.is_full()
            || set.iter().any(|s| {
                !product.grants(s.as_str()) && !product.iter().any(|c| s.grants(c.as_str()))
            })
        {
            return Err(FieldError::new(
                "scopes",
                "a membership may list only product scopes",
            ));
        }
        Ok(set)
    }
}

fn parse_role(raw: &str) -> Result<Role, FieldError> {
    Role::parse(raw).ok_or_else(|| FieldError::new("role", "must be owner, admin or member"))
}
