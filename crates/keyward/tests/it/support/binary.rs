//! Running the real `keyward` binary: a `serve` process on a free port, one-shot commands
//! such as `migrate` and `admin …`, and a bootstrap that makes an owner and a key with them.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_keyward");

/// The `keyward` binary, without the `KEYWARD_*` variables of whoever runs the tests: each
/// test sets the ones it means, and a developer's own (or the test script's) stay out.
pub fn keyward() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KEYWARD_") {
            command.env_remove(name);
        }
    }
    command
}

/// A `keyward serve` process on a free port, over `data_dir`.
pub struct Process {
    pub child: Child,
    pub base: String,
    output: std::sync::mpsc::Receiver<String>,
}

/// `keyward` on `data_dir`'s database: its SQLite file, or in a PostgreSQL run a database
/// of its own (`support::postgres::database_for`). A test's own `KEYWARD_DATABASE_URL`
/// (in its `env`) still wins.
pub fn on_data_dir(data_dir: &Path) -> Command {
    let mut command = keyward();
    if super::postgres::enabled() {
        command.env(
            "KEYWARD_DATABASE_URL",
            super::postgres::database_for(data_dir),
        );
    }
    command
}

pub fn serve(data_dir: &Path, env: &[(&str, &str)]) -> Process {
    let mut command = on_data_dir(data_dir);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // With the leak scan on, its logs are kept, as JSON at debug level.
    if let Some(log) = super::leaks::process_log() {
        command
            .env("KEYWARD_LOG_FORMAT", "json")
            .env("RUST_LOG", super::leaks::DEBUG)
            .stderr(log);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("keyward listening on ")
        .unwrap_or_else(|| panic!("unexpected: {first}"))
        .to_owned();
    // Later lines (the first-user hint) are read on a thread, so the pipe never fills.
    let (tx, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Process {
        child,
        base,
        output,
    }
}

/// A test that fails half-way must not leave its server running.
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Waits up to 10 s for a line of output containing `needle`.
    pub fn wait_for_output(&self, needle: &str) -> Result<String, String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut seen = String::new();
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(line),
                Ok(line) => seen.push_str(&line),
                Err(_) => break,
            }
        }
        Err(seen)
    }
}

/// A `keyward serve` whose log is kept, for tests that read it: [`LoggedServer::stop`] sends
/// SIGTERM and returns what it wrote to stderr.
pub struct LoggedServer {
    child: Child,
    pub base: String,
    /// Held open, so the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

/// Runs `command` (the binary, with the environment the test chose) as `serve` over
/// `data_dir` on a free port, with stdout and stderr piped.
pub fn serve_logged(mut command: Command, data_dir: &Path) -> LoggedServer {
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("keyward listening on ")
        .unwrap_or_else(|| panic!("unexpected: {first}"))
        .to_owned();
    LoggedServer {
        child,
        base,
        _stdout: stdout,
    }
}

impl LoggedServer {
    /// Stops the server as an operator would (SIGTERM) and returns its log.
    pub fn stop(self) -> String {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let out = self.child.wait_with_output().unwrap();
        String::from_utf8(out.stderr).unwrap()
    }
}

pub fn admin(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    admin_env(data_dir, args, stdin, &[])
}

/// `keyward <args> --data-dir <data_dir>` with extra environment variables; returns the exit
/// code, stdout and stderr.
pub fn admin_env(
    data_dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut child = on_data_dir(data_dir)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    super::leaks::cli_ran(&stdout, &stderr);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Creates the database, then makes a verified owner with a workspace through the admin CLI;
/// returns (workspace id, key).
pub fn bootstrap(dir: &Path) -> (String, String) {
    bootstrap_env(dir, &[])
}

/// [`bootstrap`] with extra environment variables (another database, a shared pepper).
pub fn bootstrap_env(dir: &Path, env: &[(&str, &str)]) -> (String, String) {
    let admin = |dir: &Path, args: &[&str], stdin: Option<&str>| admin_env(dir, args, stdin, env);
    let (code, _, err) = admin(dir, &["migrate"], None);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = admin(
        dir,
        &[
            "admin",
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
            "--verified",
            "--workspace",
            "Ops",
            "--json",
        ],
        Some("correct horse battery staple\n"),
    );
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let ws = created["workspace"]["id"].as_str().unwrap().to_owned();
    let (code, out, err) = admin(
        dir,
        &[
            "admin",
            "apikey",
            "create",
            "--name",
            "ops",
            "--user-id",
            "OPS@example.com",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let key = out
        .trim()
        .strip_prefix("Created: ")
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    (ws, key)
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}
