//! Running a seed doc's own curl examples against a test server: the command is the doc's
//! text with only its host and its placeholders replaced, run by bash and the real `curl`.
//!
//! Placeholders the doc writes as shell variables (`$SMPLKIT_API_KEY`, `$KEY_ID`) are set as
//! environment variables, so the doc's own quoting (`'"$KEY_ID"'`) does the work it does for
//! a reader; placeholders written as text (`<token>`, `{id}`, `sk_api_<your_new_secret>`)
//! are replaced in the text. The only other change is to curl's output options, added in
//! front so that the test can read the status, headers and body.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use reqwest::StatusCode;
use serde_json::Value;

/// One doc's examples against one server.
pub struct Doc {
    /// The doc's host, e.g. `https://app.smplkit.com`, replaced by the server's base URL.
    host: &'static str,
    base: String,
    env: BTreeMap<String, String>,
    text: Vec<(String, String)>,
}

/// What curl received.
#[derive(Debug)]
pub struct DocReply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Doc {
    pub fn new(host: &'static str, base: &str) -> Doc {
        Doc {
            host,
            base: base.to_owned(),
            env: BTreeMap::new(),
            text: Vec::new(),
        }
    }

    /// Sets a placeholder the doc writes as a shell variable, e.g. `KEY_ID`.
    pub fn var(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Replaces a placeholder the doc writes as text, e.g. `<token>`.
    pub fn placeholder(&mut self, text: &str, value: &str) -> &mut Self {
        self.text.retain(|(t, _)| t != text);
        self.text.push((text.to_owned(), value.to_owned()));
        self
    }

    /// A date the doc shows, kept as written while it is in the future. Once it has passed,
    /// an example that creates a key expiring then would be refused for being in the past,
    /// so the date moves forward by whole years: same day, same time, still a valid request.
    pub fn future_date(&mut self, written: &str) -> &mut Self {
        let Ok(at) = DateTime::parse_from_rfc3339(written) else {
            panic!("the doc's date {written} is not RFC 3339");
        };
        let mut at = at.with_timezone(&Utc);
        while at <= Utc::now() {
            at = at.with_year(at.year() + 1).unwrap();
        }
        let shown = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if shown != written {
            self.placeholder(written, &shown);
        }
        self
    }

    /// The command that runs: the doc's, with its host and text placeholders replaced.
    pub fn command(&self, curl: &str) -> String {
        let mut command = curl.trim().replace(self.host, &self.base);
        for (text, value) in &self.text {
            command = command.replace(text, value);
        }
        command
    }

    /// Runs one example; it must be a curl command.
    pub async fn run(&self, curl: &str) -> DocReply {
        let command = self.command(curl);
        let rest = command
            .strip_prefix("curl ")
            .unwrap_or_else(|| panic!("not a curl command: {command}"));
        let dir = tempfile::tempdir().unwrap();
        let body_file = dir.path().join("body");
        let header_file = dir.path().join("headers");
        let script = format!(
            "curl -sS -o '{}' -D '{}' -w '%{{http_code}}' {rest}",
            body_file.display(),
            header_file.display()
        );
        let out = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .envs(&self.env)
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run bash: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "curl failed: {}\n{command}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = StatusCode::from_u16(stdout.trim().parse().unwrap()).unwrap();
        let text = std::fs::read_to_string(&body_file).unwrap_or_default();
        let headers = std::fs::read_to_string(&header_file).unwrap_or_default();
        let content_type = headers
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        DocReply {
            status,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }
}

/// The names of a JSON object's fields, sorted: to check a body's shape against the doc's.
pub fn fields(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// `names`, sorted, as owned strings.
pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    names.sort();
    names
}
