//! `keyward admin ...`: the operator's commands. They open the database directly and act as
//! the `system` actor: no role or email checks, but every data rule (limits, validation, a
//! key never exceeding its user's scopes) holds, because they call the same service layer.
//!
//! One file per subcommand; this one holds the dispatch and what they share.

mod keys;
mod tokens;
mod users;
mod workspaces;

use std::io::Read;

use clap::Subcommand;
use keyward_core::secret::SecretString;
use keyward_core::Error;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Users.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// API keys.
    Apikey {
        #[command(subcommand)]
        command: keys::ApikeyCommand,
    },
    /// Workspaces.
    Workspace {
        #[command(subcommand)]
        command: workspaces::WorkspaceCommand,
    },
    /// Service tokens, which may call the verify API.
    ServiceToken {
        #[command(subcommand)]
        command: tokens::ServiceTokenCommand,
    },
}

pub async fn run(command: AdminCommand, config: &Config) -> Result<(), String> {
    // Admin commands read or change data, so a missing database is an error, never a new one.
    let service = crate::app::open_service(config, crate::app::OpenMode::ExistingOnly).await?;
    let result = match command {
        AdminCommand::User { command } => users::run(&service, command).await,
        AdminCommand::Apikey { command } => keys::run(&service, command).await,
        AdminCommand::Workspace { command } => workspaces::run(&service, command).await,
        AdminCommand::ServiceToken { command } => tokens::run(&service, command).await,
    };
    result.map_err(describe)
}

fn read_password() -> Result<SecretString, Error> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| Error::BadRequest(format!("cannot read the password from stdin: {e}")))?;
    Ok(SecretString::new(
        raw.trim_end_matches(['\n', '\r']).to_owned(),
    ))
}

/// `code: message`, plus each invalid field, for stderr.
fn describe(e: Error) -> String {
    let mut text = format!("{}: {e}", e.code());
    if let Error::Validation(fields) = &e {
        for f in fields {
            text.push_str(&format!("\n  {}: {}", f.field, f.message));
        }
    }
    text
}
