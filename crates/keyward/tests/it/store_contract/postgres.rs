//! The PostgreSQL backend: how the contract suite opens it, plus what only PostgreSQL has
//! (migrations racing from several nodes, row locks per workspace, and notifications in place
//! of the key-change log).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use keyward::store::postgres::{PostgresStore, KEY_CHANGES_CHANNEL};
use keyward_core::model::{new_id, now, ServiceToken};
use keyward_core::secret::CredentialHash;
use keyward_core::store::Store;
use sqlx::postgres::PgListener;

use super::fixtures::{insert_keys, key, owner_and_workspace, random_hash, update_keys, Db};
use crate::support::postgres::{empty_database, fresh_database, TestDatabase};

/// Keeps a test's database for as long as the test runs. Dropping it closes the store's
/// pool and then drops the database (the next field), which ends any session still open.
struct Guard {
    store: PostgresStore,
    _database: TestDatabase,
}

/// How long a guard waits for the pool to close. Closing first spares `DROP DATABASE … WITH
/// (FORCE)` its wait for the sessions it ends (it polls them every 100 ms), about a tenth of
/// a second per test; a pool that does not close in time (a failing test may still hold a
/// connection) is left to FORCE.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl Drop for Guard {
    /// Drop cannot await, so the close runs on a thread of its own with its own runtime. The
    /// pool's connections belong to the test's runtime, which keeps running them meanwhile:
    /// the contract tests run on multi-threaded runtimes, whose workers are free while the
    /// test's thread waits here.
    fn drop(&mut self) {
        let store = self.store.clone();
        let closed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(async { tokio::time::timeout(CLOSE_WAIT, store.close()).await })
                .map_err(|_| "the pool did not close in time".to_owned())
        })
        .join();
        if !matches!(closed, Ok(Ok(()))) {
            // `close` marked the pool closed when it was called; the drop ends the rest.
            eprintln!("a test's PostgreSQL pool did not close cleanly");
        }
    }
}

/// A migrated store on a new database of its own (the guard drops it).
pub async fn fresh() -> (Db, Box<dyn Any + Send>) {
    let (url, database) = fresh_database().await;
    let store = PostgresStore::open_url(&url).await.unwrap();
    store.migrate().await.unwrap();
    let guard = Guard {
        store: store.clone(),
        _database: database,
    };
    (Arc::new(store), Box::new(guard))
}

/// A migrated store on a new database, with the database's URL for connections of a test's
/// own (a listener, an observer), and the guard.
async fn open() -> (PostgresStore, String, Guard) {
    let (url, database) = fresh_database().await;
    let store = PostgresStore::open_url(&url).await.unwrap();
    store.migrate().await.unwrap();
    let guard = Guard {
        store: store.clone(),
        _database: database,
    };
    (store, url, guard)
}

/// Bounds every wait below, so a test that is wrong fails instead of hanging; never reached
/// by one that is right.
const PATIENCE: Duration = Duration::from_secs(20);

/// Several nodes start at once on a new database: sqlx's advisory lock makes one migrate and
/// the others wait, then find nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_migrating_a_fresh_database_at_once_all_succeed() {
    let (url, _database) = empty_database().await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(PostgresStore::open_url(&url).await.unwrap());
    }
    let (a, b, c) = tokio::join!(nodes[0].migrate(), nodes[1].migrate(), nodes[2].migrate());
    a.unwrap();
    b.unwrap();
    c.unwrap();

    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(applied, [1], "each migration applied once");
    let db: Db = Arc::new(nodes[2].clone());
    let (u, w) = owner_and_workspace(&db).await;
    insert_keys(&db, &[key(w.id, u.id, "works")]).await;
    for node in &nodes {
        node.close().await;
    }
}

/// `lock_workspace` is a row lock: a second transaction's lock of the same workspace waits
/// until the first commits, and then sees what it wrote; another workspace is not held up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_workspace_holds_a_second_locker_of_the_same_workspace_until_commit() {
    let (store, url, _guard) = open().await;
    let db: Db = Arc::new(store);
    let (u, w) = owner_and_workspace(&db).await;
    let (_, other) = owner_and_workspace(&db).await;

    let mut first = db.begin().await.unwrap();
    first.lock_workspace(w.id).await.unwrap().unwrap();

    let second = tokio::spawn({
        let db = Arc::clone(&db);
        async move {
            let mut tx = db.begin().await.unwrap();
            tx.lock_workspace(w.id).await.unwrap().unwrap();
            tx.key_counts(w.id, now()).await.unwrap().total
        }
    });

    // Another workspace is not blocked: this lock is granted while `first` is still open.
    // Were it blocked, it could only be released by `first` ending, further down: it would
    // fail on the store's lock_timeout instead.
    let mut third = db.begin().await.unwrap();
    tokio::time::timeout(PATIENCE, third.lock_workspace(other.id))
        .await
        .expect("a lock on another workspace waited")
        .unwrap()
        .unwrap();
    drop(third);

    // The second transaction is waiting for the row lock, as PostgreSQL itself reports, before
    // the first writes anything: so what it reads next can only come after the first commits.
    let mut observer = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' \
               AND query LIKE '%FOR UPDATE%'",
        )
        .fetch_one(&mut observer)
        .await
        .unwrap();
        if waiting == 1 {
            break;
        }
        assert!(!second.is_finished(), "the second lock did not wait");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second transaction never waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    first.insert_key(&key(w.id, u.id, "first")).await.unwrap();
    first.commit().await.unwrap();
    let seen = tokio::time::timeout(PATIENCE, second)
        .await
        .expect("the second transaction was not released by the commit")
        .unwrap();
    assert_eq!(seen, 1, "the second locker read after the first committed");
}

/// The next notification on the channel, as its whole payload.
async fn next_raw(listener: &mut PgListener) -> String {
    tokio::time::timeout(PATIENCE, listener.recv())
        .await
        .expect("no notification arrived")
        .unwrap()
        .payload()
        .to_owned()
}

/// The next notification on the channel: what changed, without the `@node` that names the
/// writing process (which a node uses to skip its own writes).
async fn next(listener: &mut PgListener) -> String {
    let payload = next_raw(listener).await;
    match payload.split_once('@') {
        Some((what, _)) => what.to_owned(),
        None => payload,
    }
}

fn hex(hash: &CredentialHash) -> String {
    hex::encode(hash.expose_secret())
}

async fn listen(url: &str) -> PgListener {
    let mut listener = PgListener::connect(url).await.unwrap();
    listener.listen(KEY_CHANGES_CHANNEL).await.unwrap();
    listener
}

/// A revocation committed through the store reaches a listener on another connection as the
/// key's hash in lower-case hex; a transaction that rolls back announces nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_announced_at_commit_and_a_rolled_back_one_never() {
    let (store, url, _guard) = open().await;
    let db: Db = Arc::new(store);
    let (u, w) = owner_and_workspace(&db).await;
    let (mut revoked, mut rolled_back, mut marker) = (
        key(w.id, u.id, "revoked"),
        key(w.id, u.id, "rolled back"),
        key(w.id, u.id, "marker"),
    );
    insert_keys(&db, &[revoked.clone(), rolled_back.clone(), marker.clone()]).await;
    let mut listener = listen(&url).await;

    revoked.revoked_at = Some(now());
    update_keys(&db, std::slice::from_ref(&revoked)).await;
    let raw = next_raw(&mut listener).await;
    let (what, origin) = raw
        .split_once('@')
        .expect("the payload names the writing process");
    assert_eq!(what, hex(&revoked.hash));
    assert_eq!(
        origin.len(),
        32,
        "the store's node name, a simple uuid: {raw}"
    );

    rolled_back.revoked_at = Some(now());
    let mut tx = db.begin().await.unwrap();
    tx.update_key(&rolled_back).await.unwrap();
    drop(tx);
    // Notifications arrive in commit order: had the dropped transaction sent anything, it
    // would come before the marker committed after it.
    marker.revoked_at = Some(now());
    update_keys(&db, std::slice::from_ref(&marker)).await;
    assert_eq!(next(&mut listener).await, hex(&marker.hash));
    assert!(
        db.key_by_hash(&rolled_back.hash)
            .await
            .unwrap()
            .unwrap()
            .key
            .revoked_at
            .is_none(),
        "the rollback took"
    );
}

/// What SQLite's key-change log records (the contract's change-log tests), announced instead:
/// key and service token writes by hash, policy changes and member removals as `*`, and uses
/// not at all. The key-change log itself is empty on this backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_that_change_answers_are_announced_and_uses_are_not() {
    let (store, url, _guard) = open().await;
    let db: Db = Arc::new(store);
    let (u, mut w) = owner_and_workspace(&db).await;
    let mut listener = listen(&url).await;

    let mut k = key(w.id, u.id, "announced");
    insert_keys(&db, std::slice::from_ref(&k)).await;
    k.revoked_at = Some(now());
    update_keys(&db, std::slice::from_ref(&k)).await;
    db.record_key_use(&[(k.id, now())]).await.unwrap();
    w.members_can_create_keys = true;
    let mut tx = db.begin().await.unwrap();
    tx.update_workspace(&w).await.unwrap();
    tx.commit().await.unwrap();

    let mut token = ServiceToken {
        id: new_id(),
        name: "billing".into(),
        token_prefix: "kwsvc_ab12".into(),
        hash: random_hash(),
        created_at: now(),
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = db.begin().await.unwrap();
    tx.insert_service_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    token.revoked_at = Some(now());
    let mut tx = db.begin().await.unwrap();
    tx.update_service_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    db.record_service_token_use(&[(token.id, now())])
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    tx.delete_membership(w.id, u.id).await.unwrap();
    tx.commit().await.unwrap();
    // A last write, so that anything sent between the ones above shows up before it.
    let marker = key(w.id, u.id, "marker");
    insert_keys(&db, std::slice::from_ref(&marker)).await;

    let mut seen = Vec::new();
    loop {
        let payload = next(&mut listener).await;
        if payload == hex(&marker.hash) {
            break;
        }
        seen.push(payload);
    }
    let key_hash = hex(&k.hash);
    let token_hash = hex(&token.hash);
    assert_eq!(
        seen,
        [
            key_hash.as_str(),
            &key_hash,
            "*",
            &token_hash,
            &token_hash,
            "*"
        ]
    );

    assert_eq!(db.latest_key_change().await.unwrap(), 0);
    assert!(db.key_changes_since(0, 100).await.unwrap().is_empty());
    assert_eq!(db.prune_key_changes(now()).await.unwrap(), 0);
}
