//! In-process verification (`cargo bench -p keyward --bench verify`):
//!
//! - `verify/cached`: a key already in the verification cache; the hot path with no I/O.
//! - `verify/miss_1m`: the cache turned off, so every verification is one SQLite lookup,
//!   against a database holding 1,000,000 keys (built once into `target/bench-data/`, then
//!   reused; delete that directory to rebuild it).
//! - `verify/pg/…`, only when `KW_BENCH_DATABASE_URL` names a PostgreSQL database the bench
//!   may wipe: the same million keys in PostgreSQL (built once, rebuilt when the database no
//!   longer holds them), verified as cache hits (`pg/cached_1m`) and as misses, one at a time
//!   (`pg/miss_1m`) and 16 at once (`pg/miss_1m_x16`, whose throughput is what a node's
//!   connection pool can serve).
//!
//! Results, with the machine and commit, are in BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keyward::app::{open_service, OpenMode};
use keyward::config::{Config, DatabaseUrl};
use keyward_core::key_format::{self, KeyFormat, KeyPrefix};
use keyward_core::model::{new_id, now, ApiKey, Role};
use keyward_core::secret::{CredentialHash, Pepper};
use keyward_core::service::{Caller, NewKey, NewUser, UserWorkspace};
use keyward_core::Service;
use sqlx::{Connection, PgConnection};
use tokio::runtime::Runtime;

/// Fixed, so the 1M-key database built once stays valid for later runs.
const PEPPER: &str = "keyward-bench-pepper-0123456789";
const MILLION: usize = 1_000_000;
/// Keys with known secrets among the million, verified round robin by the miss benchmark.
const SAMPLED: usize = 10_000;

fn runtime() -> Runtime {
    runtime_with(1)
}

/// A runtime with `workers` threads: 1 for latencies, the machine's cores for throughput.
fn runtime_with(workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// The PostgreSQL database of the `verify/pg/…` benchmarks; they are skipped without it.
const PG_URL_ENV: &str = "KW_BENCH_DATABASE_URL";

fn config(dir: &Path, cache_max_entries: u64, database_url: Option<&str>) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: database_url.map(|url| DatabaseUrl(url.to_owned())),
        pepper: Some(PEPPER.into()),
        max_keys_per_workspace: (MILLION + SAMPLED) as u64,
        cache_max_entries,
        ..Config::default()
    }
}

async fn service(dir: &Path, cache_max_entries: u64, database_url: Option<&str>) -> Service {
    let config = config(dir, cache_max_entries, database_url);
    open_service(&config, OpenMode::CreateIfMissing)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An owner of a new workspace, and a key of hers with its secret.
async fn owner_and_key(service: &Service) -> (Caller, uuid::Uuid, String) {
    let (user, ws) = service
        .create_user(NewUser {
            email: format!("bench-{}@example.com", new_id().simple()),
            name: None,
            password: None,
            verified: true,
            workspace: Some(UserWorkspace::New("Bench".into())),
            role: Role::Owner,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ws = ws.unwrap_or_else(|| panic!("no workspace")).id;
    let caller = Caller::system(user);
    let p = service
        .principal(&caller, ws)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let created = service
        .create_key(
            &p,
            NewKey {
                name: "bench".into(),
                ..NewKey::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (caller, ws, created.secret.expose_secret().to_owned())
}

fn cached(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let service = rt.block_on(service(dir.path(), 1_000_000, None));
    let (_, _, secret) = rt.block_on(owner_and_key(&service));
    let verifier = service.verifier().clone();
    let required: Vec<String> = Vec::new();
    let first = rt.block_on(verifier.verify(&secret, &required));
    assert!(
        first.is_ok_and(|v| v.key.is_some()),
        "the key does not verify"
    );
    c.bench_function("verify/cached", |b| {
        b.to_async(&rt).iter(|| verifier.verify(&secret, &required))
    });
}

/// The database with a million keys, built on first use; returns its directory and the
/// secrets of the sampled keys. With `database_url`, the keys live in that PostgreSQL
/// database and the directory holds only the secrets.
fn million(rt: &Runtime, database_url: Option<&str>) -> (PathBuf, Vec<String>) {
    let name = if database_url.is_some() {
        "pg-1m"
    } else {
        "1m"
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-data")
        .join(name);
    let secrets_file = dir.join("sampled-secrets.txt");
    if let Ok(text) = std::fs::read_to_string(&secrets_file) {
        let secrets: Vec<String> = text.lines().map(str::to_owned).collect();
        let stored = match database_url {
            Some(url) => rt.block_on(postgres_keys(url)) == (MILLION + 1) as i64,
            None => true,
        };
        if secrets.len() == SAMPLED && stored {
            return (dir, secrets);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    if let Some(url) = database_url {
        rt.block_on(wipe_postgres(url));
    }
    eprintln!("building {name} with {MILLION} keys (once)…");
    let secrets = rt.block_on(async {
        let service = service(&dir, 0, database_url).await;
        let (caller, ws, _) = owner_and_key(&service).await;
        let pepper = Pepper::new(PEPPER.as_bytes().to_vec());
        let prefix = KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
        let template =
            |hash: CredentialHash| keyward_core::fixtures::api_key(ws, caller.user.id, hash);
        let mut secrets = Vec::with_capacity(SAMPLED);
        let stride = MILLION / SAMPLED;
        for batch in 0..MILLION / 10_000 {
            let keys: Vec<ApiKey> = (0..10_000)
                .map(|i| {
                    if (batch * 10_000 + i) % stride == 0 {
                        let minted = key_format::generate(&prefix, KeyFormat::Base62);
                        let secret = minted.secret.expose_secret().to_owned();
                        let hash = pepper.hash(&secret);
                        secrets.push(secret);
                        template(hash)
                    } else {
                        template(CredentialHash::from_bytes(rand::random()))
                    }
                })
                .collect();
            let mut tx = service
                .store()
                .begin()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            tx.insert_keys(&keys)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        }
        // The change log the inserts wrote is not part of the benchmark's database.
        service
            .store()
            .prune_key_changes(now() + chrono::TimeDelta::days(1))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        secrets
    });
    if let Some(url) = database_url {
        // Fresh statistics, as autovacuum would have them on a database that grew slowly.
        rt.block_on(analyze_postgres(url));
    }
    std::fs::write(&secrets_file, secrets.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    (dir, secrets)
}

async fn postgres(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{PG_URL_ENV}: {e}"))
}

/// How many keys the PostgreSQL database holds; 0 when it has no keyward schema.
async fn postgres_keys(url: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM api_keys")
        .fetch_one(&mut postgres(url).await)
        .await
        .unwrap_or(0)
}

async fn wipe_postgres(url: &str) {
    let mut db = postgres(url).await;
    for statement in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
        sqlx::query(statement)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

async fn analyze_postgres(url: &str) {
    sqlx::query("VACUUM ANALYZE api_keys")
        .execute(&mut postgres(url).await)
        .await
        .unwrap_or_else(|e| panic!("VACUUM ANALYZE: {e}"));
}

fn miss_1m(c: &mut Criterion) {
    let rt = runtime();
    let (dir, secrets) = million(&rt, None);
    // Cache off: every verification below is a lookup in the store.
    let service = rt.block_on(service(&dir, 0, None));
    bench_misses(c, &rt, &service, secrets, "verify/miss_1m", 1);
}

/// The million keys in PostgreSQL: cached, then missed one at a time and 16 at once.
fn postgres_1m(c: &mut Criterion) {
    let Ok(url) = std::env::var(PG_URL_ENV) else {
        eprintln!("verify/pg/…: skipped; set {PG_URL_ENV} to a PostgreSQL database to wipe");
        return;
    };
    // Two workers, as `keyward serve` has on this 2-core machine: the 16-wide misses measure
    // what a node can serve.
    let rt = runtime_with(2);
    let (dir, secrets) = million(&rt, Some(&url));

    let cached = rt.block_on(service(&dir, 1_000_000, Some(&url)));
    let verifier = cached.verifier().clone();
    let required: Vec<String> = Vec::new();
    let secret = secrets[0].clone();
    let first = rt.block_on(verifier.verify(&secret, &required));
    assert!(
        first.is_ok_and(|v| v.key.is_some()),
        "a sampled key does not verify"
    );
    c.bench_function("verify/pg/cached_1m", |b| {
        b.to_async(&rt).iter(|| verifier.verify(&secret, &required))
    });
    drop(cached);

    let service = rt.block_on(service(&dir, 0, Some(&url)));
    bench_misses(c, &rt, &service, secrets.clone(), "verify/pg/miss_1m", 1);
    bench_misses(c, &rt, &service, secrets, "verify/pg/miss_1m_x16", 16);
}

/// Verifies the sampled secrets round robin through a service whose cache is off, `width`
/// at a time; criterion reports the time per batch and, for `width` > 1, verifications/s.
fn bench_misses(
    c: &mut Criterion,
    rt: &Runtime,
    service: &Service,
    secrets: Vec<String>,
    name: &str,
    width: usize,
) {
    let verifier = service.verifier().clone();
    let required: Vec<String> = Vec::new();
    let ok = rt.block_on(verifier.verify(&secrets[0], &required));
    assert!(
        ok.is_ok_and(|v| v.key.is_some()),
        "a sampled key does not verify"
    );
    let secrets = Arc::new(secrets);
    let mut n = 0usize;
    let mut group = c.benchmark_group("verify");
    if width > 1 {
        group.throughput(Throughput::Elements(width as u64));
    }
    let id = name.strip_prefix("verify/").unwrap_or(name);
    group.bench_function(id, |b| {
        b.to_async(rt).iter(|| {
            let mut batch = tokio::task::JoinSet::new();
            for _ in 0..width {
                n = (n + 1) % secrets.len();
                let (secrets, verifier, required) =
                    (secrets.clone(), verifier.clone(), required.clone());
                batch.spawn(async move { verifier.verify(&secrets[n], &required).await.is_ok() });
            }
            batch.join_all()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = cached, miss_1m, postgres_1m
}
criterion_main!(benches);
