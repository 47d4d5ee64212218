//! In-process verification (`cargo bench -p keyward --bench verify`):
//!
//! - `verify/cached`: a key already in the verification cache; the hot path with no I/O.
//! - `verify/miss_1m`: the cache turned off, so every verification is one SQLite lookup,
//!   against a database holding 1,000,000 keys (built once into `target/bench-data/`, then
//!   reused; delete that directory to rebuild it).
//!
//! Results, with the machine and commit, are in BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use keyward::app::{open_service, OpenMode};
use keyward::config::Config;
use keyward_core::key_format::{self, KeyFormat, KeyPrefix};
use keyward_core::model::{new_id, now, ApiKey, Role};
use keyward_core::secret::{CredentialHash, Pepper};
use keyward_core::service::{Caller, NewKey, NewUser, UserWorkspace};
use keyward_core::Service;
use tokio::runtime::Runtime;

/// Fixed, so the 1M-key database built once stays valid for later runs.
const PEPPER: &str = "keyward-bench-pepper-0123456789";
const MILLION: usize = 1_000_000;
/// Keys with known secrets among the million, verified round robin by the miss benchmark.
const SAMPLED: usize = 10_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn config(dir: &Path, cache_max_entries: u64) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        pepper: Some(PEPPER.into()),
        max_keys_per_workspace: (MILLION + SAMPLED) as u64,
        cache_max_entries,
        ..Config::default()
    }
}

async fn service(dir: &Path, cache_max_entries: u64) -> Service {
    open_service(&config(dir, cache_max_entries), OpenMode::CreateIfMissing)
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
    let service = rt.block_on(service(dir.path(), 1_000_000));
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
/// secrets of the sampled keys.
fn million(rt: &Runtime) -> (PathBuf, Vec<String>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/1m");
    let secrets_file = dir.join("sampled-secrets.txt");
    if let Ok(text) = std::fs::read_to_string(&secrets_file) {
        let secrets: Vec<String> = text.lines().map(str::to_owned).collect();
        if secrets.len() == SAMPLED {
            return (dir, secrets);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("building {} with {MILLION} keys (once)…", dir.display());
    let secrets = rt.block_on(async {
        let service = service(&dir, 0).await;
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
    std::fs::write(&secrets_file, secrets.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    (dir, secrets)
}

fn miss_1m(c: &mut Criterion) {
    let rt = runtime();
    let (dir, secrets) = million(&rt);
    // Cache off: every verification below is a lookup in the store.
    let service = rt.block_on(service(&dir, 0));
    let verifier = service.verifier().clone();
    let required: Vec<String> = Vec::new();
    let ok = rt.block_on(verifier.verify(&secrets[0], &required));
    assert!(
        ok.is_ok_and(|v| v.key.is_some()),
        "a sampled key does not verify"
    );
    let secrets = Arc::new(secrets);
    let mut n = 0usize;
    c.bench_function("verify/miss_1m", |b| {
        b.to_async(&rt).iter(|| {
            n = (n + 1) % secrets.len();
            let secret = secrets[n].clone();
            let verifier = verifier.clone();
            let required = required.clone();
            async move { verifier.verify(&secret, &required).await }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = cached, miss_1m
}
criterion_main!(benches);
