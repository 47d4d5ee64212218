//! Fresh PostgreSQL databases for tests: each test gets a database of its own, created
//! through an admin connection and dropped when the test's guard goes, so tests run in
//! parallel (and in separate processes, as nextest runs them) without seeing each other.
//!
//! The server is the one `KEYWARD_TEST_POSTGRES_URL` names (a URL whose database the role
//! may connect to, for a role that may create databases), by default
//! `postgres://postgres@127.0.0.1:5432/postgres`.
//!
//! [`fresh_database`] copies a template that already holds keyward's schema instead of
//! migrating every new database. Measured on this 2-core machine (PostgreSQL 15, fsync on):
//! an empty `CREATE DATABASE` took 130–150 ms and opening and migrating it 140–200 ms, while
//! a copy of the template took 180–240 ms and opening it (migrate finds nothing to do)
//! 25 ms; the 51 PostgreSQL contract tests took 25.9 s and 29.0 s migrating each database,
//! 14.5 s and 20.4 s copying the template (alternating runs, beside a concurrent build).
//! Because nextest runs every test in a process of its own, the template is shared between
//! processes: named after the migrations' checksums, built once under an advisory lock, and
//! kept for later runs.

use std::str::FromStr;

use keyward::store::postgres::PostgresStore;
use keyward_core::store::Store;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::sync::OnceCell;

/// The environment variable naming the admin URL.
pub const ADMIN_URL_ENV: &str = "KEYWARD_TEST_POSTGRES_URL";
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Every test database's name starts with this, so leftovers of killed runs are easy to find
/// (`SELECT datname FROM pg_database WHERE datname LIKE 'kwt\_%'`).
const NAME_PREFIX: &str = "kwt_";
/// Templates are named this plus a digest of the migrations. One from older migrations is
/// not dropped automatically (another checkout's tests may be copying it at that moment);
/// `DROP DATABASE` removes it by hand.
const TEMPLATE_PREFIX: &str = "kwt_template_";
/// The advisory lock key (on the admin database) that serializes building a template.
const TEMPLATE_LOCK: i64 = 0x6b77_745f_746d_706c;

pub fn admin_url() -> String {
    std::env::var(ADMIN_URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// A test database; dropping it drops the database, ending any session still connected.
pub struct TestDatabase {
    name: String,
    admin_url: String,
}

impl TestDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A new database that already holds keyward's schema (migrating it again finds nothing to
/// do), with its URL (the admin URL with the database replaced) and the guard that drops it.
pub async fn fresh_database() -> (String, TestDatabase) {
    let template = template().await;
    create(&format!(r#"TEMPLATE "{template}""#)).await
}

/// A new empty database, for tests of migrating one; like [`fresh_database`] otherwise.
pub async fn empty_database() -> (String, TestDatabase) {
    create("").await
}

async fn create(options: &str) -> (String, TestDatabase) {
    let admin_url = admin_url();
    let name = format!("{NAME_PREFIX}{}", uuid::Uuid::now_v7().simple());
    let mut admin = connect(&admin_url).await;
    // Names are ours (a prefix and hex digits), so quoting them is all they need.
    sqlx::query(&format!(r#"CREATE DATABASE "{name}" {options}"#))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database through {ADMIN_URL_ENV}: {e}"));
    admin.close().await.unwrap();
    let url = database_url(&admin_url, &name);
    (url, TestDatabase { name, admin_url })
}

fn database_url(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("the admin URL is a URL");
    url.set_path(&format!("/{name}"));
    url.into()
}

async fn connect(url: &str) -> PgConnection {
    PgConnectOptions::from_str(url)
        .expect("a postgres:// URL")
        // Test set-up statements are not worth a log line each.
        .disable_statement_logging()
        .connect()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at {ADMIN_URL_ENV} (default {DEFAULT_ADMIN_URL}): {e}")
        })
}

/// The template's name, built by the first test process that needs it. Only a name is kept
/// across the process's tests (each has a runtime of its own), never a connection.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE.get_or_init(build_template).await
}

/// Names the template after the migrations, so a change to them gets a template of its own.
fn template_name() -> String {
    let mut digest = Sha256::new();
    for migration in sqlx::migrate!("./migrations/postgres").iter() {
        digest.update(migration.version.to_be_bytes());
        digest.update(&migration.checksum);
    }
    format!("{TEMPLATE_PREFIX}{}", &hex::encode(digest.finalize())[..16])
}

/// Builds the template unless it exists, holding an advisory lock so that processes starting
/// together build it once. It is migrated under another name and renamed when complete, so a
/// builder killed half-way never leaves a template that looks ready; nothing connects to it
/// after, which `CREATE DATABASE … TEMPLATE` requires.
async fn build_template() -> String {
    let name = template_name();
    let admin_url = admin_url();
    let mut admin = connect(&admin_url).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await
        .unwrap();
    if !exists(&mut admin, &name).await {
        let building = format!("{name}_building");
        for statement in [
            format!(r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#),
            format!(r#"CREATE DATABASE "{building}""#),
        ] {
            sqlx::query(&statement).execute(&mut admin).await.unwrap();
        }
        let store = PostgresStore::open_url(&database_url(&admin_url, &building))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        sqlx::query(&format!(
            r#"ALTER DATABASE "{building}" RENAME TO "{name}""#
        ))
        .execute(&mut admin)
        .await
        .unwrap();
    }
    // Closing the session releases the advisory lock.
    admin.close().await.unwrap();
    name
}

async fn exists(admin: &mut PgConnection, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin)
        .await
        .unwrap()
}

/// Runs `work` to completion on a thread of its own with its own runtime: for callers that
/// cannot await, possibly on a runtime thread that must not be blocked into a second one.
fn on_own_runtime<T: Send + 'static, F: std::future::Future<Output = T> + 'static>(
    work: impl FnOnce() -> F + Send + 'static,
) -> std::thread::Result<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work())
    })
    .join()
}

/// Every row of every table of the database, one per line as `table<TAB>JSON`: what the
/// leak scan reads of a PostgreSQL database, as it reads a SQLite file. `bytea` columns come
/// out as hex, which is how a hash is supposed to look; a secret would be plain text.
async fn dump_rows(url: &str) -> Result<String, String> {
    let mut db = PgConnectOptions::from_str(url)
        .map_err(|e| e.to_string())?
        .disable_statement_logging()
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut db)
            .await
            .map_err(|e| e.to_string())?;
    let mut out = String::new();
    for table in tables {
        // The names come from the catalog, and quoting is all they need.
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            r#"SELECT row_to_json(t)::text FROM public."{table}" t"#
        ))
        .fetch_all(&mut db)
        .await
        .map_err(|e| format!("{table}: {e}"))?;
        for row in rows {
            out.push_str(&table);
            out.push('\t');
            out.push_str(&row);
            out.push('\n');
        }
    }
    db.close().await.map_err(|e| e.to_string())?;
    Ok(out)
}

impl Drop for TestDatabase {
    /// Drop cannot await, and the test's runtime may be a single thread that is busy running
    /// this very drop, so the statement runs on a thread of its own with its own runtime.
    /// `WITH (FORCE)` (PostgreSQL 13+) ends sessions still connected, such as a pool the
    /// test left open. A failure is reported, never a panic: this may run while a failing
    /// test unwinds, where a second panic would abort the whole test binary.
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let admin_url = std::mem::take(&mut self.admin_url);
        let dropped = on_own_runtime(move || async move {
            if super::leaks::dir().is_some() {
                let rows = dump_rows(&database_url(&admin_url, &name)).await?;
                super::leaks::keep_text(&format!("{name}.rows"), &rows);
            }
            let mut admin = PgConnectOptions::from_str(&admin_url)
                .map_err(|e| e.to_string())?
                .disable_statement_logging()
                .connect()
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                .execute(&mut admin)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            admin.close().await.map_err(|e| e.to_string())
        });
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop a test database: {e}"),
            Err(_) => eprintln!("could not drop a test database: the dropping thread panicked"),
        }
    }
}

/// The environment variable that runs the HTTP and process suites over PostgreSQL:
/// `KEYWARD_TEST_BACKEND=postgres` (the test command's second pass). Unset, they run over
/// SQLite, as before.
pub const BACKEND_ENV: &str = "KEYWARD_TEST_BACKEND";

/// Whether this run's servers and commands use PostgreSQL.
pub fn enabled() -> bool {
    std::env::var(BACKEND_ENV).is_ok_and(|v| v == "postgres")
}

/// The database of a test's data directory, made on first use, for tests that run the
/// `keyward` binary with `--data-dir`: every command on one directory shares one database,
/// as on SQLite they share its file. Named after the directory, so a command of the same
/// test finds it again. These databases are not dropped by the test (a process cannot tell
/// when its last command ran); the test command drops every `kwt_` database after the pass.
pub fn database_for(data_dir: &std::path::Path) -> String {
    let name = dir_database_name(data_dir);
    let admin_url = admin_url();
    let url = database_url(&admin_url, &name);
    on_own_runtime(move || async move {
        let template = template().await;
        let mut admin = connect(&admin_url).await;
        if !exists(&mut admin, &name).await {
            sqlx::query(&format!(
                r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
            ))
            .execute(&mut admin)
            .await
            .unwrap();
        }
        admin.close().await.unwrap();
    })
    .unwrap();
    url
}

/// [`database_for`], with a guard that drops the database: for a test server, which owns
/// its data directory for the life of the test.
pub fn database_for_guarded(data_dir: &std::path::Path) -> (String, TestDatabase) {
    let url = database_for(data_dir);
    let guard = TestDatabase {
        name: dir_database_name(data_dir),
        admin_url: admin_url(),
    };
    (url, guard)
}

/// The database of a data directory: named after its path, so every command finds it.
fn dir_database_name(data_dir: &std::path::Path) -> String {
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    format!("{NAME_PREFIX}dir_{}", &hex::encode(digest)[..24])
}
