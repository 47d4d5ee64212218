//! Databases as older keyward versions left them, for tests of what upgrading keeps.
//!
//! The migrations are applied through sqlx's migrator from copies of the real files, so the
//! bookkeeping table matches what the current binary expects and it applies only the rest.

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::SqlitePool;

/// A database at `path` with every migration before `0003_operations.sql` applied.
pub async fn database(path: &Path) -> SqlitePool {
    database_before(path, 3).await
}

/// A database at `path` with every migration numbered below `first_new` applied: as the
/// keyward that had not yet shipped migration `first_new` left it.
pub async fn database_before(path: &Path, first_new: u32) -> SqlitePool {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let version: u32 = name.split('_').next().unwrap().parse().unwrap();
        if version < first_new {
            std::fs::copy(entry.path(), old.path().join(&name)).unwrap();
        }
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

pub async fn insert_user(pool: &SqlitePool, email: &str) {
    sqlx::query("INSERT INTO users (id, email, name, created_at) VALUES (?, ?, ?, ?)")
        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
        .bind(email)
        .bind(email)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(pool)
        .await
        .unwrap();
}

/// A service token row with a random hash, created `age_ms` milliseconds ago.
pub async fn insert_service_token(pool: &SqlitePool, name: &str, age_ms: i64) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let hash: [u8; 32] = rand::random();
    sqlx::query(
        "INSERT INTO service_tokens (id, name, token_prefix, hash, created_at) \
         VALUES (?, ?, 'kwsvc_legacy00', ?, ?)",
    )
    .bind(id.hyphenated().to_string())
    .bind(name)
    .bind(&hash[..])
    .bind(chrono::Utc::now().timestamp_millis() - age_ms)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// The recorded pepper fingerprint, read with a plain connection.
pub async fn pepper_fingerprint(path: &Path) -> Option<Vec<u8>> {
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap();
    let fp = sqlx::query_scalar("SELECT fingerprint FROM pepper_fingerprint")
        .fetch_optional(&pool)
        .await
        .unwrap();
    pool.close().await;
    fp
}
