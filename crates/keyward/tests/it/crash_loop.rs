//! The crash loop (issue 17): 20 times over, a `keyward serve` process takes creates,
//! revocations and rotations from three clients at once and is killed with SIGKILL at a
//! random moment, then started again on the same data. At the end, every change the server
//! acknowledged with a 2xx is there, no revocation is undone, and on SQLite
//! `PRAGMA integrity_check` says `ok`. On SQLite and on PostgreSQL.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::binary::{self, Process};
use crate::support::postgres;

const CYCLES: usize = 20;

/// What the server acknowledged, across every cycle.
#[derive(Default)]
struct Ledger {
    /// (id, secret) of each key whose create answered 201.
    created: Vec<(String, String)>,
    /// Ids whose revocation answered 200, or that a rotation with no grace revoked.
    revoked: Vec<String>,
    /// (old id, new id) of each rotation that answered 201.
    rotated: Vec<(String, String)>,
}

struct Target {
    base: String,
    owner_key: String,
    workspace: String,
}

impl Target {
    fn keys(&self) -> String {
        format!(
            "{}/api/v1/workspaces/{}/api-keys",
            self.base, self.workspace
        )
    }
}

/// One client's load until the server dies (or `down` says it was killed, for a client
/// with nothing to do yet): `kind` 0 creates, 1 revokes, 2 rotates.
async fn load(kind: usize, target: Arc<Target>, ledger: Arc<Mutex<Ledger>>, down: Arc<AtomicBool>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut n = 0;
    while !down.load(Ordering::Relaxed) {
        n += 1;
        let pick = || {
            let ledger = ledger.lock().unwrap();
            let live: Vec<&(String, String)> = ledger
                .created
                .iter()
                .filter(|(id, _)| {
                    !ledger.revoked.contains(id) && !ledger.rotated.iter().any(|(o, _)| o == id)
                })
                .collect();
            live.choose(&mut rand::thread_rng())
                .map(|(id, _)| id.clone())
        };
        let sent = match kind {
            0 => client
                .post(target.keys())
                .bearer_auth(&target.owner_key)
                .json(&json!({ "name": format!("load {kind}-{n}") }))
                .send()
                .await
                .map(|r| (r, None)),
            _ => {
                let Some(id) = pick() else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let (action, body) = if kind == 1 {
                    ("revoke", json!({}))
                } else {
                    ("rotate", json!({ "grace_period_seconds": 0 }))
                };
                client
                    .post(format!("{}/{id}/{action}", target.keys()))
                    .bearer_auth(&target.owner_key)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| (r, Some(id)))
            }
        };
        // A request the kill interrupted was never acknowledged: it may or may not have
        // happened, and the checks below ask nothing of it.
        let Ok((response, id)) = sent else { return };
        let status = response.status();
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        let mut ledger = ledger.lock().unwrap();
        match (kind, status, id) {
            (0, StatusCode::CREATED, _) => ledger.created.push((
                body["id"].as_str().unwrap().to_owned(),
                body["key"].as_str().unwrap().to_owned(),
            )),
            (1, StatusCode::OK, Some(id)) => ledger.revoked.push(id),
            (2, StatusCode::CREATED, Some(old)) => {
                let new = body["id"].as_str().unwrap().to_owned();
                ledger.revoked.push(old.clone());
                ledger.rotated.push((old, new.clone()));
                ledger
                    .created
                    .push((new, body["key"].as_str().unwrap().to_owned()));
            }
            // A key another client revoked or rotated first.
            (_, StatusCode::CONFLICT, _) => {}
            (_, status, _) => panic!("client {kind}: {status}: {body}"),
        }
    }
}

fn start(data_dir: &Path, env: &[(&str, &str)]) -> Process {
    binary::serve(data_dir, env)
}

async fn crash_loop(data_dir: &Path, env: &[(&str, &str)]) -> (Ledger, Process, Arc<Target>) {
    let (workspace, owner_key) = binary::bootstrap_env(data_dir, env);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for cycle in 0..CYCLES {
        let mut server = start(data_dir, env);
        let target = Arc::new(Target {
            base: server.base.clone(),
            owner_key: owner_key.clone(),
            workspace: workspace.clone(),
        });
        let down = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..3)
            .map(|kind| tokio::spawn(load(kind, target.clone(), ledger.clone(), down.clone())))
            .collect();
        let alive = rand::thread_rng().gen_range(150..600);
        tokio::time::sleep(Duration::from_millis(alive)).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        down.store(true, Ordering::Relaxed);
        for client in clients {
            client.await.unwrap();
        }
        let ledger = ledger.lock().unwrap();
        println!(
            "crash loop: cycle {cycle}: killed after {alive} ms; so far {} creates, {} revocations, {} rotations acknowledged",
            ledger.created.len(),
            ledger.revoked.len(),
            ledger.rotated.len()
        );
    }
    let server = start(data_dir, env);
    let target = Arc::new(Target {
        base: server.base.clone(),
        owner_key,
        workspace,
    });
    let ledger = Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap();
    (ledger, server, target)
}

/// Every acknowledged change is there after the last restart.
async fn check(ledger: &Ledger, target: &Target, token: &str) {
    assert!(
        ledger.created.len() >= CYCLES && !ledger.revoked.is_empty() && !ledger.rotated.is_empty(),
        "the load did too little to prove anything: {} creates, {} revocations, {} rotations",
        ledger.created.len(),
        ledger.revoked.len(),
        ledger.rotated.len()
    );
    let client = reqwest::Client::new();
    for (id, secret) in &ledger.created {
        let r = client
            .get(format!("{}/{id}", target.keys()))
            .bearer_auth(&target.owner_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "acknowledged key {id} is gone");
        let key: Value = r.json().await.unwrap();
        let revoked = ledger.revoked.contains(id);
        if revoked {
            assert!(
                !key["revoked_at"].is_null(),
                "revocation of {id} was undone: {key}"
            );
        }
        let verified: Value = client
            .post(format!("{}/api/v1/keys/verify", target.base))
            .bearer_auth(token)
            .json(&json!({ "key": secret }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if revoked {
            assert_eq!(verified["code"], "REVOKED", "{id}: {verified}");
        }
    }
    for (old, new) in &ledger.rotated {
        let r: Value = client
            .get(format!("{}/{old}", target.keys()))
            .bearer_auth(&target.owner_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["rotated_to"], json!(new), "rotation {old} -> {new} lost");
    }
}

fn env<'a>(extra: &[(&'static str, &'a str)]) -> Vec<(&'static str, &'a str)> {
    let mut env = vec![
        ("KEYWARD_DEFAULT_PLAN", "unlimited"),
        ("KEYWARD_MAX_KEYS_PER_WORKSPACE", "100000"),
    ];
    env.extend_from_slice(extra);
    env
}

fn service_token(data_dir: &Path, env: &[(&str, &str)]) -> String {
    let (code, out, err) = binary::admin_env(
        data_dir,
        &["admin", "service-token", "create", "--name", "checks"],
        None,
        env,
    );
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_change_through_20_kills() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let env = env(&[]);
    let (ledger, mut server, target) = crash_loop(dir, &env).await;
    let token = service_token(dir, &env);
    check(&ledger, &target, &token).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.join("keyward.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_change_through_20_kills() {
    let (url, _database) = postgres::fresh_database().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let env = env(&[("KEYWARD_DATABASE_URL", url.as_str())]);
    let (ledger, _server, target) = crash_loop(dir, &env).await;
    let token = service_token(dir, &env);
    check(&ledger, &target, &token).await;
}
