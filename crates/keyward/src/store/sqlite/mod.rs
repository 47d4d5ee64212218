//! The SQLite backend, keyward's default store: one database file in WAL mode.
//!
//! Concurrency: SQLite allows one writer at a time, so writes go through a pool of exactly
//! one connection and every write transaction starts with `BEGIN IMMEDIATE`. Two requests
//! that both check a key limit and then insert therefore run one after the other, never
//! interleaved, which is what keeps "never one key over" true under concurrency (PRODUCT.md
//! §5). Reads use a separate pool of read-only connections; in WAL mode they see the last
//! committed state and never wait for the writer.

mod accounts;
mod audit;
mod changes;
mod credentials;
mod error;
mod instance;
mod keys;
mod links;
mod lookup;
mod rows;
mod tx;

use std::path::{Path, PathBuf};
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
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Connection;
use uuid::Uuid;

use self::error::map_err;
use self::lookup::{Attempt, Lookup};
use self::tx::SqliteTx;
use crate::private_files;

/// How long a statement waits for a lock held by another process (e.g. the admin CLI while
/// the server runs) before it gives up with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection; writers queue here for their turn.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Readers run in parallel in WAL mode; a few connections cover a small server's 2–4 cores.
const READ_CONNECTIONS: u32 = 4;
/// The page cache of the one write connection, in SQLite's notation (negative: KiB): 64 MiB.
/// SQLite's default of 2 MiB cannot hold what one batch of an import dirties (the hash index
/// is in random order, so a batch touches most of its pages): the pages spill to the WAL
/// mid-transaction and are read back through the OS, and that cost a 100,000-key import
/// 1.5 s of its 8. The cache grows only as pages are used, so a small instance pays nothing
/// for the bound.
const WRITE_CACHE_SIZE: &str = "-65536";
/// The statement that opens every write transaction. IMMEDIATE takes the write lock at once
/// instead of at the first write, so the limit checks a transaction reads cannot be made
/// stale by another writer before it inserts.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Connection options for a `sqlite:` URL; in-memory databases are refused.
fn url_options(url: &str) -> StoreResult<SqliteConnectOptions> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::Unavailable(
            "in-memory SQLite databases are not supported; give a file path".into(),
        ));
    }
    SqliteConnectOptions::from_str(url).map_err(map_err)
}

/// Creates the database file with mode 0600 before SQLite opens it (SQLite would use 0644,
/// and gives the WAL and shared-memory files the database file's mode), and narrows the
/// three files of an existing database that are more open than that.
fn make_private(path: &Path, create: bool) -> StoreResult<()> {
    if create {
        private_files::create_file(path).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {}", path.display(), e.kind()))
        })?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        private_files::tighten(Path::new(&file), private_files::FILE_MODE);
    }
    Ok(())
}

/// keyward's SQLite store. Cheap to clone: both pools are shared handles.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: SQLite has one writer, and queueing for it here rather than
    /// on the file lock keeps writers in arrival order without busy-waiting.
    write: SqlitePool,
    /// Read-only connections for everything that needs no transaction.
    read: SqlitePool,
    /// The verification lookup's own read-only connections, used on the calling thread.
    lookup: Arc<Lookup>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path`.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        Self::open_with(SqliteConnectOptions::new().filename(path), true).await
    }

    /// Opens a database from a `sqlite://path` or `sqlite:path` URL, creating the file if
    /// missing. In-memory databases are refused: the read pool could not see them.
    pub async fn open_url(url: &str) -> StoreResult<SqliteStore> {
        Self::open_with(url_options(url)?, true).await
    }

    /// Like [`SqliteStore::open_url`], but fails instead of creating a missing file: for
    /// commands that only read or change data, which must never leave an empty database
    /// behind where a mistyped `--data-dir` pointed.
    pub async fn open_existing_url(url: &str) -> StoreResult<SqliteStore> {
        Self::open_with(url_options(url)?, false).await
    }

    /// The file a `sqlite:` URL names, so callers can tell "no database yet" apart from
    /// "cannot open it".
    pub fn database_path(url: &str) -> StoreResult<PathBuf> {
        Ok(url_options(url)?.get_filename().to_path_buf())
    }

    async fn open_with(base: SqliteConnectOptions, create: bool) -> StoreResult<SqliteStore> {
        make_private(base.get_filename(), create)?;
        let path = base.get_filename().to_path_buf();
        let base = base.foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        let write_options = base
            .clone()
            .create_if_missing(create)
            // WAL lets readers proceed while the single writer commits.
            .journal_mode(SqliteJournalMode::Wal)
            // FULL fsyncs the WAL at every commit. NORMAL (the usual WAL pairing) survives
            // kill -9 but can lose the last commits on power loss or an OS crash, and a
            // 2xx promises that the write is durable (PRODUCT.md §8).
            .synchronous(SqliteSynchronous::Full)
            .pragma("cache_size", WRITE_CACHE_SIZE);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            // Keep the writer open for the life of the store: it holds the WAL index, so
            // read-only connections always find one to attach to.
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    // A transaction dropped without commit queues its ROLLBACK on the
                    // connection; the ping waits for the queue to drain. Should the
                    // connection still be inside a transaction, close it rather than hand
                    // the only writer, stuck mid-transaction, to the next request.
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(write_options)
            .await
            .map_err(map_err)?;
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // Read-only at the SQLite level, so a read path can never write by mistake.
            .connect_with(base.read_only(true))
            .await
            .map_err(map_err)?;
        let lookup = Arc::new(Lookup::new(&path));
        Ok(SqliteStore {
            write,
            read,
            lookup,
        })
    }

    /// Closes both pools, waiting for connections in use to be returned. For graceful
    /// shutdown; the last connection to close checkpoints the WAL into the database file.
    pub async fn close(&self) {
        self.lookup.close();
        self.read.close().await;
        self.write.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.write)
            .await
            .map_err(|e| map_err(sqlx::Error::Migrate(Box::new(e))))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        let tx = self.write.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
        Ok(Box::new(SqliteTx::new(tx)))
    }

    async fn count_users(&self) -> StoreResult<u64> {
        accounts::count_users(&self.read).await
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        accounts::user_by_id(&self.read, id).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        accounts::user_by_email(&self.read, email).await
    }

    async fn list_users(&self, after: Option<Cursor>, limit: u32) -> StoreResult<Vec<User>> {
        accounts::list_users(&self.read, after, limit).await
    }

    async fn workspace(&self, id: Uuid) -> StoreResult<Option<Workspace>> {
        accounts::workspace(&self.read, id).await
    }

    async fn list_workspaces(
        &self,
        after: Option<Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>> {
        accounts::list_workspaces(&self.read, after, limit).await
    }

    async fn workspaces_of_user(&self, user_id: Uuid) -> StoreResult<Vec<(Workspace, Role)>> {
        accounts::workspaces_of_user(&self.read, user_id).await
    }

    async fn membership(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<Membership>> {
        accounts::membership(&self.read, workspace_id, user_id).await
    }

    async fn members(&self, workspace_id: Uuid) -> StoreResult<Vec<Member>> {
        accounts::members(&self.read, workspace_id).await
    }

    async fn key_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<KeyLookup>> {
        match self.lookup.key_by_hash(hash) {
            Attempt::Done(found) => found,
            Attempt::Busy => keys::key_by_hash(&self.read, hash).await,
        }
    }

    async fn imported_keys_exist(&self) -> StoreResult<bool> {
        keys::imported_keys_exist(&self.read).await
    }

    async fn key(&self, workspace_id: Uuid, id: Uuid) -> StoreResult<Option<ApiKey>> {
        keys::key(&self.read, workspace_id, id).await
    }

    async fn key_by_seq(&self, workspace_id: Uuid, seq: i64) -> StoreResult<Option<ApiKey>> {
        keys::key_by_seq(&self.read, workspace_id, seq).await
    }

    async fn key_by_id(&self, id: Uuid) -> StoreResult<Option<ApiKey>> {
        keys::key_by_id(&self.read, id).await
    }

    async fn list_keys(&self, workspace_id: Uuid, query: &KeyQuery) -> StoreResult<Vec<ApiKey>> {
        keys::list_keys(&self.read, workspace_id, query).await
    }

    async fn record_key_use(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        // One transaction for the whole batch: one fsync instead of one per key.
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
        keys::record_key_use(&mut tx, uses).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_audit(
        &self,
        workspace_id: Uuid,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditEvent>> {
        audit::list_audit(&self.read, workspace_id, query).await
    }

    async fn service_token_by_hash(
        &self,
        hash: &CredentialHash,
    ) -> StoreResult<Option<ServiceToken>> {
        credentials::service_token_by_hash(&self.read, hash).await
    }

    async fn session_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<Session>> {
        credentials::session_by_hash(&self.read, hash).await
    }

    async fn touch_session(&self, id: Uuid, at: Timestamp) -> StoreResult<()> {
        credentials::touch_session(&self.write, id, at).await
    }

    async fn email_token_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<EmailToken>> {
        links::email_token_by_hash(&self.read, hash).await
    }

    async fn invitation_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<Invitation>> {
        links::invitation_by_hash(&self.read, hash).await
    }

    async fn pending_invitations(
        &self,
        workspace_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>> {
        links::pending_invitations(&self.read, workspace_id, now).await
    }

    async fn service_tokens(&self) -> StoreResult<Vec<ServiceToken>> {
        credentials::service_tokens(&self.read).await
    }

    async fn record_service_token_use(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        // One transaction for the whole batch, as for keys.
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
        credentials::record_service_token_use(&mut tx, uses).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn pepper_fingerprint(&self) -> StoreResult<Option<CredentialHash>> {
        instance::pepper_fingerprint(&self.read).await
    }

    async fn latest_key_change(&self) -> StoreResult<i64> {
        changes::latest_key_change(&self.read).await
    }

    async fn key_changes_since(&self, after: i64, limit: u32) -> StoreResult<Vec<KeyChange>> {
        changes::key_changes_since(&self.read, after, limit).await
    }

    async fn prune_key_changes(&self, before: Timestamp) -> StoreResult<u64> {
        changes::prune_key_changes(&self.write, before).await
    }

    async fn change_feed(&self) -> StoreResult<ChangeFeed> {
        // Another process's commit cannot be announced through SQLite: servers read the
        // key-change log the triggers of migrations 0007 and 0008 fill.
        Ok(ChangeFeed::Poll)
    }
}
