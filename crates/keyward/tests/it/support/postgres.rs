//! Fresh PostgreSQL databases for tests: each test gets a database of its own, created
//! through an admin connection and dropped when the test's guard goes, so tests run in
//! parallel (and in separate processes, as nextest runs them) without seeing each other.
//!
//! The server is the one `KEYWARD_TEST_POSTGRES_URL` names (a URL whose database the role
//! may connect to and whose role may create databases), by default
//! `postgres://postgres@127.0.0.1:5432/postgres`.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

/// The environment variable naming the admin URL.
pub const ADMIN_URL_ENV: &str = "KEYWARD_TEST_POSTGRES_URL";
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Every test database's name starts with this, so leftovers of killed runs are easy to find
/// (`SELECT datname FROM pg_database WHERE datname LIKE 'kwt\_%'`).
const NAME_PREFIX: &str = "kwt_";

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

/// Creates an empty database and returns its URL (the admin URL with the database
/// replaced) and the guard that drops it.
pub async fn fresh_database() -> (String, TestDatabase) {
    let admin_url = admin_url();
    let name = format!("{NAME_PREFIX}{}", uuid::Uuid::now_v7().simple());
    let mut admin = connect(&admin_url).await;
    // The name is ours (a prefix and hex digits), so quoting it is all it needs.
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database through {ADMIN_URL_ENV}: {e}"));
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&admin_url).expect("the admin URL is a URL");
    url.set_path(&format!("/{name}"));
    (url.into(), TestDatabase { name, admin_url })
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

impl Drop for TestDatabase {
    /// Drop cannot await, and the test's runtime may be a single thread that is busy running
    /// this very drop, so the statement runs on a thread of its own with its own runtime.
    /// `WITH (FORCE)` (PostgreSQL 13+) ends sessions still connected, such as a pool the
    /// test left open. A failure is reported, never a panic: this may run while a failing
    /// test unwinds, where a second panic would abort the whole test binary.
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let admin_url = std::mem::take(&mut self.admin_url);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
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
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop a test database: {e}"),
            Err(_) => eprintln!("could not drop a test database: the dropping thread panicked"),
        }
    }
}
