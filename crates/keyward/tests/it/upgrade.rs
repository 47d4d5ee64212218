//! Upgrading a database that an older keyward left: each migration keeps what was there and
//! fills in what it adds, checked on rows written with the old schema.

use chrono::Utc;
use keyward::store::sqlite::SqliteStore;
use keyward_core::store::Store;
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::support::legacy;

/// A workspace row as the schema of migration 0001 knew it, with keys prefixed `prefix`.
async fn insert_workspace(pool: &SqlitePool, prefix: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO workspaces (id, name, plan, key_prefix, created_at, updated_at) \
         VALUES (?, 'Old', 'pro', ?, 0, 0)",
    )
    .bind(id.hyphenated().to_string())
    .bind(prefix)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// A key row as the schema of migration 0001 knew it, rotated from `from` if given.
async fn insert_key(pool: &SqlitePool, workspace: Uuid, user: Uuid, from: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let hash: [u8; 32] = rand::random();
    let at = Utc::now().timestamp_millis();
    sqlx::query(
        "INSERT INTO api_keys (id, workspace_id, name, key_prefix, hash, scopes, creator_role, \
         creator_scopes, created_by, created_at, updated_at, metadata, rotated_from) \
         VALUES (?, ?, 'ci', 'kw_legacy00', ?, '[\"*\"]', 'owner', '[\"*\"]', ?, ?, ?, '{}', ?)",
    )
    .bind(id.hyphenated().to_string())
    .bind(workspace.hyphenated().to_string())
    .bind(&hash[..])
    .bind(user.hyphenated().to_string())
    .bind(at)
    .bind(at)
    .bind(from.map(|f| f.hyphenated().to_string()))
    .execute(pool)
    .await
    .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0002_names_each_rotated_keys_successor_along_a_whole_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keyward.db");
    let pool = legacy::database_before(&path, 2).await;
    let (workspace, user) = (insert_workspace(&pool, "kw_").await, Uuid::now_v7());
    let first = insert_key(&pool, workspace, user, None).await;
    let second = insert_key(&pool, workspace, user, Some(first)).await;
    let third = insert_key(&pool, workspace, user, Some(second)).await;
    let unrelated = insert_key(&pool, workspace, user, None).await;
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let successor = |id| {
        let store = store.clone();
        async move { store.key_by_id(id).await.unwrap().unwrap().rotated_to }
    };
    assert_eq!(successor(first).await, Some(second));
    assert_eq!(successor(second).await, Some(third));
    assert_eq!(
        successor(third).await,
        None,
        "the newest has no successor yet"
    );
    assert_eq!(successor(unrelated).await, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0005_makes_every_existing_key_native_and_finds_no_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keyward.db");
    let pool = legacy::database_before(&path, 5).await;
    let (workspace, user) = (insert_workspace(&pool, "kw_").await, Uuid::now_v7());
    let first = insert_key(&pool, workspace, user, None).await;
    let second = insert_key(&pool, workspace, user, Some(first)).await;
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    for id in [first, second] {
        let key = store.key_by_id(id).await.unwrap().unwrap();
        assert_eq!(key.source, keyward_core::model::KeySource::Native);
    }
    assert!(!store.imported_keys_exist().await.unwrap());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0006_numbers_existing_keys_in_creation_order_and_keeps_base62() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keyward.db");
    let pool = legacy::database_before(&path, 6).await;
    let (workspace, user) = (insert_workspace(&pool, "sd_").await, Uuid::now_v7());
    let mut old = Vec::new();
    for _ in 0..3 {
        old.push(insert_key(&pool, workspace, user, None).await);
    }
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let ws = store.workspace(workspace).await.unwrap().unwrap();
    assert_eq!(ws.key_format, keyward_core::key_format::KeyFormat::Base62);
    for (n, id) in old.iter().enumerate() {
        let key = store.key_by_id(*id).await.unwrap().unwrap();
        assert_eq!(key.seq, n as i64 + 1, "keys are numbered oldest first");
        let by_seq = store.key_by_seq(workspace, key.seq).await.unwrap().unwrap();
        assert_eq!(by_seq.id, *id);
    }
    // A key made after the upgrade continues the sequence.
    let mut fresh = store.key_by_id(old[0]).await.unwrap().unwrap();
    fresh.id = Uuid::now_v7();
    fresh.hash =
        keyward_core::secret::CredentialHash::from_slice(&rand::random::<[u8; 32]>()).unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.insert_key(&fresh).await.unwrap(), 4);
    tx.commit().await.unwrap();
    store.close().await;
}
