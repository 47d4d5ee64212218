//! Writes that PostgreSQL rolls back as the loser of a deadlock (`40P01`) or a serialization
//! conflict (`40001`) are run again inside keyward (issue 16): the client sees one success,
//! never a 500, and nothing the rolled-back attempts wrote survives. When every attempt
//! loses, the client gets a 503 `service_unavailable` it can retry.
//!
//! Real deadlocks are timing-dependent, so a trigger injects the same SQLSTATEs PostgreSQL
//! raises for them, from inside the transaction, at the statement a deadlock would hit. It
//! counts attempts in a sequence, because `nextval` is not undone by the rollback.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::support::{binary, key_path, postgres, TestApp};

/// Installs a fault on `event` (`INSERT` or `UPDATE`) of `api_keys` that raises `sqlstate`
/// on the first `failures` statements, and passes after.
async fn inject(db: &mut PgConnection, event: &str, sqlstate: &str, failures: i64) {
    let setup = [
        "CREATE SEQUENCE kwt_fault_attempts".to_owned(),
        format!(
            "CREATE FUNCTION kwt_fault() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF nextval('kwt_fault_attempts') <= {failures} THEN
                 RAISE EXCEPTION 'injected by the test' USING ERRCODE = '{sqlstate}';
               END IF;
               RETURN NEW;
             END $$"
        ),
        format!(
            "CREATE TRIGGER kwt_fault BEFORE {event} ON api_keys
             FOR EACH ROW EXECUTE FUNCTION kwt_fault()"
        ),
    ];
    for statement in setup {
        sqlx::query(&statement).execute(&mut *db).await.unwrap();
    }
}

/// How many times the faulty statement ran.
async fn attempts(db: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM kwt_fault_attempts",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

async fn clear(db: &mut PgConnection) {
    for statement in [
        "DROP TRIGGER kwt_fault ON api_keys",
        "DROP FUNCTION kwt_fault()",
        "DROP SEQUENCE kwt_fault_attempts",
    ] {
        sqlx::query(statement).execute(&mut *db).await.unwrap();
    }
}

/// A server on a database of its own, with a connection to it for the faults.
async fn app() -> (TestApp, PgConnection, postgres::TestDatabase) {
    let (url, database) = postgres::fresh_database().await;
    let server_url = url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.database_url = Some(keyward::config::DatabaseUrl(server_url));
    })
    .await;
    let db = PgConnection::connect(&url).await.unwrap();
    (app, db, database)
}

async fn count(db: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[tokio::test]
async fn a_create_that_loses_two_deadlocks_is_run_again_and_made_once() {
    let (app, mut db, _database) = app().await;
    let owner = app.owner().await;
    inject(&mut db, "INSERT", "40P01", 2).await;

    let r = app
        .create_key(&owner, json!({"name": "after two deadlocks"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        attempts(&mut db).await,
        3,
        "two losing attempts and the winner"
    );
    let made = count(
        &mut db,
        "SELECT count(*) FROM api_keys WHERE name = 'after two deadlocks'",
    )
    .await;
    assert_eq!(made, 1, "the rolled-back attempts left no key");
    let events = count(
        &mut db,
        "SELECT count(*) FROM audit_events WHERE action = 'api_key.created'",
    )
    .await;
    assert_eq!(
        events, 2,
        "the owner's key and this one, no event of a lost attempt"
    );

    // The secret the client got is the winner's: it verifies.
    let token = app.service_token().await;
    let secret = r.body["key"].as_str().unwrap();
    assert_eq!(app.verify_code(&token, secret, None).await, "VALID");
}

#[tokio::test]
async fn a_rotation_that_loses_serialization_conflicts_succeeds_once() {
    let (app, mut db, _database) = app().await;
    let owner = app.owner().await;
    let created = app.create_key(&owner, json!({"name": "rotated"})).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    // The rotation updates the old key after inserting its successor: the conflict strikes
    // after a row was written, which the rollback must undo.
    inject(&mut db, "UPDATE", "40001", 3).await;

    let path = format!("{}/rotate", key_path(owner.workspace_id, &id));
    let r = app.post(&path, &owner.key, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(attempts(&mut db).await, 4);
    let successors = count(
        &mut db,
        &format!("SELECT count(*) FROM api_keys WHERE rotated_from = '{id}'"),
    )
    .await;
    assert_eq!(successors, 1, "one successor, none from the lost attempts");

    // A second rotation of the same key is refused as a rule, not retried into a second one.
    clear(&mut db).await;
    let again = app.post(&path, &owner.key, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

#[tokio::test]
async fn a_write_that_loses_every_attempt_is_a_503_and_writes_nothing() {
    let (app, mut db, _database) = app().await;
    let owner = app.owner().await;
    inject(&mut db, "INSERT", "40P01", 1_000).await;

    let r = app.create_key(&owner, json!({"name": "never"})).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.code(), "service_unavailable");
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("conflicting writes"), "{message}");
    assert_eq!(
        attempts(&mut db).await,
        5,
        "five attempts, then the client is told"
    );
    let made = count(
        &mut db,
        "SELECT count(*) FROM api_keys WHERE name = 'never'",
    )
    .await;
    assert_eq!(made, 0);

    // Once the writes stop colliding, the same request goes through at once.
    clear(&mut db).await;
    let r = app.create_key(&owner, json!({"name": "never"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Two imports whose files name the same two workspaces in opposite orders, run at once by
/// two `keyward admin import-keys` processes, several times over: each locks both workspaces
/// in its batch, and none of them fails or waits out a deadlock.
#[test]
fn concurrent_imports_over_the_same_workspaces_in_opposite_orders_all_succeed() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, _database) = runtime.block_on(postgres::fresh_database());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let env = [
        ("KEYWARD_DATABASE_URL", url.as_str()),
        ("KEYWARD_DEFAULT_PLAN", "unlimited"),
        ("KEYWARD_MAX_KEYS_PER_WORKSPACE", "100000"),
    ];
    binary::bootstrap_env(dir, &env);
    let (code, _, err) = binary::admin_env(
        dir,
        &[
            "admin",
            "user",
            "create",
            "--email",
            "two@example.com",
            "--verified",
            "--workspace",
            "Two",
        ],
        None,
        &env,
    );
    assert_eq!(code, 0, "{err}");

    const ROUNDS: usize = 6;
    const ROWS: usize = 200;
    for round in 0..ROUNDS {
        let file = |first: &str, second: &str, side: &str| {
            let rows: Vec<String> = (0..ROWS)
                .map(|n| {
                    let workspace = if n % 2 == 0 { first } else { second };
                    format!("{workspace},k{n},legacy-{side}-{round}-{n:06}")
                })
                .collect();
            let path = dir.join(format!("{side}-{round}.csv"));
            std::fs::write(&path, format!("workspace,name,key\n{}\n", rows.join("\n"))).unwrap();
            path
        };
        let paths = [file("Ops", "Two", "a"), file("Two", "Ops", "b")];
        let started = std::time::Instant::now();
        let outcomes: Vec<(i32, String, String)> = std::thread::scope(|s| {
            let runs: Vec<_> = paths
                .iter()
                .map(|path| {
                    let path = path.to_str().unwrap();
                    let env = &env;
                    s.spawn(move || {
                        binary::admin_env(dir, &["admin", "import-keys", path, "--json"], None, env)
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for (code, out, err) in outcomes {
            assert_eq!(code, 0, "round {round}: {out}{err}");
            let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(summary["imported"], ROWS, "round {round}: {out}");
        }
        println!("contention: round {round} took {:?}", started.elapsed());
    }

    let (total, deadlocks) = runtime.block_on(async {
        let mut db = PgConnection::connect(&url).await.unwrap();
        let imported = "SELECT count(*) FROM api_keys WHERE source = 'imported'";
        let deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()";
        (
            count(&mut db, imported).await,
            count(&mut db, deadlocks).await,
        )
    });
    assert_eq!(total, (2 * ROUNDS * ROWS) as i64);
    // Without the ordered locking the imports still succeed, because the loser of a
    // deadlock is run again, but only after PostgreSQL's deadlock_timeout (1 s) has passed.
    assert_eq!(
        deadlocks, 0,
        "the imports locked the workspaces in different orders"
    );
}
