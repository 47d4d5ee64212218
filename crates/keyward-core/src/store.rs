//! The storage trait the domain owns. One implementation per backend (SQLite now, PostgreSQL
//! later); both must pass the same contract tests.
//!
//! Reads that need no consistency with a write go through [`Store`]. Every change goes
//! through a [`StoreTx`] from [`Store::begin`], so that limit checks, the write and its audit
//! event commit together or not at all. The rules (limits, roles, escalation) live in the
//! service layer; a store only keeps rows and serializes writers.

use async_trait::async_trait;
use uuid::Uuid;

use crate::model::{
    ApiKey, AuditEvent, EmailToken, Invitation, KeyStatus, Member, Membership, Role, ServiceToken,
    Session, Timestamp, User, Workspace,
};
use crate::secret::CredentialHash;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached; callers fail closed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database chose this transaction as the loser of a deadlock or a serialization
    /// conflict and rolled it back. Running the whole transaction again is safe and will
    /// likely succeed; the service layer does so before giving up.
    #[error("transaction rolled back by a conflicting one: {0}")]
    Contended(String),
    /// A unique constraint refused the write (an email, a membership, a second rotation).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A position in a newest-first listing: the `(created_at, id)` of the last row returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: Timestamp,
    pub id: Uuid,
}

/// Filters and page of a key listing. Rows come newest first, by `(created_at, id)` descending;
/// deleted keys never appear.
#[derive(Debug, Clone)]
pub struct KeyQuery {
    pub status: Option<KeyStatus>,
    pub created_by: Option<Uuid>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only rows strictly after this position in the ordering.
    pub after: Option<Cursor>,
    pub limit: u32,
    /// The instant that decides `expired` for the status filter.
    pub now: Timestamp,
}

/// Filters and page of an audit listing, newest first by `(at, id)` descending.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub target_id: Option<Uuid>,
    /// Only events about this user and its own keys: the target is the user or a key it
    /// created, or the actor is the user or one of its keys. For members limited to their
    /// own keys, who must not learn about anyone else's through the log.
    pub concerning_user: Option<Uuid>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// A key found by its hash, with the two facts about its workspace that decide, at use
/// time, what it may do (PRODUCT.md §3): whether its creator is still a member, and the
/// workspace's `members_can_create_keys`. One lookup brings all three, so the verifier
/// still makes one round trip.
#[derive(Debug, Clone)]
pub struct KeyLookup {
    pub key: ApiKey,
    pub creator_is_member: bool,
    pub members_can_create_keys: bool,
}

/// One entry of the key-change log: a key whose hash is `hash` was written, or, with no
/// hash, something that decides what every key may do changed (a workspace's policy or
/// plan, a membership). A backend whose change feed is [`ChangeFeed::Poll`] writes it in
/// the same transaction as the change, whichever process makes it, so each node's
/// verification cache can follow; one that pushes changes instead keeps no log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyChange {
    /// Increasing, never reused.
    pub id: i64,
    pub hash: Option<CredentialHash>,
}

/// What a committed transaction wrote that a verification cache may hold. The writing node
/// applies it to its own cache before it acknowledges the write, on every backend; other
/// processes learn of the same write from [`Store::change_feed`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Keys and service tokens written, by hash.
    pub hashes: Vec<CredentialHash>,
    /// Something that decides what every key may do changed: a workspace's policy or plan,
    /// or a membership was removed.
    pub everything: bool,
}

/// How a server learns of writes committed by other processes (the admin CLI, other nodes).
pub enum ChangeFeed {
    /// Read the key-change log ([`Store::key_changes_since`]) on a timer: SQLite, where a
    /// commit cannot be announced to another process.
    Poll,
    /// The database pushes each change as it commits: PostgreSQL's `LISTEN/NOTIFY`.
    Push(Box<dyn ChangeStream>),
}

/// What a pushed change feed says next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEvent {
    /// A key or service token with this hash was written, or with `None`, something that
    /// decides what every key may do.
    Changed(Option<CredentialHash>),
    /// The feed's connection dropped: changes may be missed until [`ChangeEvent::Listening`].
    /// The reason names the error class, never a value.
    Lost(String),
    /// Listening again after a loss: anything committed while the feed was down is only in
    /// the database.
    Listening,
}

/// A pushed change feed. It reconnects by itself, with backoff, after a loss.
#[async_trait]
pub trait ChangeStream: Send {
    async fn next(&mut self) -> ChangeEvent;
}

/// Keys of a workspace that count toward its limits (deleted keys never count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCounts {
    /// Not revoked and not expired at `now`; and not the old key of a rotation whose
    /// successor (`rotated_to`) is itself active: a key in its grace period does not count
    /// toward the plan while the key that replaced it does.
    pub active: u64,
    /// Active, revoked and expired.
    pub total: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations; safe to call on every start.
    async fn migrate(&self) -> StoreResult<()>;
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;
    /// Starts a write transaction. Writers are serialized per workspace at least.
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;

    async fn count_users(&self) -> StoreResult<u64>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// `email` is already lower-cased.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Every user of the instance, oldest first by `(created_at, id)`, only rows strictly
    /// after `after`; for the operator's `admin user list`.
    async fn list_users(&self, after: Option<Cursor>, limit: u32) -> StoreResult<Vec<User>>;

    async fn workspace(&self, id: Uuid) -> StoreResult<Option<Workspace>>;
    /// Every workspace of the instance, ordered and paged like [`Store::list_users`].
    async fn list_workspaces(
        &self,
        after: Option<Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>>;
    /// The workspaces a user belongs to, with the user's role, oldest first.
    async fn workspaces_of_user(&self, user_id: Uuid) -> StoreResult<Vec<(Workspace, Role)>>;
    async fn membership(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<Membership>>;
    /// Members with their users, oldest membership first.
    async fn members(&self, workspace_id: Uuid) -> StoreResult<Vec<Member>>;

    /// The verification lookup, through the unique index on the hash. Returns deleted keys
    /// too, of either source; the caller decides what they mean.
    async fn key_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<KeyLookup>>;
    /// Whether any imported key exists, deleted ones included. The verifier polls it every few
    /// seconds, so it must be an index probe, not a scan.
    async fn imported_keys_exist(&self) -> StoreResult<bool>;
    /// A key of a workspace that is not deleted.
    async fn key(&self, workspace_id: Uuid, id: Uuid) -> StoreResult<Option<ApiKey>>;
    /// A key of a workspace that is not deleted, by its sequence number.
    async fn key_by_seq(&self, workspace_id: Uuid, seq: i64) -> StoreResult<Option<ApiKey>>;
    /// A key that is not deleted, in whatever workspace: for the operator's CLI only, which
    /// knows a key id but not always its workspace.
    async fn key_by_id(&self, id: Uuid) -> StoreResult<Option<ApiKey>>;
    async fn list_keys(&self, workspace_id: Uuid, query: &KeyQuery) -> StoreResult<Vec<ApiKey>>;
    /// Moves `last_used_at` forward (never back) for each key, in one batch.
    async fn record_key_use(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()>;

    async fn list_audit(
        &self,
        workspace_id: Uuid,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditEvent>>;

    async fn service_token_by_hash(
        &self,
        hash: &CredentialHash,
    ) -> StoreResult<Option<ServiceToken>>;
    async fn session_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<Session>>;
    /// Moves a session's `last_seen_at` forward, for its idle timeout.
    async fn touch_session(&self, id: Uuid, at: Timestamp) -> StoreResult<()>;
    /// An email verification link by its token's hash, used or not.
    async fn email_token_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<EmailToken>>;
    /// An invitation by its token's hash, whatever its state.
    async fn invitation_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<Invitation>>;
    /// A workspace's invitations that are still pending at `now`, oldest first.
    async fn pending_invitations(
        &self,
        workspace_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>>;
    /// Every service token, revoked ones included, oldest first. An instance has a handful.
    async fn service_tokens(&self) -> StoreResult<Vec<ServiceToken>>;
    /// Moves `last_used_at` forward (never back) for each service token, in one batch.
    async fn record_service_token_use(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()>;

    /// The recorded fingerprint of the pepper the stored hashes were made with, if any.
    async fn pepper_fingerprint(&self) -> StoreResult<Option<CredentialHash>>;

    /// The id of the newest key-change log entry, or 0 when there is none.
    async fn latest_key_change(&self) -> StoreResult<i64>;
    /// Key-change log entries after `after`, oldest first, at most `limit`.
    async fn key_changes_since(&self, after: i64, limit: u32) -> StoreResult<Vec<KeyChange>>;
    /// Drops key-change log entries older than `before`; returns how many.
    async fn prune_key_changes(&self, before: Timestamp) -> StoreResult<u64>;
    /// How a server follows other processes' writes; called once when it starts.
    async fn change_feed(&self) -> StoreResult<ChangeFeed>;
}

/// One write transaction. Dropping it without [`StoreTx::commit`] rolls it back.
#[async_trait]
pub trait StoreTx: Send {
    /// Commits, and says what the transaction wrote that a verification cache may hold.
    async fn commit(self: Box<Self>) -> StoreResult<Written>;

    /// Reads the workspace and, on backends with row locks, locks it until commit, so that
    /// limit checks and inserts of concurrent transactions on one workspace do not interleave.
    async fn lock_workspace(&mut self, id: Uuid) -> StoreResult<Option<Workspace>>;
    async fn key_counts(&mut self, workspace_id: Uuid, now: Timestamp) -> StoreResult<KeyCounts>;
    /// A key of a workspace that is not deleted, as this transaction sees it.
    async fn key(&mut self, workspace_id: Uuid, id: Uuid) -> StoreResult<Option<ApiKey>>;
    async fn membership(
        &mut self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<Membership>>;
    async fn count_owners(&mut self, workspace_id: Uuid) -> StoreResult<u64>;
    async fn user_by_email(&mut self, email: &str) -> StoreResult<Option<User>>;

    /// `Conflict` when the email is taken.
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    /// Writes name, password_hash and email_verified_at; the email and id never change.
    async fn update_user(&mut self, user: &User) -> StoreResult<()>;
    async fn insert_workspace(&mut self, workspace: &Workspace) -> StoreResult<()>;
    /// Writes name, plan, key_prefix, key_format, members_can_create_keys and updated_at.
    async fn update_workspace(&mut self, workspace: &Workspace) -> StoreResult<()>;
    /// `Conflict` when the user is already a member.
    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<()>;
    /// Writes role and scopes.
    async fn update_membership(&mut self, membership: &Membership) -> StoreResult<()>;
    async fn delete_membership(&mut self, workspace_id: Uuid, user_id: Uuid) -> StoreResult<()>;

    /// `Conflict` when the hash is taken or `rotated_from` already has a successor. Returns the
    /// key's sequence number, which the store assigns (the key's own `seq` is ignored).
    async fn insert_key(&mut self, key: &ApiKey) -> StoreResult<i64>;
    /// Inserts many keys at once, for imports, each with the next sequence number; `Conflict`
    /// (and nothing inserted by this call once the transaction is dropped) when any hash is
    /// taken.
    async fn insert_keys(&mut self, keys: &[ApiKey]) -> StoreResult<()>;
    /// Which of `hashes` a key already has, deleted keys included, as this transaction sees
    /// it: how an import tells a row it has already imported.
    async fn existing_key_hashes(
        &mut self,
        hashes: &[CredentialHash],
    ) -> StoreResult<Vec<CredentialHash>>;
    /// Writes name, scopes, expires_at, metadata, revoked_at, deleted_at, rotated_to and
    /// updated_at.
    async fn update_key(&mut self, key: &ApiKey) -> StoreResult<()>;
    /// Keys of `user_id` in the workspace that are neither revoked nor deleted.
    async fn unrevoked_keys_of_user(
        &mut self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Vec<ApiKey>>;

    async fn insert_audit(&mut self, event: &AuditEvent) -> StoreResult<()>;
    /// Inserts many events at once, for imports.
    async fn insert_audits(&mut self, events: &[AuditEvent]) -> StoreResult<()>;
    /// `Conflict` when the name or the hash is taken.
    async fn insert_service_token(&mut self, token: &ServiceToken) -> StoreResult<()>;
    /// Writes name and revoked_at; `Conflict` when the name is taken.
    async fn update_service_token(&mut self, token: &ServiceToken) -> StoreResult<()>;
    async fn insert_session(&mut self, session: &Session) -> StoreResult<()>;
    async fn delete_session(&mut self, id: Uuid) -> StoreResult<()>;

    async fn insert_email_token(&mut self, token: &EmailToken) -> StoreResult<()>;
    /// Marks a link used, once: `false` when it already was, so two racing uses cannot both
    /// succeed.
    async fn use_email_token(&mut self, id: Uuid, at: Timestamp) -> StoreResult<bool>;
    async fn insert_invitation(&mut self, invitation: &Invitation) -> StoreResult<()>;
    /// An invitation of a workspace, whatever its state, as this transaction sees it.
    async fn invitation(&mut self, workspace_id: Uuid, id: Uuid)
        -> StoreResult<Option<Invitation>>;
    /// An invitation by its token's hash, as this transaction sees it.
    async fn invitation_by_hash(
        &mut self,
        hash: &CredentialHash,
    ) -> StoreResult<Option<Invitation>>;
    /// The workspace's invitation of this email that is pending at `now`, if any.
    async fn pending_invitation(
        &mut self,
        workspace_id: Uuid,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Invitation>>;
    /// Writes accepted_at and withdrawn_at.
    async fn update_invitation(&mut self, invitation: &Invitation) -> StoreResult<()>;

    /// The recorded pepper fingerprint, as this transaction sees it.
    async fn pepper_fingerprint(&mut self) -> StoreResult<Option<CredentialHash>>;
    /// Records the pepper fingerprint; `Conflict` when one is recorded already (it is never
    /// replaced: a different pepper means a different instance).
    async fn insert_pepper_fingerprint(
        &mut self,
        fingerprint: &CredentialHash,
        at: Timestamp,
    ) -> StoreResult<()>;
}
