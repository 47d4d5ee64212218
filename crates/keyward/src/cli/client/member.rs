//! `keyward member list|add|update|remove`: the people of the caller's workspace.
//! A member is named by user id or email.

use clap::Subcommand;
use keyward_client::Client;
use serde_json::{json, Map, Value};

use super::{client, confirm, render, workspace_id, ClientOpts, Failure, Outcome};

#[derive(Subcommand, Debug)]
pub enum MemberCommand {
    /// List the workspace's members.
    #[command(after_help = "Examples:\n  keyward member list\n  keyward member list --json")]
    List,
    /// Add someone by email. Without an account, they get an emailed invitation.
    #[command(after_help = "Examples:\n  \
        keyward member add dev@example.com\n  \
        keyward member add lead@example.com --role admin\n  \
        keyward member add ci-bot@example.com --scopes apps:read")]
    Add {
        email: String,
        #[arg(long, default_value = "member", value_parser = ["owner", "admin", "member"])]
        role: String,
        /// Narrow a member to these product scopes (comma-separated).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
    },
    /// Change a member's role or scopes.
    #[command(after_help = "Examples:\n  \
        keyward member update dev@example.com --role admin\n  \
        keyward member update dev@example.com --scopes apps:read,billing:read")]
    Update {
        /// The member's user id or email.
        member: String,
        #[arg(long, value_parser = ["owner", "admin", "member"])]
        role: Option<String>,
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
    },
    /// Remove a member; every key they made in this workspace is revoked.
    #[command(
        after_help = "Examples:\n  keyward member remove dev@example.com\n  keyward member remove dev@example.com --yes"
    )]
    Remove {
        /// The member's user id or email.
        member: String,
        /// Do not ask. Without it, stdin must be a terminal.
        #[arg(long, short)]
        yes: bool,
    },
}

pub async fn run(command: MemberCommand, opts: &ClientOpts) -> Outcome {
    let api = client(opts)?;
    let members = format!("workspaces/{}/members", workspace_id(&api).await?);
    match command {
        MemberCommand::List => {
            let list = api.get(&members, &[]).await?;
            if opts.json {
                render::print_json(&list);
            } else {
                let mut table = render::table(["name", "email", "role", "joined"]);
                for m in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    table.add_row([
                        render::text(m, "name"),
                        render::text(m, "email"),
                        render::text(m, "role"),
                        render::date(m, "joined_at"),
                    ]);
                }
                render::print_table(&table);
            }
        }
        MemberCommand::Add {
            email,
            role,
            scopes,
        } => {
            let mut body = Map::new();
            body.insert("email".into(), json!(email));
            body.insert("role".into(), json!(role));
            if let Some(scopes) = scopes {
                body.insert("scopes".into(), json!(scopes));
            }
            let added = api.post(&members, &Value::Object(body)).await?;
            if opts.json {
                render::print_json(&added);
            } else if added.get("user_id").is_some() {
                println!("Added {email} as {role}.");
            } else {
                println!(
                    "{email} has no account yet: an invitation to join as {role} was emailed (valid until {}).",
                    render::time(&added, "expires_at")
                );
            }
        }
        MemberCommand::Update {
            member,
            role,
            scopes,
        } => {
            let mut body = Map::new();
            if let Some(role) = role {
                body.insert("role".into(), json!(role));
            }
            if let Some(scopes) = scopes {
                body.insert("scopes".into(), json!(scopes));
            }
            if body.is_empty() {
                return Err(Failure::Usage(
                    "nothing to change: give --role or --scopes".into(),
                ));
            }
            let id = resolve(&api, &members, &member).await?;
            let updated = api
                .patch(&format!("{members}/{id}"), &Value::Object(body))
                .await?;
            if opts.json {
                render::print_json(&updated);
            } else {
                println!(
                    "{} is now {}.",
                    render::text(&updated, "email"),
                    render::text(&updated, "role")
                );
            }
        }
        MemberCommand::Remove { member, yes } => {
            let id = resolve(&api, &members, &member).await?;
            if !yes
                && !confirm(&format!(
                    "Remove {member}? Every key they made here is revoked."
                ))?
            {
                eprintln!("Nobody removed.");
                return Ok(());
            }
            api.delete(&format!("{members}/{id}")).await?;
            render::outcome(
                opts.json,
                &json!({ "removed": id }),
                &format!("Removed {member}; their keys in this workspace are revoked."),
            );
        }
    }
    Ok(())
}

/// The user id of a member named by id or email (emails compare case-insensitively, as
/// keyward stores them).
async fn resolve(api: &Client, members: &str, named: &str) -> Result<String, Failure> {
    if uuid::Uuid::parse_str(named).is_ok() {
        return Ok(named.to_owned());
    }
    let list = api.get(members, &[]).await?;
    list.as_array()
        .into_iter()
        .flatten()
        .find(|m| render::text(m, "email").eq_ignore_ascii_case(named))
        .map(|m| render::text(m, "user_id"))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "no member has the id or email {named:?}; `keyward member list` shows them"
            ))
        })
}
