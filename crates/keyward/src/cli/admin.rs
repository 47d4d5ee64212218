//! `keyward admin ...`: the operator's commands. They open the database directly and act as
//! the `system` actor: no role or email checks, but every data rule (limits, validation, a
//! key never exceeding its user's scopes) holds, because they call the same service layer.

use std::io::Read;

use clap::Subcommand;
use keyward_core::model::Role;
use keyward_core::secret::SecretString;
use keyward_core::service::{Caller, KeyFilter, NewKey, NewUser};
use keyward_core::Error;
use uuid::Uuid;

use super::output::{self, Table};
use crate::config::Config;
use crate::http::dto::{KeyOut, UserOut, WorkspaceOut};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Workspaces.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Service tokens, which may call the verify API.
    ServiceToken {
        #[command(subcommand)]
        command: ServiceTokenCommand,
    },
}

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

#[derive(Subcommand, Debug)]
pub enum ApikeyCommand {
    /// Mint a key for a user; prints `Created: <secret>` once.
    Create {
        #[arg(long)]
        name: String,
        /// The user's id or email.
        #[arg(long, value_name = "ID|EMAIL")]
        user_id: String,
        /// Workspace id (default: the user's only workspace).
        #[arg(long, value_name = "ID")]
        workspace: Option<Uuid>,
        /// Comma-separated scopes (default: what the user holds).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
        /// RFC 3339, e.g. 2027-01-01T00:00:00Z.
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a workspace's keys (give --workspace, or --user-id for that user's only workspace).
    List {
        #[arg(long, value_name = "ID", required_unless_present = "user_id")]
        workspace: Option<Uuid>,
        /// A user id or email: list the keys of that user's only workspace.
        #[arg(long, value_name = "ID|EMAIL")]
        user_id: Option<String>,
        /// active, revoked or expired.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id.
    Revoke {
        key_id: Uuid,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Change a workspace's plan.
    SetPlan { workspace_id: Uuid, plan: String },
}

#[derive(Subcommand, Debug)]
pub enum ServiceTokenCommand {
    /// Create a service token; prints it (kwsvc_…) once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: AdminCommand, config: &Config) -> Result<(), String> {
    let service = crate::app::open_service(config).await?;
    let result = match command {
        AdminCommand::User { command: UserCommand::Create { email, password_stdin, name, verified, workspace, role, json } } => {
            let password = if password_stdin { Some(read_password()?) } else { None };
            let role = Role::parse(&role).unwrap_or(Role::Owner);
            let input = NewUser { email, name, password, verified, workspace_name: workspace, role };
            service.create_user(input).await.map(|(user, ws)| {
                if json {
                    output::json(&serde_json::json!({"user": UserOut::from(user), "workspace": ws.map(|w| WorkspaceOut::new(w, Some(role)))}));
                } else {
                    println!("Created user {} ({})", user.email, user.id);
                    if let Some(ws) = ws {
                        println!("Created workspace {:?} ({}) with {} as {}", ws.name, ws.id, user.email, role.as_str());
                    }
                }
            })
        }
        AdminCommand::Apikey { command } => apikey(&service, command).await,
        AdminCommand::Workspace { command: WorkspaceCommand::SetPlan { workspace_id, plan } } => {
            service.set_plan(workspace_id, &plan).await.map(|ws| println!("Workspace {} is now on plan {}", ws.id, ws.plan))
        }
        AdminCommand::ServiceToken { command: ServiceTokenCommand::Create { name, json } } => {
            service.create_service_token(&name).await.map(|(token, secret)| {
                if json {
                    output::json(&serde_json::json!({"id": token.id, "name": token.name, "token": secret.expose_secret()}));
                } else {
                    println!("{}", secret.expose_secret());
                    eprintln!("Store this service token now: it cannot be shown again.");
                }
            })
        }
    };
    result.map_err(describe)
}

async fn apikey(service: &keyward_core::Service, command: ApikeyCommand) -> Result<(), Error> {
    match command {
        ApikeyCommand::Create {
            name,
            user_id,
            workspace,
            scopes,
            expires_at,
            json,
        } => {
            let user = service.find_user(&user_id).await.map_err(|e| match e {
                Error::NotFound => Error::validation("user-id", "no user has this id or email"),
                other => other,
            })?;
            let caller = Caller::system(user);
            let ws = service
                .current_workspace(&caller, workspace)
                .await
                .map_err(|e| match e {
                    Error::NotFound => {
                        Error::validation("workspace", "the user belongs to no workspace")
                    }
                    other => other,
                })?;
            let principal = service.principal(&caller, ws).await?;
            let created = service
                .create_key(
                    &principal,
                    NewKey {
                        name,
                        expires_at,
                        scopes,
                        metadata: None,
                    },
                )
                .await?;
            if json {
                let mut out = serde_json::to_value(KeyOut::from(created.key)).unwrap_or_default();
                out["key"] = created.secret.expose_secret().into();
                output::json(&out);
            } else {
                println!("Created: {}", created.secret.expose_secret());
            }
            Ok(())
        }
        ApikeyCommand::List {
            workspace,
            user_id,
            status,
            json,
        } => {
            let workspace = match (workspace, user_id) {
                (Some(ws), _) => ws,
                (None, Some(user)) => {
                    let caller = Caller::system(service.find_user(&user).await?);
                    service.current_workspace(&caller, None).await?
                }
                (None, None) => {
                    return Err(Error::validation(
                        "workspace",
                        "give --workspace or --user-id",
                    ))
                }
            };
            let principal = service.operator(workspace).await?;
            let mut keys = Vec::new();
            let mut cursor = None;
            loop {
                let filter = KeyFilter {
                    status: status.clone(),
                    limit: Some(200),
                    cursor,
                    ..Default::default()
                };
                let page = service.list_keys(&principal, filter).await?;
                keys.extend(page.items.into_iter().map(KeyOut::from));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            if json {
                output::json(&keys);
            } else {
                let mut table = Table::new([
                    "ID", "NAME", "KEY", "STATUS", "ACCESS", "CREATED", "EXPIRES",
                ]);
                for k in &keys {
                    table.row([
                        k.id.to_string(),
                        k.name.clone(),
                        format!("{}…", k.key_prefix),
                        format!("{:?}", k.status).to_lowercase(),
                        k.access.to_owned(),
                        output::time(Some(k.created_at)),
                        output::time(k.expires_at),
                    ]);
                }
                table.print();
            }
            Ok(())
        }
        ApikeyCommand::Revoke {
            key_id,
            reason,
            json,
        } => {
            let key = service
                .store()
                .key_by_id(key_id)
                .await?
                .ok_or(Error::NotFound)?;
            let principal = service.operator(key.workspace_id).await?;
            let key = service.revoke_key(&principal, key_id, reason).await?;
            if json {
                output::json(&KeyOut::from(key));
            } else {
                println!("Revoked {} ({}…)", key.id, key.key_prefix);
            }
            Ok(())
        }
    }
}

fn read_password() -> Result<SecretString, String> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
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
