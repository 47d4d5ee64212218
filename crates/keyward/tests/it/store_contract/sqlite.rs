//! The SQLite backend: how the contract suite opens it, plus what only SQLite has (a file
//! that must survive a reopen, URL forms, WAL mode).

use std::any::Any;
use std::sync::Arc;

use keyward::store::sqlite::SqliteStore;
use keyward_core::store::Store;
use tempfile::TempDir;

use super::fixtures::{insert_keys, key, owner_and_workspace, Db};

/// A migrated store on a new file in its own temporary directory (the guard).
pub async fn fresh() -> (Db, Box<dyn Any + Send>) {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(&dir.path().join("keyward.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (Arc::new(store), Box::new(dir))
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("keyward.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let db: Db = Arc::new(store.clone());
    let (u, w) = owner_and_workspace(&db).await;
    let k = key(w.id, u.id, "durable");
    insert_keys(&db, std::slice::from_ref(&k)).await;
    store.close().await;
    drop((db, store));

    let reopened = SqliteStore::open(&path).await.unwrap();
    reopened.migrate().await.unwrap();
    assert!(reopened.user_by_id(u.id).await.unwrap().is_some());
    let read = reopened.key_by_hash(&k.hash).await.unwrap().unwrap();
    assert_eq!(read.key.id, k.id);
}

#[tokio::test]
async fn open_creates_the_file_in_wal_mode() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists());
    // The journal mode is stored in the file; read it back through a plain connection.
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn open_url_accepts_both_url_forms_and_refuses_memory() {
    let dir = TempDir::new().unwrap();
    for url in [
        format!("sqlite://{}", dir.path().join("a.db").display()),
        format!("sqlite:{}", dir.path().join("b.db").display()),
    ] {
        let store = SqliteStore::open_url(&url).await.unwrap();
        store.migrate().await.unwrap();
        store.ping().await.unwrap();
    }
    assert!(dir.path().join("a.db").exists() && dir.path().join("b.db").exists());
    assert!(SqliteStore::open_url("sqlite::memory:").await.is_err());
}

#[tokio::test]
async fn open_existing_url_refuses_a_missing_file_and_creates_nothing() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("keyward.db");
    let url = format!("sqlite://{}", path.display());
    assert_eq!(SqliteStore::database_path(&url).unwrap(), path);
    assert!(SqliteStore::open_existing_url(&url).await.is_err());
    assert!(!path.exists(), "opening an existing database created one");
    SqliteStore::open_url(&url).await.unwrap().close().await;
    let store = SqliteStore::open_existing_url(&url).await.unwrap();
    store.migrate().await.unwrap();
}

#[tokio::test]
async fn an_unopenable_path_is_unavailable() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("missing-dir").join("keyward.db");
    match SqliteStore::open(&path).await {
        Err(keyward_core::store::StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
}

/// Set in the child process of `acknowledged_writes_survive_kill_9` to the database path.
const CHILD_DB_ENV: &str = "KEYWARD_TEST_KILL9_DB";

/// PRODUCT.md §8: once a commit returns, the write survives the process dying with no
/// chance to clean up. A child process (this test binary, running the ignored test below)
/// commits a key, reports it, and is killed with SIGKILL while its pools are still open.
#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = TempDir::new().unwrap();
    let path = dir.path().join("keyward.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store_contract::sqlite::kill_9_child_commits_then_waits",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reported = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            // libtest prints the test's name on the same line, before the report.
            .find_map(|l| l.split_once("COMMITTED ").map(|(_, ids)| ids.to_owned()))
    })
    .await
    .unwrap();
    // `kill` is SIGKILL on Unix: no destructors, no pool close, no WAL checkpoint.
    child.kill().unwrap();
    child.wait().unwrap();
    let reported = reported.expect("the child reported its commit");
    let mut parts = reported.split_whitespace();
    let workspace_id: uuid::Uuid = parts.next().unwrap().parse().unwrap();
    let key_id: uuid::Uuid = parts.next().unwrap().parse().unwrap();

    let reopened = SqliteStore::open(&path).await.unwrap();
    reopened.migrate().await.unwrap();
    let read = reopened.key(workspace_id, key_id).await.unwrap();
    assert!(read.is_some(), "a committed key was lost by kill -9");
}

#[tokio::test]
#[ignore = "run only as the child process of acknowledged_writes_survive_kill_9"]
async fn kill_9_child_commits_then_waits() {
    let Some(path) = std::env::var_os(CHILD_DB_ENV) else {
        return;
    };
    let store = SqliteStore::open(std::path::Path::new(&path))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let db: Db = Arc::new(store);
    let (u, w) = owner_and_workspace(&db).await;
    let k = key(w.id, u.id, "acknowledged");
    insert_keys(&db, std::slice::from_ref(&k)).await;
    println!("COMMITTED {} {}", w.id, k.id);
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
}

/// The verification lookup reads on the calling thread (store/sqlite/lookup.rs): it must see
/// each commit at once, never an open transaction's rows, and must not wait for the writer.
#[tokio::test]
async fn the_verification_lookup_sees_commits_and_never_waits_for_the_writer() {
    let (db, _dir) = fresh().await;
    let (u, w) = owner_and_workspace(&db).await;
    let committed = key(w.id, u.id, "committed");
    insert_keys(&db, std::slice::from_ref(&committed)).await;
    assert!(db.key_by_hash(&committed.hash).await.unwrap().is_some());

    // A write transaction holds SQLite's write lock while the lookups below run.
    let pending = key(w.id, u.id, "pending");
    let mut tx = db.begin().await.unwrap();
    tx.insert_key(&pending).await.unwrap();
    let during = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        (
            db.key_by_hash(&committed.hash).await.unwrap(),
            db.key_by_hash(&pending.hash).await.unwrap(),
        )
    })
    .await
    .expect("the lookup waited for the writer");
    assert_eq!(during.0.map(|l| l.key.id), Some(committed.id));
    assert!(during.1.is_none(), "an uncommitted key was visible");

    tx.commit().await.unwrap();
    let after = db.key_by_hash(&pending.hash).await.unwrap();
    assert_eq!(
        after.map(|l| l.key.id),
        Some(pending.id),
        "a commit was not seen"
    );
}
