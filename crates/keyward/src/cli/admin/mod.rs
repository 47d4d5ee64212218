//! `keyward admin ...`: the operator's commands. They open the database directly and act as
//! the `system` actor: no role or email checks, but every data rule (limits, validation, a
//! key never exceeding its user's scopes) holds, because they call the same service layer.
//!
//! One file per subcommand; this one holds the dispatch and what they share.

mod import;
mod keys;
mod lookup;
mod tokens;
mod users;
mod workspaces;

use std::io::Read;

use clap::Subcommand;
use keyward_core::model::User;
use keyward_core::secret::SecretString;
use keyward_core::service::Page;
use keyward_core::{Error, Service};

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Users.
    #[command(
        after_help = "Examples:\n  keyward admin user list\n  keyward admin user verify ada@example.com"
    )]
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// API keys.
    #[command(
        after_help = "Examples:\n  keyward admin apikey list --user-id ada@example.com\n  keyward admin apikey create --name first-key --user-id ada@example.com"
    )]
    Apikey {
        #[command(subcommand)]
        command: keys::ApikeyCommand,
    },
    /// Workspaces.
    #[command(
        after_help = "Examples:\n  keyward admin workspace list\n  keyward admin workspace set-plan 0192f3c4-... pro"
    )]
    Workspace {
        #[command(subcommand)]
        command: workspaces::WorkspaceCommand,
    },
    /// Service tokens, which may call the verify API.
    #[command(
        after_help = "Examples:\n  keyward admin service-token create --name billing-service\n  keyward admin service-token list"
    )]
    ServiceToken {
        #[command(subcommand)]
        command: tokens::ServiceTokenCommand,
    },
    /// Import another system's keys from CSV or JSON Lines (plaintext or SHA-256). They keep
    /// their secret and verify as usual; re-running a file skips what it imported.
    #[command(after_help = "Examples:\n  \
        keyward admin import-keys legacy.csv\n  \
        keyward admin import-keys export.jsonl --json\n  \
        keyward admin import-keys keys.txt --format csv")]
    ImportKeys(import::ImportArgs),
}

pub async fn run(command: AdminCommand, config: &Config) -> Result<(), String> {
    // Admin commands read or change data, so a missing database is an error, never a new one.
    let service = crate::app::open_service(config, crate::app::OpenMode::ExistingOnly).await?;
    let result = match command {
        AdminCommand::User { command } => users::run(&service, command).await,
        AdminCommand::Apikey { command } => keys::run(&service, command).await,
        AdminCommand::Workspace { command } => workspaces::run(&service, command).await,
        AdminCommand::ServiceToken { command } => tokens::run(&service, command).await,
        AdminCommand::ImportKeys(args) => import::run(&service, args).await,
    };
    result.map_err(|refusal| refusal.to_string())
}

/// Why an admin command refused (exit 1): an error code and a message for stderr. Most come
/// from the service's [`Error`]; a command builds its own where the service's words were
/// written for HTTP callers and an operator needs to hear which flag or command to use.
#[derive(Debug)]
pub struct Refusal {
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<Error> for Refusal {
    /// The code and message, plus each invalid field.
    fn from(e: Error) -> Self {
        let mut message = e.to_string();
        if let Error::Validation(fields) = &e {
            for f in fields {
                message.push_str(&format!("\n  {}: {}", f.field, f.message));
            }
        }
        Self::new(e.code(), message)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The user with this id or email, or a refusal that says how to find the right one.
/// Waits until every server on this database has applied a write this command made (they
/// read the key-change log every [`CHANGES_POLL`](keyward_core::verify::CHANGES_POLL)), so
/// that a revocation reported done is honoured by the very next request.
async fn settle_servers() {
    tokio::time::sleep(keyward_core::verify::CHANGES_SETTLE).await;
}

async fn find_user(service: &Service, id_or_email: &str) -> Result<User, Refusal> {
    service.find_user(id_or_email).await.map_err(|e| match e {
        Error::NotFound => Refusal::new(
            "not_found",
            "no user has this id or email; see `keyward admin user list`",
        ),
        other => other.into(),
    })
}

/// Every item of a paged listing, fetched 200 at a time.
async fn all_pages<T, Fut>(mut fetch: impl FnMut(Option<String>) -> Fut) -> Result<Vec<T>, Error>
where
    Fut: std::future::Future<Output = Result<Page<T>, Error>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// A secret from standard input, without its line ending: `what` names it in errors.
fn read_secret(what: &str) -> Result<SecretString, Refusal> {
    let mut raw = String::new();
    std::io::stdin().read_to_string(&mut raw).map_err(|e| {
        Refusal::new(
            "bad_request",
            format!("cannot read the {what} from stdin: {e}"),
        )
    })?;
    Ok(SecretString::new(
        raw.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}
