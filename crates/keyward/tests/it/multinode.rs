//! Three `keyward serve` processes over one PostgreSQL database (PRODUCT.md §8, issue 16):
//! a revocation on one node reaches the others within 1 s, over 200 trials; a node whose
//! notification connection is killed rejects the key once it has reconnected; and with the
//! database unreachable, nodes fail closed, cached keys answer for `stale_grace_seconds`,
//! no revocation is undone, and everything recovers on its own.
//!
//! The nodes reach PostgreSQL through a proxy the test can cut (`support::pgproxy`), so
//! the outage does not touch the PostgreSQL the other tests share. The figures are printed
//! (run with `--no-capture` to see them) and recorded in BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::binary::{self, Process};
use crate::support::pgproxy::PgProxy;
use crate::support::postgres;

/// How long an entry past its freshness may answer while the database is unreachable. Long
/// enough that a machine busy with other builds still verifies within it after noticing
/// the outage (3 s once failed so, with every other figure of the run 10x its usual).
const GRACE: Duration = Duration::from_secs(6);
const TRIALS: usize = 200;
const POLL: Duration = Duration::from_millis(5);

struct Cluster {
    nodes: Vec<Process>,
    client: reqwest::Client,
    owner_key: String,
    token: String,
}

impl Cluster {
    fn url(&self, node: usize, path: &str) -> String {
        format!("{}{}", self.nodes[node].base, path)
    }

    /// Creates a key through `node`; returns (id, secret).
    async fn create_key(&self, node: usize, name: &str) -> (String, String) {
        let r = self
            .client
            .post(self.url(node, "/api/v1/api-keys"))
            .bearer_auth(&self.owner_key)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.unwrap();
        (
            body["id"].as_str().unwrap().to_owned(),
            body["key"].as_str().unwrap().to_owned(),
        )
    }

    async fn revoke(&self, node: usize, id: &str) {
        let r = self
            .client
            .post(self.url(node, &format!("/api/v1/api-keys/{id}/revoke")))
            .bearer_auth(&self.owner_key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// The verify API's answer on `node`: the HTTP status and the answer or error code.
    async fn verify(&self, node: usize, key: &str) -> (StatusCode, String) {
        let r = self
            .client
            .post(self.url(node, "/api/v1/keys/verify"))
            .bearer_auth(&self.token)
            .json(&json!({ "key": key }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let code = body["code"]
            .as_str()
            .or(body["error"]["code"].as_str())
            .unwrap_or("")
            .to_owned();
        (status, code)
    }

    async fn ready(&self, node: usize) -> StatusCode {
        self.client
            .get(self.url(node, "/readyz"))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Polls `node` every [`POLL`] until the key verifies with `code`; returns how long
    /// that took, or `None` after `limit`.
    async fn until_code(
        &self,
        node: usize,
        key: &str,
        code: &str,
        limit: Duration,
    ) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.verify(node, key).await.1 == code {
                return Some(start.elapsed());
            }
            tokio::time::sleep(POLL).await;
        }
        None
    }

    async fn metric(&self, node: usize, name: &str) -> f64 {
        let text = self
            .client
            .get(self.url(node, "/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics"))
    }
}

/// The settings every node and command shares: the database through the proxy (each node
/// naming itself, so the test can find its connections), one pepper, room for the trials.
fn env<'a>(url: &'a str, pepper: &'a str) -> Vec<(&'static str, &'a str)> {
    env_with_cap(url, pepper, "1000")
}

fn env_with_cap<'a>(url: &'a str, pepper: &'a str, cap: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("KEYWARD_DATABASE_URL", url),
        ("KEYWARD_PEPPER_FILE", pepper),
        ("KEYWARD_DEFAULT_PLAN", "unlimited"),
        ("KEYWARD_MAX_KEYS_PER_WORKSPACE", cap),
        ("KEYWARD_STALE_GRACE_SECONDS", "6"),
        ("KEYWARD_CACHE_TTL_SECONDS", "300"),
    ]
}

fn admin(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> String {
    let (code, out, err) = binary::admin_env(dir, args, stdin, env);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The database's server, as `host:port`.
fn server_addr(url: &url::Url) -> std::net::SocketAddr {
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port().unwrap_or(5432);
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .unwrap()
        .next()
        .unwrap()
}

/// `url` through `proxy`, naming the connections `application_name` in
/// `pg_stat_activity`.
fn via(url: &url::Url, proxy: std::net::SocketAddr, application_name: &str) -> String {
    let mut url = url.clone();
    url.set_ip_host(proxy.ip()).unwrap();
    url.set_port(Some(proxy.port())).unwrap();
    url.query_pairs_mut()
        .append_pair("application_name", application_name);
    url.into()
}

/// Ends every session of `application_name` on the database, as an operator's
/// `pg_terminate_backend` or a connection-killing proxy would; returns how many.
async fn terminate(url: &str, application_name: &str) -> usize {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&postgres::admin_url())
        .await
        .unwrap();
    let database = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = $2",
    )
    .bind(database)
    .bind(application_name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    killed.into_iter().filter(|k| *k).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_revocations_survive_a_lost_listener_and_an_outage() {
    let (db_url, _db) = postgres::fresh_database().await;
    let parsed = url::Url::parse(&db_url).unwrap();
    let proxy = PgProxy::start(server_addr(&parsed)).await;
    let dir = tempfile::tempdir().unwrap();
    // One pepper for every node, as an operator deploys it (hex, as keyward writes it).
    let pepper_path = dir.path().join("pepper");
    std::fs::write(&pepper_path, hex::encode(rand::random::<[u8; 32]>())).unwrap();
    std::fs::set_permissions(
        &pepper_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let pepper = pepper_path.display().to_string();
    let url_for = |node: &str| via(&parsed, proxy.addr, &format!("keyward-node-{node}"));

    // Bootstrap with the admin CLI: schema, an owner with a key, a service token.
    let cli_url = url_for("cli");
    let cli_env = env(&cli_url, &pepper);
    let cli_dir = dir.path().join("cli");
    let (_, owner_key) = binary::bootstrap_env(&cli_dir, &cli_env);
    let token = admin(
        &cli_dir,
        &cli_env,
        &["admin", "service-token", "create", "--name", "nodes"],
        None,
    )
    .trim()
    .to_owned();

    let urls: Vec<String> = ["a", "b", "c"].iter().map(|n| url_for(n)).collect();
    let nodes = urls
        .iter()
        .enumerate()
        .map(|(i, url)| binary::serve(&dir.path().join(format!("node{i}")), &env(url, &pepper)))
        .collect();
    let cluster = Cluster {
        nodes,
        client: reqwest::Client::new(),
        owner_key,
        token,
    };
    let (a, b, c) = (0, 1, 2);

    // 1. Propagation: revoke on A while B and C hold the key in their caches.
    let mut delays = Vec::with_capacity(2 * TRIALS);
    for trial in 0..TRIALS {
        let (id, key) = cluster.create_key(a, &format!("trial {trial}")).await;
        for node in [b, c] {
            assert_eq!(cluster.verify(node, &key).await.1, "VALID");
        }
        cluster.revoke(a, &id).await;
        for node in [b, c] {
            let delay = cluster
                .until_code(node, &key, "REVOKED", Duration::from_secs(1))
                .await
                .unwrap_or_else(|| {
                    panic!("trial {trial}: node {node} still accepted the key after 1 s")
                });
            delays.push(delay);
        }
    }
    delays.sort();
    println!(
        "multinode: revocation reached the other nodes over {} observations: p50 {:?}, p99 {:?}, max {:?}",
        delays.len(),
        percentile(&delays, 50.0),
        percentile(&delays, 99.0),
        delays[delays.len() - 1],
    );

    // 2. B's connections are killed; a revocation made meanwhile still reaches B.
    let (id, key) = cluster.create_key(a, "listener").await;
    assert_eq!(cluster.verify(b, &key).await.1, "VALID");
    let killed = terminate(&db_url, "keyward-node-b").await;
    assert!(killed > 0, "node B had no connections to kill");
    cluster.revoke(a, &id).await;
    let after_kill = cluster
        .until_code(b, &key, "REVOKED", Duration::from_secs(10))
        .await
        .expect("node B kept accepting a key revoked while its connections were killed");
    assert!(cluster.metric(b, "keyward_change_feed_losses_total").await >= 1.0);
    println!(
        "multinode: after its connections were killed, node B rejected the key in {after_kill:?}"
    );
    let relisten = Instant::now();
    while cluster.metric(b, "keyward_change_feed_up").await < 1.0 {
        assert!(
            relisten.elapsed() < Duration::from_secs(10),
            "node B never listened again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Listening again, B hears revocations as before.
    let (id, key) = cluster.create_key(a, "after reconnect").await;
    assert_eq!(cluster.verify(b, &key).await.1, "VALID");
    cluster.revoke(a, &id).await;
    assert!(cluster
        .until_code(b, &key, "REVOKED", Duration::from_secs(1))
        .await
        .is_some());

    // 3. The database becomes unreachable.
    let (_, cached) = cluster.create_key(a, "cached on B").await;
    let (revoked_id, revoked) = cluster.create_key(a, "revoked before the outage").await;
    let (_, unseen) = cluster.create_key(a, "never verified on B").await;
    assert_eq!(cluster.verify(b, &cached).await.1, "VALID");
    assert_eq!(cluster.verify(b, &revoked).await.1, "VALID");
    cluster.revoke(a, &revoked_id).await;
    assert!(cluster
        .until_code(b, &revoked, "REVOKED", Duration::from_secs(1))
        .await
        .is_some());

    proxy.cut();
    let cut = Instant::now();
    while cluster.ready(b).await != StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            cut.elapsed() < Duration::from_secs(10),
            "/readyz stayed ready without a database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let noticed = cut.elapsed();
    assert_eq!(
        cluster.verify(b, &cached).await,
        (StatusCode::OK, "VALID".into()),
        "a cached key stopped answering within the grace ({noticed:?} after the cut)"
    );
    assert_eq!(
        cluster.verify(b, &unseen).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable".into()
        ),
        "an unknown key did not fail closed"
    );
    // B last saw this key revoked: it answers that from its cache, or fails closed.
    let during = cluster.verify(b, &revoked).await;
    assert!(
        during == (StatusCode::OK, "REVOKED".into()) || during.0 == StatusCode::SERVICE_UNAVAILABLE,
        "a revocation was undone by the outage: {during:?}"
    );
    tokio::time::sleep(GRACE + Duration::from_millis(500)).await;
    assert_eq!(
        cluster.verify(b, &cached).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable".into()
        ),
        "a cached key kept answering past the grace"
    );

    proxy.restore().await;
    let restored = Instant::now();
    // Each node retries with its own backoff (at most 5 s apart); all come back unaided.
    for node in [a, b, c] {
        while cluster.ready(node).await != StatusCode::OK {
            assert!(
                restored.elapsed() < Duration::from_secs(20),
                "node {node} did not recover"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let recovered = restored.elapsed();
    for node in [a, b, c] {
        assert_eq!(cluster.verify(node, &cached).await.1, "VALID");
        assert_eq!(cluster.verify(node, &unseen).await.1, "VALID");
        assert_eq!(cluster.verify(node, &revoked).await.1, "REVOKED");
    }
    println!(
        "multinode: outage noticed by /readyz in {noticed:?}; all three ready again {recovered:?} after the database returned"
    );
}

/// Three nodes over one database, straight to PostgreSQL (no proxy), with a hard cap of
/// `cap` keys per workspace; returns the cluster and the database's guard.
async fn cluster(dir: &Path, cap: &str) -> (Cluster, postgres::TestDatabase) {
    let (db_url, db) = postgres::fresh_database().await;
    let pepper_path = dir.join("pepper");
    std::fs::write(&pepper_path, hex::encode(rand::random::<[u8; 32]>())).unwrap();
    std::fs::set_permissions(
        &pepper_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let pepper = pepper_path.display().to_string();
    let cli_env = env_with_cap(&db_url, &pepper, cap);
    let cli_dir = dir.join("cli");
    let (_, owner_key) = binary::bootstrap_env(&cli_dir, &cli_env);
    let token = admin(
        &cli_dir,
        &cli_env,
        &["admin", "service-token", "create", "--name", "nodes"],
        None,
    )
    .trim()
    .to_owned();
    let nodes = (0..3)
        .map(|i| {
            binary::serve(
                &dir.join(format!("node{i}")),
                &env_with_cap(&db_url, &pepper, cap),
            )
        })
        .collect();
    let cluster = Cluster {
        nodes,
        client: reqwest::Client::new(),
        owner_key,
        token,
    };
    (cluster, db)
}

/// The limits hold inside the database transaction, whichever node a request lands on
/// (PRODUCT.md §5): the workspace row is locked while its keys are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_nodes_under_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, _db) = cluster(dir.path(), "50").await;
    // What the concurrent requests need, shareable across tasks (a node's process is not).
    let bases: std::sync::Arc<Vec<String>> =
        std::sync::Arc::new(cluster.nodes.iter().map(|n| n.base.clone()).collect());

    // 80 concurrent creates spread over three nodes against a cap of 50 (the owner's own key
    // is the first of the 50).
    let creates = (0..80).map(|i| {
        let (client, bases, key) = (
            cluster.client.clone(),
            bases.clone(),
            cluster.owner_key.clone(),
        );
        tokio::spawn(async move {
            client
                .post(format!("{}/api/v1/api-keys", bases[i % 3]))
                .bearer_auth(&key)
                .json(&json!({ "name": format!("concurrent {i}") }))
                .send()
                .await
                .unwrap()
        })
    });
    let mut statuses = Vec::new();
    for create in creates.collect::<Vec<_>>() {
        let r = create.await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if status != StatusCode::CREATED {
            assert_eq!(status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["error"]["code"], "key_limit_reached", "{body}");
        }
        statuses.push(status);
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(
        created, 49,
        "the owner's key plus the creates must be exactly the cap"
    );
    let listed: Vec<Value> = cluster
        .client
        .get(cluster.url(0, "/api/v1/api-keys?limit=200"))
        .bearer_auth(&cluster.owner_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        50,
        "the workspace holds more or fewer than the cap"
    );

    // 20 concurrent rotations of one key, over the three nodes: exactly one succeeds, the
    // others get a clear conflict, none a server error. Deleting keys first leaves room
    // under the cap for the successor (a rotation mints a key).
    for key in &listed[1..11] {
        let r = cluster
            .client
            .delete(cluster.url(
                1,
                &format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()),
            ))
            .bearer_auth(&cluster.owner_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let rotations = (0..20).map(|i| {
        let (client, bases, key) = (
            cluster.client.clone(),
            bases.clone(),
            cluster.owner_key.clone(),
        );
        let id = id.clone();
        tokio::spawn(async move {
            let r = client
                .post(format!("{}/api/v1/api-keys/{id}/rotate", bases[i % 3]))
                .bearer_auth(&key)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        })
    });
    let mut successes = 0;
    for rotation in rotations.collect::<Vec<_>>() {
        let (status, body) = rotation.await.unwrap();
        match status {
            StatusCode::CREATED => successes += 1,
            StatusCode::CONFLICT => assert_eq!(body["error"]["code"], "conflict", "{body}"),
            other => panic!("a rotation answered {other}: {body}"),
        }
    }
    assert_eq!(
        successes, 1,
        "one key was rotated more than once, or not at all"
    );
}
