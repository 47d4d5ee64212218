//! The PostgreSQL backend: for several `keyward serve` nodes sharing one database
//! (PRODUCT.md §8).
//!
//! Concurrency: there is no database-wide write lock as on SQLite. A write transaction that
//! checks a limit first takes the workspace's row lock (`lock_workspace`, `SELECT … FOR
//! UPDATE`), so the check and the insert of two transactions on one workspace run one after
//! the other, whichever nodes they run on, while other workspaces' writers proceed.
//!
//! Cache freshness: instead of SQLite's key-change log, triggers send a notification on the
//! channel `keyward_key_changes` in the writing transaction, which PostgreSQL delivers to
//! every listening node when (and only if) it commits; see `migrations/postgres`.

mod accounts;
mod audit;
mod credentials;
mod error;
mod feed;
mod instance;
mod keys;
mod links;
mod rows;
mod tx;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keyward_core::model::{
    ApiKey, AuditEvent, EmailToken, Invitation, Member, Membership, Role, ServiceToken, Session,
    Timestamp, User, Workspace,
};
use keyward_core::secret::CredentialHash;
use keyward_core::store::{
    AuditQuery, ChangeFeed, Cursor, KeyChange, KeyLookup, KeyQuery, Store, StoreError, StoreResult,
    StoreTx,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use uuid::Uuid;

use self::error::map_err;
use self::feed::{Health, PgChangeStream};
use self::tx::PgTx;

/// The channel the triggers of `migrations/postgres` notify on. Each payload is the
/// lower-case hex of a written key's or service token's hash, or `*` when something that
/// decides what every key may do changed (a workspace's policy or plan, a membership).
pub const KEY_CHANGES_CHANNEL: &str = "keyward_key_changes";

/// Connections per node. PostgreSQL's default `max_connections` is 100, shared by every node
/// and by operators' tools; 10 each leaves room for several nodes. A request holds one for a
/// round trip or a short transaction, so 10 serve far more concurrent requests than that.
const MAX_CONNECTIONS: u32 = 10;
/// How long a request waits for a pooled connection, including opening a new one: sqlx
/// applies this deadline to connecting too (retrying a refused connection until then), which
/// is what bounds connecting, since sqlx's PostgreSQL options have no connect timeout of
/// their own. Short, because callers fail closed with 503 and verification falls back on
/// its cache's grace period rather than queueing behind an unreachable database.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections beyond the first are closed after this, so a node that was busy once
/// does not hold connections the other nodes may need.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Connections are replaced after this, so that server-side memory a long-lived backend
/// accumulates is returned and a failover behind a proxy is picked up eventually.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The server aborts a statement after this (`statement_timeout`): a runaway query must not
/// hold a connection for ever. Every statement keyward sends is an index probe or a batch of
/// at most a thousand rows. Migrations run without it, on a connection of their own.
const STATEMENT_TIMEOUT: &str = "30s";
/// How long a statement waits for a row lock (`lock_timeout`), e.g. `lock_workspace` behind
/// another node's transaction on the same workspace. As long as the SQLite backend lets a
/// writer queue for its turn; after that the request fails with 503 instead of piling up.
const LOCK_TIMEOUT: &str = "10s";
/// The server ends a session whose transaction sits idle this long
/// (`idle_in_transaction_session_timeout`): a transaction left open by a stuck task would
/// otherwise keep its workspace locked against every node.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";
/// Shown in `pg_stat_activity`, so an operator can tell keyward's connections apart, unless
/// the URL names one (`?application_name=keyward-node-1`), which tells nodes apart too.
const APPLICATION_NAME: &str = "keyward";
/// How long `/readyz` waits for the database to answer.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// keyward's PostgreSQL store. Cheap to clone: the pool is a shared handle.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// This process's name in its sessions' `keyward.node`, which the notifications of its
    /// writes carry.
    node: String,
    /// Whether the change feed hears the database; see [`feed::Health`].
    health: Arc<Health>,
    /// The URL's options without the per-session timeouts, for migrations. Holds the password,
    /// which is why `Debug` below leaves it out.
    migrate_options: PgConnectOptions,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("host", &self.migrate_options.get_host())
            .field("database", &self.migrate_options.get_database())
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to a `postgres://` (or `postgresql://`) URL. One connection is opened at once,
    /// so an unreachable server, a wrong password or a missing database fails here.
    pub async fn open_url(url: &str) -> StoreResult<PostgresStore> {
        let mut base = PgConnectOptions::from_str(url).map_err(map_err)?;
        if base.get_application_name().is_none() {
            base = base.application_name(APPLICATION_NAME);
        }
        // Names this process in the notifications of its writes (see feed.rs).
        let node = uuid::Uuid::now_v7().simple().to_string();
        let pooled = base.clone().options([
            ("keyward.node", node.as_str()),
            ("statement_timeout", STATEMENT_TIMEOUT),
            ("lock_timeout", LOCK_TIMEOUT),
            (
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_TIMEOUT,
            ),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(IDLE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .connect_with(pooled)
            .await
            .map_err(map_err)?;
        Ok(PostgresStore {
            pool,
            node,
            health: Arc::default(),
            migrate_options: base,
        })
    }

    /// Closes the pool: at once for new requests (before the future is first polled), and,
    /// awaited, waits for connections in use to be returned and closes them. For graceful
    /// shutdown.
    pub fn close(&self) -> impl Future<Output = ()> + '_ {
        self.pool.close()
    }
}

#[async_trait]
impl Store for PostgresStore {
    /// Runs on a connection of its own, without the pool's statement and lock timeouts: a
    /// migration may rightly wait for another node's (see below) or take long on a big table.
    ///
    /// Several nodes may start at once: sqlx's PostgreSQL migrator takes a session-level
    /// advisory lock (`pg_advisory_lock`, keyed by the database name) before it creates its
    /// `_sqlx_migrations` table or reads which migrations are applied, and releases it after
    /// (sqlx-postgres 0.8 `migrate.rs`, `lock`; sqlx-core `Migrator::run_direct`). A second
    /// node therefore waits, then finds every migration applied and does nothing.
    async fn migrate(&self) -> StoreResult<()> {
        // A pool of one rather than a bare connection: `Migrator::run` takes a pool (its
        // connection form trips a lifetime bound inside an async-trait method).
        let conn = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(self.migrate_options.clone())
            .await
            .map_err(map_err)?;
        let ran = sqlx::migrate!("./migrations/postgres")
            .run(&conn)
            .await
            .map_err(|e| map_err(sqlx::Error::Migrate(Box::new(e))));
        // Closing ends the session, which releases the advisory lock even if a migration
        // failed half-way and sqlx did not unlock.
        conn.close().await;
        ran
    }

    async fn ping(&self) -> StoreResult<()> {
        let lost = self.health.lost();
        self.fail_fast()?;
        tokio::select! {
            answer = tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&self.pool)) => {
                answer
                    .map_err(|_| StoreError::Unavailable("the database did not answer in time".into()))?
                    .map_err(map_err)?;
                Ok(())
            }
            () = lost => self.fail_fast(),
        }
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        let tx = self.pool.begin().await.map_err(map_err)?;
        Ok(Box::new(PgTx::new(tx)))
    }

    async fn count_users(&self) -> StoreResult<u64> {
        accounts::count_users(&self.pool).await
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        accounts::user_by_id(&self.pool, id).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        accounts::user_by_email(&self.pool, email).await
    }

    async fn list_users(&self, after: Option<Cursor>, limit: u32) -> StoreResult<Vec<User>> {
        accounts::list_users(&self.pool, after, limit).await
    }

    async fn workspace(&self, id: Uuid) -> StoreResult<Option<Workspace>> {
        accounts::workspace(&self.pool, id).await
    }

    async fn list_workspaces(
        &self,
        after: Option<Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>> {
        accounts::list_workspaces(&self.pool, after, limit).await
    }

    async fn workspaces_of_user(&self, user_id: Uuid) -> StoreResult<Vec<(Workspace, Role)>> {
        accounts::workspaces_of_user(&self.pool, user_id).await
    }

    async fn membership(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<Membership>> {
        accounts::membership(&self.pool, workspace_id, user_id).await
    }

    async fn members(&self, workspace_id: Uuid) -> StoreResult<Vec<Member>> {
        accounts::members(&self.pool, workspace_id).await
    }

    async fn key_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<KeyLookup>> {
        self.fail_fast()?;
        keys::key_by_hash(&self.pool, hash).await
    }

    async fn imported_keys_exist(&self) -> StoreResult<bool> {
        keys::imported_keys_exist(&self.pool).await
    }

    async fn key(&self, workspace_id: Uuid, id: Uuid) -> StoreResult<Option<ApiKey>> {
        keys::key(&self.pool, workspace_id, id).await
    }

    async fn key_by_seq(&self, workspace_id: Uuid, seq: i64) -> StoreResult<Option<ApiKey>> {
        keys::key_by_seq(&self.pool, workspace_id, seq).await
    }

    async fn key_by_id(&self, id: Uuid) -> StoreResult<Option<ApiKey>> {
        keys::key_by_id(&self.pool, id).await
    }

    async fn list_keys(&self, workspace_id: Uuid, query: &KeyQuery) -> StoreResult<Vec<ApiKey>> {
        keys::list_keys(&self.pool, workspace_id, query).await
    }

    async fn record_key_use(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        keys::record_key_use(&self.pool, uses).await
    }

    async fn list_audit(
        &self,
        workspace_id: Uuid,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditEvent>> {
        audit::list_audit(&self.pool, workspace_id, query).await
    }

    async fn service_token_by_hash(
        &self,
        hash: &CredentialHash,
    ) -> StoreResult<Option<ServiceToken>> {
        self.fail_fast()?;
        credentials::service_token_by_hash(&self.pool, hash).await
    }

    async fn session_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<Session>> {
        credentials::session_by_hash(&self.pool, hash).await
    }

    async fn touch_session(&self, id: Uuid, at: Timestamp) -> StoreResult<()> {
        credentials::touch_session(&self.pool, id, at).await
    }

    async fn email_token_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<EmailToken>> {
        links::email_token_by_hash(&self.pool, hash).await
    }

    async fn invitation_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<Invitation>> {
        links::invitation_by_hash(&self.pool, hash).await
    }

    async fn pending_invitations(
        &self,
        workspace_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>> {
        links::pending_invitations(&self.pool, workspace_id, now).await
    }

    async fn service_tokens(&self) -> StoreResult<Vec<ServiceToken>> {
        credentials::service_tokens(&self.pool).await
    }

    async fn record_service_token_use(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        credentials::record_service_token_use(&self.pool, uses).await
    }

    async fn pepper_fingerprint(&self) -> StoreResult<Option<CredentialHash>> {
        instance::pepper_fingerprint(&self.pool).await
    }

    // The key-change log does not exist on PostgreSQL: notifications on
    // KEY_CHANGES_CHANNEL replace it. A log's ids would come from a sequence, which assigns
    // them at insert, not at commit, so a poller reading "after the last id I saw" would skip
    // an entry whose transaction committed after a later-numbered one. NOTIFY is delivered at
    // commit, in commit order, and never for a rolled-back transaction.

    /// Always 0: notifications replace the key-change log on this backend.
    async fn latest_key_change(&self) -> StoreResult<i64> {
        Ok(0)
    }

    /// Always empty: notifications replace the key-change log on this backend.
    async fn key_changes_since(&self, _after: i64, _limit: u32) -> StoreResult<Vec<KeyChange>> {
        Ok(Vec::new())
    }

    /// Always 0: notifications replace the key-change log on this backend, so there is
    /// nothing to prune.
    async fn prune_key_changes(&self, _before: Timestamp) -> StoreResult<u64> {
        Ok(0)
    }

    async fn change_feed(&self) -> StoreResult<ChangeFeed> {
        let stream =
            PgChangeStream::start(self.pool.clone(), self.node.clone(), self.health.clone())
                .await
                .map_err(map_err)?;
        Ok(ChangeFeed::Push(Box::new(stream)))
    }
}

impl PostgresStore {
    /// The verification lookups and `/readyz` answer at once while the change feed cannot
    /// hear the database, instead of each waiting [`ACQUIRE_TIMEOUT`] for a connection.
    fn fail_fast(&self) -> StoreResult<()> {
        if self.health.is_down() {
            return Err(StoreError::Unavailable(
                "the database is unreachable (the change feed is reconnecting)".into(),
            ));
        }
        Ok(())
    }
}
