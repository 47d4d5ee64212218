//! Memory of a running `keyward serve` under a flood of distinct invalid credentials (issue
//! 17, abuse limits): its RSS before, after 100,000 verifications of distinct well-formed keys
//! nobody issued (each a store lookup, then a negative cache entry), and after 100,000
//! management calls with distinct malformed Bearer tokens (each a failed authentication).
//! `bench/abuse.sh` starts the server and runs this against it:
//!
//!   cargo run --release --example abuse_rss -- URL SERVICE_TOKEN SERVER_PID [COUNT]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use keyward_core::key_format::{self, KeyFormat, KeyPrefix};

const IN_FLIGHT: usize = 32;

/// The server's resident set, in KiB, from /proc (Linux).
fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("no process {pid}: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS for {pid}"))
}

/// Sends `count` requests made by `request(i)`, `IN_FLIGHT` at a time; returns the statuses
/// seen, with how often.
async fn flood(
    count: usize,
    request: impl Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> Vec<(u16, usize)> {
    let next = Arc::new(AtomicUsize::new(0));
    let request = Arc::new(request);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (next, request) = (next.clone(), request.clone());
        workers.spawn(async move {
            let mut seen = std::collections::BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return seen;
                }
                let status = match request(i).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                *seen.entry(status).or_insert(0usize) += 1;
            }
        });
    }
    let mut all = std::collections::BTreeMap::new();
    while let Some(seen) = workers.join_next().await {
        for (status, n) in seen.unwrap_or_default() {
            *all.entry(status).or_insert(0) += n;
        }
    }
    all.into_iter().collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, token, pid, rest @ ..] = args.as_slice() else {
        eprintln!("usage: abuse_rss URL SERVICE_TOKEN SERVER_PID [COUNT]");
        std::process::exit(2);
    };
    let count: usize = rest.first().and_then(|c| c.parse().ok()).unwrap_or(100_000);
    let client = reqwest::Client::new();
    let before = rss_kib(pid);
    println!("server RSS before: {before} KiB");

    let prefix = KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
    let keys: Arc<Vec<String>> = Arc::new(
        (0..count)
            .map(|_| {
                key_format::generate(&prefix, KeyFormat::Base62)
                    .secret
                    .expose_secret()
                    .to_owned()
            })
            .collect(),
    );
    let (c, u, t) = (client.clone(), url.clone(), token.clone());
    let started = std::time::Instant::now();
    let statuses = flood(count, move |i| {
        c.post(format!("{u}/api/v1/keys/verify"))
            .bearer_auth(&t)
            .json(&serde_json::json!({ "key": keys[i] }))
    })
    .await;
    let after_verify = rss_kib(pid);
    println!(
        "{count} verifications of distinct unknown well-formed keys in {:.1} s, statuses {statuses:?}: server RSS {after_verify} KiB ({:+} KiB)",
        started.elapsed().as_secs_f64(),
        after_verify as i64 - before as i64
    );

    let (c, u) = (client.clone(), url.clone());
    let started = std::time::Instant::now();
    let statuses = flood(count, move |i| {
        c.get(format!("{u}/api/v1/users/current"))
            .bearer_auth(format!("kw_invalid{i:032}"))
    })
    .await;
    let after_auth = rss_kib(pid);
    println!(
        "{count} management calls with distinct malformed Bearer tokens in {:.1} s, statuses {statuses:?}: server RSS {after_auth} KiB ({:+} KiB)",
        started.elapsed().as_secs_f64(),
        after_auth as i64 - after_verify as i64
    );
}
