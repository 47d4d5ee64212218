//! `keyward admin apikey ...`: mint, list and revoke a workspace's keys.

use clap::Subcommand;
use keyward_core::model::ApiKey;
use keyward_core::service::{Caller, KeyFilter, NewKey};
use keyward_core::{Error, Service};

use super::{all_pages, find_user, Refusal};
use uuid::Uuid;

use crate::cli::output::{self, Table};
use crate::http::dto::KeyOut;

#[derive(Subcommand, Debug)]
pub enum ApikeyCommand {
    /// Mint a key for a user; prints `Created: <secret>` once.
    #[command(
        after_help = "Examples:\n  keyward admin apikey create --name first-key --user-id ada@example.com\n  keyward admin apikey create --name ci --user-id ada@example.com --scopes apps:read --expires-at 2027-01-01T00:00:00Z"
    )]
    Create {
        #[arg(long)]
        name: String,
        /// The user's id or email.
        #[arg(long, value_name = "ID|EMAIL")]
        user_id: String,
        /// Workspace id; needed when the user belongs to several
        /// (`keyward admin workspace list --user-id ID|EMAIL` lists them).
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
    /// List keys, newest first: a workspace's (--workspace), a user's in every workspace it
    /// belongs to (--user-id), or a user's in one workspace (both).
    #[command(
        after_help = "Examples:\n  keyward admin apikey list --workspace 0192f3c4-...\n  keyward admin apikey list --user-id ada@example.com --status active --json"
    )]
    List {
        #[arg(long, value_name = "ID", required_unless_present = "user_id")]
        workspace: Option<Uuid>,
        /// Only keys this user (id or email) created.
        #[arg(long, value_name = "ID|EMAIL")]
        user_id: Option<String>,
        /// active, revoked or expired.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Say which key a leaked or presented secret is (workspace, id, name, status, source),
    /// native or imported, without printing it. Exit code 1 when no key matches.
    #[command(after_help = "Examples:\n  \
        keyward admin apikey lookup --secret-stdin < leaked.txt\n  \
        printf '%s\\n' \"$LEAKED\" | keyward admin apikey lookup --secret-stdin --revoke")]
    Lookup {
        /// Read the secret from standard input (never from the command line, where it would
        /// land in the shell's history and the process list).
        #[arg(long, required = true)]
        secret_stdin: bool,
        /// Also revoke the key, recording that its secret leaked (actor: system).
        #[arg(long)]
        revoke: bool,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id.
    #[command(
        after_help = "Example:\n  keyward admin apikey revoke 0192f3c4-... --reason 'leaked in a log'"
    )]
    Revoke {
        key_id: Uuid,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(service: &Service, command: ApikeyCommand) -> Result<(), Refusal> {
    match command {
        ApikeyCommand::Create {
            name,
            user_id,
            workspace,
            scopes,
            expires_at,
            json,
        } => {
            let caller = Caller::system(find_user(service, &user_id).await?);
            let ws = match workspace {
                Some(ws) => ws,
                None => only_workspace(service, &caller).await?,
            };
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
            // The one place a key is ever printed: right after it is minted.
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
            let user = match &user_id {
                Some(u) => Some(find_user(service, u).await?),
                None => None,
            };
            let workspaces = match (workspace, &user) {
                (Some(ws), _) => vec![ws],
                // A user alone: that user's keys in every workspace it belongs to.
                (None, Some(user)) => service
                    .list_workspaces(&Caller::system(user.clone()))
                    .await?
                    .into_iter()
                    .map(|(w, _)| w.id)
                    .collect(),
                (None, None) => {
                    return Err(
                        Error::validation("workspace", "give --workspace or --user-id").into(),
                    )
                }
            };
            let mut keys = Vec::new();
            for ws in &workspaces {
                let principal = service.operator(*ws).await?;
                let filter = |cursor| KeyFilter {
                    status: status.clone(),
                    created_by: user.as_ref().map(|u| u.id.to_string()),
                    limit: Some(200),
                    cursor,
                    ..Default::default()
                };
                keys.extend(
                    all_pages(|cursor| service.list_keys(&principal, filter(cursor))).await?,
                );
            }
            // Newest first across workspaces too, like every key listing.
            keys.sort_by_key(|k| std::cmp::Reverse((k.created_at, k.id)));
            print_keys(keys, workspaces.len() > 1, json);
            Ok(())
        }
        ApikeyCommand::Lookup {
            secret_stdin: _,
            revoke,
            json,
        } => super::lookup::run(service, revoke, json).await,
        ApikeyCommand::Revoke {
            key_id,
            reason,
            json,
        } => {
            let key = service
                .store()
                .key_by_id(key_id)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound)?;
            let principal = service.operator(key.workspace_id).await?;
            let key = service.revoke_key(&principal, key_id, reason).await?;
            super::settle_servers().await;
            if json {
                output::json(&KeyOut::from(key));
            } else {
                println!("Revoked {} ({}…)", key.id, key.key_prefix);
            }
            Ok(())
        }
    }
}

/// The user's workspace when `--workspace` is left out: there must be exactly one. The
/// service's own answer for several is written for HTTP clients (send X-Workspace-ID), so
/// the CLI says which flag to pass and which workspaces there are.
async fn only_workspace(service: &Service, caller: &Caller) -> Result<Uuid, Refusal> {
    let email = &caller.user.email;
    let mine = service.list_workspaces(caller).await?;
    match mine.as_slice() {
        [(only, _)] => Ok(only.id),
        [] => Err(Refusal::new(
            "validation_failed",
            format!(
                "{email} belongs to no workspace: create one with `keyward admin user create \
                 --workspace NAME` for a new user, or add {email} to a workspace as a member"
            ),
        )),
        several => {
            let listed: Vec<String> = several
                .iter()
                .map(|(w, _)| format!("{} ({:?})", w.id, w.name))
                .collect();
            Err(Refusal::new(
                "bad_request",
                format!(
                    "{email} belongs to {} workspaces: {}; pass --workspace ID to choose one \
                     (`keyward admin workspace list --user-id {email}` lists them)",
                    several.len(),
                    listed.join(", ")
                ),
            ))
        }
    }
}

/// A table (with a WORKSPACE column when the keys span several) or JSON; never a secret.
fn print_keys(keys: Vec<ApiKey>, several_workspaces: bool, json: bool) {
    let keys: Vec<KeyOut> = keys.into_iter().map(KeyOut::from).collect();
    if json {
        output::json(&keys);
        return;
    }
    let mut table = Table::new([
        "ID",
        "NAME",
        "KEY",
        "STATUS",
        "ACCESS",
        "CREATED",
        "EXPIRES",
        "WORKSPACE",
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
            k.workspace_id.to_string(),
        ]);
    }
    if !several_workspaces {
        table.drop_last_column();
    }
    table.print();
}
