//! Running the client commands of the real `keyward` binary (`context`, `apikey`, …) with a
//! config directory of their own, so no test sees another's contexts or the developer's.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use super::binary::keyward;

/// A user of the CLI: a fresh `$XDG_CONFIG_HOME` and the environment they set.
pub struct Cli {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What one command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts exit 0 and parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

impl Cli {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.into(), value.into()));
    }

    /// Where the contexts file lives for this user.
    pub fn contexts_file(&self) -> PathBuf {
        self.home.path().join("config/keyward/contexts.toml")
    }

    fn command(&self) -> std::process::Command {
        let mut command = keyward();
        command
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env_remove("NO_COLOR")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None).await
    }

    pub async fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with_stdin(args, Some(stdin)).await
    }

    async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = self.command();
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let stdin = stdin.map(str::to_owned);
        // The server under test runs on this runtime: wait for the process off it.
        tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().unwrap();
            if let Some(text) = stdin {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            let out = child.wait_with_output().unwrap();
            let run = Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            super::leaks::cli_ran(&run.stdout, &run.stderr);
            run
        })
        .await
        .unwrap()
    }

    /// Runs a command on a pseudo-terminal (util-linux `script`), as a person at a shell
    /// would; stdout and stderr both arrive in `stdout`, as on a screen.
    pub async fn run_on_terminal(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let line = std::iter::once(super::binary::BIN)
            .chain(args.iter().copied())
            .map(shell_quote)
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = std::process::Command::new("script");
        command
            .args(["-qec", &line, "/dev/null"])
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || {
            let out = command
                .output()
                .expect("util-linux `script` runs commands on a terminal");
            let run = Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            super::leaks::cli_ran(&run.stdout, &run.stderr);
            run
        })
        .await
        .unwrap()
    }
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
