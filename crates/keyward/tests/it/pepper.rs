//! The pepper fingerprint (PRODUCT.md §8): a node whose pepper is not the one the database
//! was made with refuses to start, instead of answering 401 to every key.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::binary::{admin, admin_env, bootstrap, on_data_dir};
use crate::support::legacy;

const OTHER_PEPPER: &str = "another instance's pepper, 32 bytes+";

/// Runs `keyward <args> --data-dir <dir>` for at most 10 s. Returns the exit code (`None`
/// when it was still running, e.g. a server that started, and was killed) and stderr.
fn run_briefly(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = on_data_dir(dir)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (code, err)
}

fn assert_pepper_refused(code: Option<i32>, err: &str, what: &str) {
    assert_eq!(code, Some(1), "{what} must refuse to start: {err}");
    assert!(
        err.contains("pepper") && err.contains("does not match"),
        "{what} must say the pepper does not match: {err}"
    );
    assert!(
        err.contains("backup") && err.contains("KEYWARD_PEPPER"),
        "{what} must say what to do: {err}"
    );
    assert!(
        !err.contains(OTHER_PEPPER),
        "{what} printed the pepper: {err}"
    );
}

#[test]
fn a_wrong_pepper_is_refused_by_serve_and_every_admin_command() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, _) = bootstrap(tmp.path());
    let wrong = [("KEYWARD_PEPPER", OTHER_PEPPER)];
    let (code, err) = run_briefly(tmp.path(), &["serve", "--listen", "127.0.0.1:0"], &wrong);
    assert_pepper_refused(code, &err, "serve");
    for args in [
        vec!["admin", "apikey", "list", "--workspace", ws.as_str()],
        vec!["admin", "service-token", "create", "--name", "svc"],
        vec!["admin", "user", "create", "--email", "b@example.com"],
    ] {
        let (code, _, err) = admin_env(tmp.path(), &args, None, &wrong);
        assert_pepper_refused(Some(code), &err, &args.join(" "));
    }
    // The right pepper still works, and the refusals changed nothing.
    let (code, _, err) = admin(
        tmp.path(),
        &["admin", "apikey", "list", "--workspace", &ws],
        None,
    );
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn a_database_from_before_fingerprints_records_one_at_first_start() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("keyward.db");
    // An install made by an older keyward: data, a pepper file, and no fingerprint.
    let pool = legacy::database(&db).await;
    legacy::insert_user(&pool, "old@example.com").await;
    pool.close().await;
    let pepper = "the pepper this install always had";
    std::fs::write(tmp.path().join("pepper"), pepper).unwrap();

    let (_, _, err) = admin(
        tmp.path(),
        &["admin", "apikey", "list", "--user-id", "old@example.com"],
        None,
    );
    assert!(!err.contains("does not match"), "{err}");
    let recorded = legacy::pepper_fingerprint(&db).await;
    let expected = keyward_core::secret::Pepper::new(pepper.as_bytes().to_vec()).fingerprint();
    assert_eq!(recorded.as_deref(), Some(&expected.expose_secret()[..]));

    let (code, err) = run_briefly(
        tmp.path(),
        &["admin", "apikey", "list", "--user-id", "old@example.com"],
        &[("KEYWARD_PEPPER", OTHER_PEPPER)],
    );
    assert_pepper_refused(code, &err, "the next start with another pepper");
}

#[tokio::test]
async fn a_lost_pepper_is_not_replaced_in_an_old_database_that_holds_only_service_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let pool = legacy::database(&tmp.path().join("keyward.db")).await;
    legacy::insert_service_token(&pool, "billing", 0).await;
    pool.close().await;
    let (code, _, err) = admin(tmp.path(), &["admin", "service-token", "list"], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pepper") && err.contains("backup"), "{err}");
    assert!(!tmp.path().join("pepper").exists(), "a new pepper was made");
}
