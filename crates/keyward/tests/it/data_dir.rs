//! The data directory and the database in it, through the real binary: only `serve` and
//! `migrate` create a database, every other command refuses to run without one, and the
//! files are private to keyward's user (PRODUCT.md §8).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::binary::{admin, bootstrap, serve};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every admin command that reads or changes data, with arguments that would be valid.
fn data_commands() -> Vec<Vec<&'static str>> {
    const WS: &str = "0190f5a8-0000-7000-8000-000000000001";
    vec![
        vec!["admin", "user", "create", "--email", "a@example.com"],
        vec![
            "admin",
            "apikey",
            "create",
            "--name",
            "k",
            "--user-id",
            "a@example.com",
        ],
        vec!["admin", "apikey", "list", "--workspace", WS],
        vec!["admin", "apikey", "list", "--user-id", "a@example.com"],
        vec!["admin", "apikey", "revoke", WS],
        vec!["admin", "workspace", "set-plan", WS, "pro"],
        vec!["admin", "user", "list"],
        vec!["admin", "user", "verify", "a@example.com"],
        vec!["admin", "workspace", "list"],
        vec!["admin", "service-token", "create", "--name", "svc"],
        vec!["admin", "service-token", "list"],
        vec!["admin", "service-token", "revoke", "svc"],
    ]
}

fn assert_refused_without_creating(dir: &Path, args: &[&str]) {
    let (code, out, err) = admin(dir, args, None);
    assert_eq!(code, 1, "{args:?}: {out}{err}");
    assert!(
        err.contains("no keyward database")
            && err.contains("keyward migrate")
            && err.contains("--data-dir"),
        "{args:?} must say how to create the database: {err}"
    );
    assert!(
        !dir.join("keyward.db").exists(),
        "{args:?} created a database"
    );
    assert!(!dir.join("pepper").exists(), "{args:?} created a pepper");
}

#[test]
fn admin_commands_without_a_database_fail_and_create_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("typo/keyward-data");
    for args in data_commands() {
        assert_refused_without_creating(&missing, &args);
        assert!(
            !tmp.path().join("typo").exists(),
            "{args:?} created the data directory"
        );
    }
    // An existing directory that holds no database gets nothing written into it either.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in data_commands() {
        assert_refused_without_creating(&empty, &args);
    }
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
}

#[test]
fn migrate_creates_the_database_and_admin_commands_then_work() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new/keyward-data");
    let (code, _, err) = admin(&dir, &["migrate"], None);
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("keyward.db").exists());
    let (code, out, err) = admin(
        &dir,
        &["admin", "user", "create", "--email", "a@example.com"],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn the_database_its_wal_and_shm_are_0600_and_the_data_directory_0700() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keyward-data");
    let (ws, key) = bootstrap(&dir);
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&dir.join("keyward.db")), 0o600, "database");
    assert_eq!(mode(&dir.join("pepper")), 0o600, "pepper");
    // A running server holds the WAL and shared-memory files open; a write fills the WAL.
    let mut server = serve(&dir, &[]);
    let created = crate::support::binary::http()
        .post(format!("{}/api/v1/workspaces/{ws}/api-keys", server.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "fills the wal"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    for file in ["keyward.db-wal", "keyward.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    server.child.kill().unwrap();
}

#[test]
fn files_of_an_existing_install_that_are_too_open_are_tightened_and_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keyward-data");
    let (ws, _) = bootstrap(&dir);
    let mut server = serve(&dir, &[]);
    let files = ["keyward.db", "keyward.db-wal", "keyward.db-shm", "pepper"];
    // What an install made before the fix looks like: world-readable files.
    set_mode(&dir, 0o755);
    for file in files {
        set_mode(&dir.join(file), 0o644);
    }
    let (code, _, err) = admin(&dir, &["admin", "apikey", "list", "--workspace", &ws], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&dir), 0o700, "data directory");
    for file in files {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        assert!(
            err.lines()
                .any(|l| l.contains("tightened") && l.contains(file)),
            "no log line about {file}: {err}"
        );
    }
    server.child.kill().unwrap();
}
