//! Invitations: adding someone who has no account yet. The workspace emails a single-use
//! link, valid seven days, that leads to sign-up and joins the workspace in the invited role.
//!
//! An invitation acts for whoever sent it, like a key for its creator: it is honoured only
//! while its sender is still a member who could add that role today.

use chrono::TimeDelta;
use serde_json::json;
use uuid::Uuid;

use super::sessions::random_secret;
use super::{Caller, Principal, Service};
use crate::error::{Error, Result};
use crate::mail::Email;
use crate::model::{new_id, now, Invitation, Membership, Role, Workspace};
use crate::scope::ScopeSet;
use crate::secret::SecretString;
use crate::store::{StoreError, StoreTx};

/// How long an invitation link works.
pub const INVITATION_TTL: TimeDelta = TimeDelta::days(7);

/// What adding a member by email did: added an existing user, or invited a new one.
#[derive(Debug)]
pub enum Added {
    Member(crate::model::Member),
    Invited(Invitation),
}

/// What the invitation page shows before sign-up.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub invitation: Invitation,
    pub workspace: Workspace,
}

impl Service {
    /// Records an invitation in the caller's write transaction (already checked: scope,
    /// power over the role, grantable scopes) and returns it with its link, for sending
    /// after commit.
    pub(crate) async fn insert_invitation(
        &self,
        p: &Principal,
        tx: &mut dyn StoreTx,
        email: String,
        role: Role,
        scopes: Option<ScopeSet>,
    ) -> Result<(Invitation, SecretString)> {
        let now = now();
        if tx
            .pending_invitation(p.workspace.id, &email, now)
            .await?
            .is_some()
        {
            return Err(Error::Conflict(
                "this email has a pending invitation already; withdraw it to send a new one".into(),
            ));
        }
        let secret = random_secret();
        let invitation = Invitation {
            id: new_id(),
            workspace_id: p.workspace.id,
            email,
            role,
            scopes,
            invited_by: p.user_id(),
            token_hash: self.pepper.hash(secret.expose_secret()),
            created_at: now,
            expires_at: now + INVITATION_TTL,
            accepted_at: None,
            withdrawn_at: None,
        };
        tx.insert_invitation(&invitation).await?;
        let details = json!({
            "email": invitation.email,
            "role": role,
            "scopes": invitation.scopes.as_ref().map(ScopeSet::as_strings),
            "expires_at": invitation.expires_at,
        });
        tx.insert_audit(&p.audit("member.invited", ("invitation", invitation.id), details))
            .await?;
        Ok((invitation, self.link("/invitations/accept", &secret)))
    }

    pub(crate) async fn send_invitation(
        &self,
        p: &Principal,
        inv: &Invitation,
        link: SecretString,
    ) {
        let text =
            format!(
            "Hello,\n\n{inviter} invited you to join the workspace \"{workspace}\" on keyward as \
             {article} {role}.\n\nCreate your account and join within 7 days:\n\n{url}\n\n\
             If you did not expect this, ignore this message.\n",
            inviter = p.caller.user.name,
            workspace = p.workspace.name,
            article = if inv.role == Role::Admin || inv.role == Role::Owner { "an" } else { "a" },
            role = inv.role.as_str(),
            url = link.expose_secret(),
        );
        self.send(Email {
            to: inv.email.clone(),
            subject: format!("Join {} on keyward", p.workspace.name),
            text,
            link,
        })
        .await;
    }

    /// The workspace's pending invitations, oldest first.
    pub async fn list_invitations(&self, p: &Principal) -> Result<Vec<Invitation>> {
        p.require("members:read")?;
        Ok(self
            .store
            .pending_invitations(p.workspace.id, now())
            .await?)
    }

    /// Withdraws a pending invitation: its link stops working at once.
    pub async fn withdraw_invitation(&self, p: &Principal, id: Uuid) -> Result<()> {
        p.require("members:write")?;
        retrying!({
            let (mut tx, _) = self.begin_as(p).await?;
            let mut inv = tx
                .invitation(p.workspace.id, id)
                .await?
                .filter(|i| i.is_pending(now()))
                .ok_or(Error::NotFound)?;
            p.require_power_over(inv.role)?;
            inv.withdrawn_at = Some(now());
            tx.update_invitation(&inv).await?;
            let details = json!({"email": inv.email, "role": inv.role});
            tx.insert_audit(&p.audit(
                "member.invitation_withdrawn",
                ("invitation", inv.id),
                details,
            ))
            .await?;
            self.commit(tx).await?;
            Ok(())
        })
    }

    /// The pending invitation a link carries, for the page that accepts it.
    pub async fn invitation_for_token(&self, token: &str) -> Result<InvitationView> {
        let hash = self.pepper.hash(token);
        let invitation = self
            .store
            .invitation_by_hash(&hash)
            .await?
            .filter(|i| i.token_hash.ct_eq(&hash) && i.is_pending(now()))
            .ok_or_else(invalid_invitation)?;
        let workspace = self
            .store
            .workspace(invitation.workspace_id)
            .await?
            .ok_or_else(invalid_invitation)?;
        Ok(InvitationView {
            invitation,
            workspace,
        })
    }

    /// A logged-in user accepts an invitation sent to their own address.
    pub async fn accept_invitation(
        &self,
        caller: &Caller,
        token: &SecretString,
    ) -> Result<Workspace> {
        retrying!({
            let mut tx = self.store.begin().await?;
            let ws = self
                .accept_invitation_in(tx.as_mut(), caller, token)
                .await?;
            if caller.user.email_verified_at.is_none() {
                // Opening the emailed link proved the address, as the verification link would.
                let mut user = caller.user.clone();
                user.email_verified_at = Some(now());
                tx.update_user(&user).await?;
            }
            self.commit(tx).await?;
            Ok(ws)
        })
    }

    /// Joins `caller.user` to the workspace of the invitation `token`, once, if it is still
    /// pending, addressed to the user's email, and its sender may still add that role.
    pub(crate) async fn accept_invitation_in(
        &self,
        tx: &mut dyn StoreTx,
        caller: &Caller,
        token: &SecretString,
    ) -> Result<Workspace> {
        let hash = self.pepper.hash(token.expose_secret());
        let now = now();
        let mut inv = tx
            .invitation_by_hash(&hash)
            .await?
            .filter(|i| i.token_hash.ct_eq(&hash) && i.is_pending(now))
            .ok_or_else(invalid_invitation)?;
        let user = &caller.user;
        if inv.email != user.email {
            return Err(Error::validation(
                "email",
                "this invitation was sent to another email address",
            ));
        }
        let workspace = tx
            .lock_workspace(inv.workspace_id)
            .await?
            .ok_or_else(invalid_invitation)?;
        let sender = tx.membership(inv.workspace_id, inv.invited_by).await?;
        let sender_may = sender.is_some_and(|s| match s.role {
            Role::Owner => true,
            Role::Admin => inv.role != Role::Owner,
            Role::Member => false,
        });
        if !sender_may {
            return Err(Error::validation(
                "token",
                "this invitation is no longer valid: whoever sent it can no longer add this role",
            ));
        }
        let membership = Membership {
            workspace_id: inv.workspace_id,
            user_id: user.id,
            role: inv.role,
            scopes: inv.scopes.clone(),
            created_at: now,
        };
        tx.insert_membership(&membership)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    Error::Conflict("you are a member of this workspace already".into())
                }
                other => other.into(),
            })?;
        inv.accepted_at = Some(now);
        tx.update_invitation(&inv).await?;
        let details = json!({
            "email": user.email,
            "role": inv.role,
            "scopes": inv.scopes.as_ref().map(ScopeSet::as_strings),
            "invitation_id": inv.id,
            "invited_by": inv.invited_by,
        });
        tx.insert_audit(&caller.audit(workspace.id, "member.added", ("user", user.id), details))
            .await?;
        Ok(workspace)
    }
}

fn invalid_invitation() -> Error {
    Error::validation(
        "token",
        "this invitation is not valid: it was used or withdrawn, has expired, or was never sent",
    )
}
