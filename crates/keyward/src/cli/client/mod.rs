//! The client commands: `keyward context|whoami|apikey|member|audit|verify`. They talk to a
//! keyward server over HTTP like any other API caller, never to a database, so they work
//! from a laptop against a server anywhere.
//!
//! Which server and key: `--context NAME` if given; otherwise `KEYWARD_URL` and
//! `KEYWARD_API_KEY`, each falling back to the current context's value.
//!
//! Exit codes: 0 success, 1 the API refused (code and message on stderr), 2 usage,
//! 3 the server cannot be reached (with the URL tried).

pub mod apikey;
pub mod audit;
pub mod context;
pub mod member;
pub mod render;
pub mod verify;
pub mod whoami;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Args;
use keyward_client::{Client, ClientError, Context, Contexts};
use keyward_core::secret::SecretString;
use serde_json::Value;

/// Options every client command takes.
#[derive(Args, Debug, Clone, Default)]
pub struct ClientOpts {
    /// Use this stored context instead of the current one (and of KEYWARD_URL/KEYWARD_API_KEY).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Why a client command failed, and so its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The server refused: exit 1.
    Client(ClientError),
    /// Anything else that is not the user's typing, e.g. an unreadable contexts file: exit 1.
    Other(String),
    /// The command line cannot work as given: exit 2.
    Usage(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Client(e)
    }
}

impl From<keyward_client::ContextError> for Failure {
    fn from(e: keyward_client::ContextError) -> Self {
        match e {
            keyward_client::ContextError::Unknown(_)
            | keyward_client::ContextError::InvalidName => Failure::Usage(e.to_string()),
            _ => Failure::Other(e.to_string()),
        }
    }
}

pub type Outcome = Result<(), Failure>;

/// Runs a client command on its own runtime and turns its outcome into an exit code.
pub fn exit(outcome: impl std::future::Future<Output = Outcome>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let (message, code) = match runtime.block_on(outcome) {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Client(ClientError::Api(e))) => match &e.request_id {
            Some(id) => (format!("{e}\n(request id {id})"), 1),
            None => (e.to_string(), 1),
        },
        Err(Failure::Client(e @ ClientError::Unreachable { .. })) => (e.to_string(), 3),
        Err(Failure::Client(e)) => (e.to_string(), 1),
        Err(Failure::Other(message)) => (message, 1),
        Err(Failure::Usage(message)) => (message, 2),
    };
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// The contexts file in the user's config directory.
pub fn contexts() -> Result<Contexts, Failure> {
    Ok(Contexts::load(&Contexts::default_dir()?)?)
}

/// The server, API key and context a command uses.
pub struct Connection {
    pub url: String,
    pub api_key: Option<SecretString>,
    pub context: Option<Context>,
}

/// From `--context` if given; otherwise `KEYWARD_URL` and `KEYWARD_API_KEY`, each falling
/// back to the current context.
pub fn connection(opts: &ClientOpts) -> Result<Connection, Failure> {
    let stored = contexts()?;
    if let Some(name) = &opts.context {
        let context = stored.get(name)?;
        return Ok(Connection {
            url: context.url.clone(),
            api_key: Some(context.api_key.clone()),
            context: Some(context),
        });
    }
    let current = stored.current();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let url = env("KEYWARD_URL")
        .or_else(|| current.as_ref().map(|c| c.url.clone()))
        .ok_or_else(|| Failure::Usage(NO_SERVER.into()))?;
    let api_key = env("KEYWARD_API_KEY")
        .map(SecretString::new)
        .or_else(|| current.as_ref().map(|c| c.api_key.clone()));
    Ok(Connection {
        url,
        api_key,
        context: current,
    })
}

const NO_SERVER: &str = "no server to talk to: add one with \
    `keyward context add NAME --url URL --api-key-stdin`, or set KEYWARD_URL and KEYWARD_API_KEY";

/// A client for the management API, with an API key.
pub fn client(opts: &ClientOpts) -> Result<Client, Failure> {
    let Connection { url, api_key, .. } = connection(opts)?;
    let key = api_key.ok_or_else(|| Failure::Usage(NO_SERVER.into()))?;
    Client::new(&url, key).map_err(Failure::Usage)
}

/// The caller's workspace id, for the paths that need one (members, audit events). An API
/// key belongs to exactly one workspace, so `/users/current` names it.
pub async fn workspace_id(client: &Client) -> Result<String, Failure> {
    let me = client.get("users/current", &[]).await?;
    me.get("workspace")
        .and_then(|w| w.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::Other("the server did not say which workspace this key is in".into())
        })
}

/// A listing: every page with `--all`, else the first, and whether more pages follow.
pub async fn listing(
    api: &Client,
    path: &str,
    query: &[(&str, String)],
    all: bool,
) -> Result<(Vec<Value>, bool), Failure> {
    if all {
        return Ok((api.all(path, query).await?, false));
    }
    let page = api.page(path, query).await?;
    Ok((page.items, page.next.is_some()))
}

/// One line from stdin, trimmed: for `--api-key-stdin` and `verify -`, so that a secret
/// never sits in the shell history or the process list.
pub fn read_stdin_line(what: &str) -> Result<SecretString, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Other(format!("cannot read {what} from stdin: {e}")))?;
    let value = line.trim();
    if value.is_empty() {
        return Err(Failure::Usage(format!("stdin held no {what}")));
    }
    Ok(SecretString::new(value.to_owned()))
}

/// Asks a yes/no question on stderr. Refuses (a usage error) when stdin is not a terminal,
/// because a script that meant to confirm should say `--yes` rather than pipe an answer.
pub fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "refusing to ask for confirmation: stdin is not a terminal; pass --yes".into(),
        ));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::Other(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// Parses `90d`, `1h`, `1h30m` into seconds.
pub fn seconds(text: &str, flag: &str) -> Result<u64, Failure> {
    humantime::parse_duration(text.trim())
        .map(|d| d.as_secs())
        .map_err(|_| Failure::Usage(format!("{flag} takes a duration such as 90d, 12h or 1h30m")))
}
