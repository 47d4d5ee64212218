//! Request logs (PRODUCT.md §8), read from the real binary's stderr: one `info` line per
//! request with its method, route template, status, latency, request id and credential id,
//! never a raw path or a secret, and no colour codes when stderr is not a terminal.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::support::binary::{keyward, serve_logged};

fn admin_json(dir: &Path, args: &[&str], stdin: &str) -> Value {
    let mut child = keyward()
        .args(args)
        .args(["--json", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An owner's key (`id`, `workspace_id`, `key`) and a service token (`id`, `token`), in a
/// database made by `keyward migrate` (admin commands never create one).
fn bootstrap(dir: &Path) -> (Value, Value) {
    let migrated = keyward()
        .args(["migrate", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let user = [
        "admin",
        "user",
        "create",
        "--email",
        "log@example.com",
        "--password-stdin",
        "--verified",
        "--workspace",
        "Logs",
    ];
    admin_json(dir, &user, "a very long password indeed\n");
    let key = [
        "admin",
        "apikey",
        "create",
        "--name",
        "k",
        "--user-id",
        "log@example.com",
    ];
    let token = ["admin", "service-token", "create", "--name", "svc"];
    (admin_json(dir, &key, ""), admin_json(dir, &token, ""))
}

/// Serves over `dir` with `log_format`, runs `requests` against its base URL, stops it
/// with SIGTERM, and returns what it wrote to stderr.
fn serve_and_log(dir: &Path, log_format: &str, requests: impl FnOnce(&str)) -> String {
    let mut command = keyward();
    command
        .env("KEYWARD_LOG_FORMAT", log_format)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR");
    let server = serve_logged(command, dir);
    requests(&server.base);
    server.stop()
}

/// Sends a request and returns (status, the X-Request-Id it got).
fn send(req: reqwest::blocking::RequestBuilder) -> (u16, String) {
    let r = req.send().unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    (r.status().as_u16(), id)
}

/// The one line that logs the request `request_id`.
fn line_of<'a>(logs: &'a str, request_id: &str) -> &'a str {
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(request_id) && l.contains("status"))
        .collect();
    assert_eq!(lines.len(), 1, "one line for {request_id} in:\n{logs}");
    lines[0]
}

#[test]
fn every_request_is_logged_once_at_info_with_its_route_template_status_and_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, token) = bootstrap(tmp.path());
    let (secret, key_id, ws) = (
        key["key"].as_str().unwrap(),
        key["id"].as_str().unwrap(),
        key["workspace_id"].as_str().unwrap(),
    );
    let mut sent = Vec::new();
    let logs = serve_and_log(tmp.path(), "text", |base| {
        let http = reqwest::blocking::Client::new();
        let one_key = format!("{base}/api/v1/workspaces/{ws}/api-keys/{key_id}");
        sent.push(send(http.get(&one_key).bearer_auth(secret)));
        sent.push(send(http.get(format!("{base}/api/v1/users/current"))));
        let verify = http
            .post(format!("{base}/api/v1/keys/verify"))
            .bearer_auth(token["token"].as_str().unwrap())
            .json(&json!({"key": secret}));
        sent.push(send(verify));
        sent.push(send(http.get(format!("{base}/no/such/{ws}"))));
    });
    assert_eq!(
        sent.iter().map(|(status, _)| *status).collect::<Vec<_>>(),
        [200, 401, 200, 404]
    );
    assert!(
        !logs.contains("\x1b["),
        "colour codes in piped logs:\n{logs}"
    );

    let read = line_of(&logs, &sent[0].1);
    for part in [
        "INFO",
        "method=GET",
        "route=/api/v1/workspaces/{workspace_id}/api-keys/{id}",
        "status=200",
        "latency_ms=",
        &format!("key_id={key_id}"),
    ] {
        assert!(read.contains(part), "{part} missing from: {read}");
    }
    assert!(!read.contains(ws), "the raw path holds ids: {read}");

    let anonymous = line_of(&logs, &sent[1].1);
    assert!(anonymous.contains("status=401"), "{anonymous}");
    assert!(!anonymous.contains("key_id="), "{anonymous}");

    let verify = line_of(&logs, &sent[2].1);
    let token_id = format!("service_token_id={}", token["id"].as_str().unwrap());
    assert!(verify.contains(&token_id), "{verify}");

    let unmatched = line_of(&logs, &sent[3].1);
    assert!(
        unmatched.contains("route=unmatched") && !unmatched.contains(ws),
        "{unmatched}"
    );
    for secret in [secret, token["token"].as_str().unwrap()] {
        assert!(!logs.contains(secret), "a secret reached the log");
    }
}

#[test]
fn json_request_lines_carry_each_field_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, _) = bootstrap(tmp.path());
    let mut sent = None;
    let logs = serve_and_log(tmp.path(), "json", |base| {
        let http = reqwest::blocking::Client::new();
        let url = format!("{base}/api/v1/users/current");
        sent = Some(send(
            http.get(url).bearer_auth(key["key"].as_str().unwrap()),
        ));
    });
    let (_, request_id) = sent.unwrap();
    let line: Value = serde_json::from_str(line_of(&logs, &request_id)).unwrap();
    assert_eq!(line["level"], "INFO", "{line}");
    let fields = &line["fields"];
    assert_eq!(fields["request_id"], json!(request_id), "{line}");
    assert_eq!(fields["method"], "GET", "{line}");
    assert_eq!(fields["route"], "/api/v1/users/current", "{line}");
    assert_eq!(fields["status"], 200, "{line}");
    assert_eq!(fields["key_id"], key["id"], "{line}");
    assert!(fields["latency_ms"].is_number(), "{line}");
}
