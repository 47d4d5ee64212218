//! The data directory and the database in it, through the real binary: only `serve` and
//! `migrate` create a database, and every other command refuses to run without one.

use std::path::Path;

use crate::process::admin;

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
        vec!["admin", "service-token", "create", "--name", "svc"],
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
