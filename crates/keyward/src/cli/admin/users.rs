//! `keyward admin user ...`: create, list and verify users.

use clap::Subcommand;
use keyward_core::model::Role;
use keyward_core::service::{NewUser, UserWorkspace};
use keyward_core::Service;

use super::{all_pages, find_user, read_secret, Refusal};
use crate::cli::output::{self, Table};
use crate::http::dto::{UserOut, WorkspaceOut};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user, optionally with a new workspace.
    #[command(
        after_help = "Examples:\n  echo 'a-long-password' | keyward admin user create --email ada@example.com --password-stdin --verified --workspace Acme\n  echo 'a-long-password' | keyward admin user create --email bob@example.com --password-stdin --name Bob"
    )]
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
        /// A new workspace of this name, with the user as its owner; or the id of an
        /// existing workspace, which the user joins in --role.
        #[arg(long, value_name = "NAME|ID")]
        workspace: Option<String>,
        /// The user's role in that workspace (default owner); needs --workspace.
        #[arg(long, requires = "workspace", value_parser = ["owner", "admin", "member"])]
        role: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List every user, oldest first.
    #[command(
        after_help = "Examples:\n  keyward admin user list\n  keyward admin user list --json"
    )]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Mark a user's email verified (audited as `user.email_verified` in each workspace).
    #[command(after_help = "Example:\n  keyward admin user verify ada@example.com")]
    Verify {
        #[arg(value_name = "ID|EMAIL")]
        user: String,
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
                Some(read_secret("password")?)
            } else {
                None
            };
            let role = role.as_deref().and_then(Role::parse).unwrap_or(Role::Owner);
            // An id names a workspace to join; anything else is the name of a new one.
            let workspace = workspace.map(|raw| match uuid::Uuid::parse_str(raw.trim()) {
                Ok(id) => UserWorkspace::Join(id),
                Err(_) => UserWorkspace::New(raw),
            });
            let input = NewUser {
                email,
                name,
                password,
                verified,
                workspace,
                role,
            };
            let joined = matches!(input.workspace, Some(UserWorkspace::Join(_)));
            let (user, ws) = service.create_user(input).await?;
            if json {
                output::json(&serde_json::json!({
                    "user": UserOut::from(user),
                    "workspace": ws.map(|w| WorkspaceOut::new(w, Some(role))),
                }));
            } else {
                println!("Created user {} ({})", user.email, user.id);
                if let Some(ws) = ws {
                    let verb = if joined { "Added" } else { "Created workspace" };
                    println!(
                        "{verb} {:?} ({}) with {} as {}",
                        ws.name,
                        ws.id,
                        user.email,
                        role.as_str()
                    );
                }
            }
            Ok(())
        }
        UserCommand::List { json } => {
            let users = all_pages(|cursor| service.list_users(cursor, Some(200))).await?;
            if json {
                output::json(&users.into_iter().map(UserOut::from).collect::<Vec<_>>());
            } else {
                let mut table = Table::new(["ID", "EMAIL", "NAME", "VERIFIED", "CREATED"]);
                for u in users {
                    table.row([
                        u.id.to_string(),
                        u.email,
                        u.name,
                        if u.email_verified_at.is_some() {
                            "yes"
                        } else {
                            "no"
                        }
                        .to_owned(),
                        output::time(Some(u.created_at)),
                    ]);
                }
                table.print();
            }
            Ok(())
        }
        UserCommand::Verify { user, json } => {
            let user = find_user(service, &user).await?;
            let (user, changed) = service.verify_user_email(user).await?;
            if json {
                output::json(&UserOut::from(user));
            } else if changed {
                println!("Verified {} ({})", user.email, user.id);
            } else {
                println!(
                    "{} was already verified at {}",
                    user.email,
                    output::time(user.email_verified_at)
                );
            }
            Ok(())
        }
    }
}
