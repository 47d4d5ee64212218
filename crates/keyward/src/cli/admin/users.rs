//! `keyward admin user ...`: create users.

use clap::Subcommand;
use keyward_core::model::Role;
use keyward_core::service::NewUser;
use keyward_core::Service;

use super::{read_password, Refusal};
use crate::cli::output;
use crate::http::dto::{UserOut, WorkspaceOut};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user, optionally with a new workspace.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (at least 12 characters).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        name: Option<String>,
        /// Mark the email as verified.
        #[arg(long)]
        verified: bool,
        /// Create a workspace of this name with the user in it.
        #[arg(long, value_name = "NAME")]
        workspace: Option<String>,
        /// The user's role in the new workspace.
        #[arg(long, default_value = "owner", value_parser = ["owner", "admin", "member"])]
        role: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(service: &Service, command: UserCommand) -> Result<(), Refusal> {
    match command {
        UserCommand::Create {
            email,
            password_stdin,
            name,
            verified,
            workspace,
            role,
            json,
        } => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let role = Role::parse(&role).unwrap_or(Role::Owner);
            let input = NewUser {
                email,
                name,
                password,
                verified,
                workspace_name: workspace,
                role,
            };
            let (user, ws) = service.create_user(input).await?;
            if json {
                output::json(&serde_json::json!({
                    "user": UserOut::from(user),
                    "workspace": ws.map(|w| WorkspaceOut::new(w, Some(role))),
                }));
            } else {
                println!("Created user {} ({})", user.email, user.id);
                if let Some(ws) = ws {
                    println!(
                        "Created workspace {:?} ({}) with {} as {}",
                        ws.name,
                        ws.id,
                        user.email,
                        role.as_str()
                    );
                }
            }
            Ok(())
        }
    }
}
