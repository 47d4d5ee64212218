//! [`StoreTx`] for PostgreSQL: a READ COMMITTED transaction on one pooled connection.
//!
//! Writers are serialized per workspace by [`StoreTx::lock_workspace`]'s row lock, not by a
//! database-wide lock as on SQLite: transactions of different workspaces run side by side,
//! on one node or many. READ COMMITTED is enough for the limit checks because every
//! statement after the lock sees what the transactions before it committed.
//!
//! Rollback on drop comes from sqlx's `Transaction`: dropping it uncommitted queues a
//! ROLLBACK, and the pool runs it (with a ping) as soon as the connection is returned, so a
//! dropped transaction releases its row locks at once rather than when the connection is
//! next used.

use async_trait::async_trait;
use keyward_core::model::{
    ApiKey, AuditEvent, EmailToken, Invitation, Membership, ServiceToken, Session, Timestamp, User,
    Workspace,
};
use keyward_core::secret::CredentialHash;
use keyward_core::store::{KeyCounts, StoreResult, StoreTx, Written};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::error::map_err;
use super::{accounts, audit, credentials, instance, keys, links};
use crate::store::written::WriteLog;

pub(crate) struct PgTx {
    tx: Transaction<'static, Postgres>,
    log: WriteLog,
}

impl PgTx {
    pub(crate) fn new(tx: Transaction<'static, Postgres>) -> Self {
        Self {
            tx,
            log: WriteLog::default(),
        }
    }
}

#[async_trait]
impl StoreTx for PgTx {
    async fn commit(self: Box<Self>) -> StoreResult<Written> {
        self.tx.commit().await.map_err(map_err)?;
        Ok(self.log.finish())
    }

    async fn lock_workspace(&mut self, id: Uuid) -> StoreResult<Option<Workspace>> {
        let workspace = accounts::lock_workspace(&mut *self.tx, id).await?;
        if let Some(w) = &workspace {
            self.log.read_workspace(w);
        }
        Ok(workspace)
    }

    async fn key_counts(&mut self, workspace_id: Uuid, now: Timestamp) -> StoreResult<KeyCounts> {
        keys::key_counts(&mut *self.tx, workspace_id, now).await
    }

    async fn key(&mut self, workspace_id: Uuid, id: Uuid) -> StoreResult<Option<ApiKey>> {
        keys::key(&mut *self.tx, workspace_id, id).await
    }

    async fn membership(
        &mut self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<Membership>> {
        accounts::membership(&mut *self.tx, workspace_id, user_id).await
    }

    async fn count_owners(&mut self, workspace_id: Uuid) -> StoreResult<u64> {
        accounts::count_owners(&mut *self.tx, workspace_id).await
    }

    async fn user_by_email(&mut self, email: &str) -> StoreResult<Option<User>> {
        accounts::user_by_email(&mut *self.tx, email).await
    }

    async fn insert_user(&mut self, user: &User) -> StoreResult<()> {
        accounts::insert_user(&mut *self.tx, user).await
    }

    async fn update_user(&mut self, user: &User) -> StoreResult<()> {
        accounts::update_user(&mut *self.tx, user).await
    }

    async fn insert_workspace(&mut self, workspace: &Workspace) -> StoreResult<()> {
        accounts::insert_workspace(&mut *self.tx, workspace).await
    }

    async fn update_workspace(&mut self, workspace: &Workspace) -> StoreResult<()> {
        accounts::update_workspace(&mut *self.tx, workspace).await?;
        self.log.updated_workspace(workspace);
        Ok(())
    }

    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<()> {
        accounts::insert_membership(&mut *self.tx, membership).await
    }

    async fn update_membership(&mut self, membership: &Membership) -> StoreResult<()> {
        accounts::update_membership(&mut *self.tx, membership).await
    }

    async fn delete_membership(&mut self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<()> {
        accounts::delete_membership(&mut *self.tx, workspace_id, user_id).await?;
        self.log.removed_member();
        Ok(())
    }

    async fn insert_key(&mut self, key: &ApiKey) -> StoreResult<i64> {
        let seq = keys::insert_key(&mut self.tx, key).await?;
        self.log.credential(&key.hash);
        Ok(seq)
    }

    async fn insert_keys(&mut self, keys: &[ApiKey]) -> StoreResult<()> {
        keys::insert_keys(&mut self.tx, keys).await?;
        for key in keys {
            self.log.credential(&key.hash);
        }
        Ok(())
    }

    async fn existing_key_hashes(
        &mut self,
        hashes: &[CredentialHash],
    ) -> StoreResult<Vec<CredentialHash>> {
        keys::existing_key_hashes(&mut self.tx, hashes).await
    }

    async fn update_key(&mut self, key: &ApiKey) -> StoreResult<()> {
        keys::update_key(&mut *self.tx, key).await?;
        self.log.credential(&key.hash);
        Ok(())
    }

    async fn unrevoked_keys_of_user(
        &mut self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Vec<ApiKey>> {
        keys::unrevoked_keys_of_user(&mut *self.tx, workspace_id, user_id).await
    }

    async fn insert_audit(&mut self, event: &AuditEvent) -> StoreResult<()> {
        audit::insert_audit(&mut self.tx, event).await
    }

    async fn insert_audits(&mut self, events: &[AuditEvent]) -> StoreResult<()> {
        audit::insert_audits(&mut self.tx, events).await
    }

    async fn insert_service_token(&mut self, token: &ServiceToken) -> StoreResult<()> {
        credentials::insert_service_token(&mut *self.tx, token).await?;
        self.log.credential(&token.hash);
        Ok(())
    }

    async fn update_service_token(&mut self, token: &ServiceToken) -> StoreResult<()> {
        credentials::update_service_token(&mut *self.tx, token).await?;
        self.log.credential(&token.hash);
        Ok(())
    }

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()> {
        credentials::insert_session(&mut *self.tx, session).await
    }

    async fn delete_session(&mut self, id: Uuid) -> StoreResult<()> {
        credentials::delete_session(&mut *self.tx, id).await
    }

    async fn insert_email_token(&mut self, token: &EmailToken) -> StoreResult<()> {
        links::insert_email_token(&mut *self.tx, token).await
    }

    async fn use_email_token(&mut self, id: Uuid, at: Timestamp) -> StoreResult<bool> {
        links::use_email_token(&mut *self.tx, id, at).await
    }

    async fn insert_invitation(&mut self, invitation: &Invitation) -> StoreResult<()> {
        links::insert_invitation(&mut *self.tx, invitation).await
    }

    async fn invitation(
        &mut self,
        workspace_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<Invitation>> {
        links::invitation(&mut *self.tx, workspace_id, id).await
    }

    async fn invitation_by_hash(
        &mut self,
        hash: &CredentialHash,
    ) -> StoreResult<Option<Invitation>> {
        links::invitation_by_hash(&mut *self.tx, hash).await
    }

    async fn pending_invitation(
        &mut self,
        workspace_id: Uuid,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Invitation>> {
        links::pending_invitation(&mut *self.tx, workspace_id, email, now).await
    }

    async fn update_invitation(&mut self, invitation: &Invitation) -> StoreResult<()> {
        links::update_invitation(&mut *self.tx, invitation).await
    }

    async fn pepper_fingerprint(&mut self) -> StoreResult<Option<CredentialHash>> {
        instance::pepper_fingerprint(&mut *self.tx).await
    }

    async fn insert_pepper_fingerprint(
        &mut self,
        fingerprint: &CredentialHash,
        at: Timestamp,
    ) -> StoreResult<()> {
        instance::insert_pepper_fingerprint(&mut *self.tx, fingerprint, at).await
    }
}
