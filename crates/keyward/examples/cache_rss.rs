//! Memory of the verification cache (issue 15, part d): RSS with 1,000,000 keys cached, and
//! the bytes per cached key beyond the key's own data.
//!
//!   cargo run --release --example cache_rss            # 1,000,000 keys
//!   cargo run --release --example cache_rss -- 200000
//!
//! It runs itself twice, in fresh processes so that neither sees the other's freed memory:
//! once holding the keys alone (what they cost wherever they live), once with the same keys
//! put in the cache. The difference per key is what the cache adds: the entry, its hash key,
//! the index, the admission and expiry bookkeeping.

use std::process::Command;
use std::time::Duration;

use keyward_core::cache::{CachePolicy, KeyCache};
use keyward_core::model::{new_id, ApiKey};
use keyward_core::secret::CredentialHash;
use keyward_core::store::KeyLookup;

/// A key as a workspace would have it: a name, a display prefix, full access.
fn key(i: usize, workspace: uuid::Uuid, user: uuid::Uuid) -> KeyLookup {
    KeyLookup {
        key: ApiKey {
            seq: i as i64,
            name: format!("ci-deploy-{i:07}"),
            key_prefix: format!("kw_{:08}", i),
            ..keyward_core::fixtures::api_key(
                workspace,
                user,
                CredentialHash::from_bytes(rand::random()),
            )
        },
        creator_is_member: true,
        members_can_create_keys: false,
    }
}

/// Resident set size of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// One measurement in this process: prints the RSS growth in bytes.
fn child(mode: &str, n: usize) {
    let (workspace, user) = (new_id(), new_id());
    let before = rss();
    match mode {
        "keys" => {
            let keys: Vec<std::sync::Arc<ApiKey>> = (0..n)
                .map(|i| std::sync::Arc::new(key(i, workspace, user).key))
                .collect();
            println!("{}", rss() - before);
            drop(keys);
        }
        _ => {
            // A little headroom: the cache is sharded, and a full shard evicts before the
            // whole cache is full.
            let cache = KeyCache::new(CachePolicy {
                max_entries: (n + n / 50) as u64,
                ttl: Duration::from_secs(3600),
                ..CachePolicy::default()
            });
            for i in 0..n {
                let lookup = key(i, workspace, user);
                let hash = lookup.key.hash;
                cache.put(cache.epoch(), hash, Some(lookup));
            }
            let entries = cache.stats().entries;
            assert!(
                entries * 1000 >= n as u64 * 999,
                "only {entries} of {n} keys are cached"
            );
            println!("{}", rss() - before);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if let Some(mode @ ("keys" | "cache")) = first.as_deref() {
        let n = args
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or(1_000_000);
        child(mode, n);
        return;
    }
    let n: usize = first.and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let me = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let measure = |mode: &str| -> u64 {
        let out = Command::new(&me)
            .args([mode, &n.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    };
    let keys = measure("keys");
    let cached = measure("cache");
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("keys: {n}");
    println!(
        "RSS of the keys alone:   {:.1} MiB ({} B/key)",
        mib(keys),
        keys / n as u64
    );
    println!(
        "RSS with them cached:    {:.1} MiB ({} B/key)",
        mib(cached),
        cached / n as u64
    );
    println!(
        "the cache's own cost:    {} B per cached key beyond the key's own data",
        cached.saturating_sub(keys) / n as u64
    );
}
