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
    assert_eq!(read.id, k.id);
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
async fn an_unopenable_path_is_unavailable() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("missing-dir").join("keyward.db");
    match SqliteStore::open(&path).await {
        Err(keyward_core::store::StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
}
