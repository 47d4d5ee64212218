//! `keyward audit list`: the workspace's audit log, newest first.

use clap::Subcommand;
use serde_json::Value;

use super::{client, listing, render, workspace_id, ClientOpts, Outcome};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// List audit events, newest first.
    #[command(after_help = "Examples:\n  \
        keyward audit list\n  \
        keyward audit list --action api_key.revoked --all\n  \
        keyward audit list --target 0192f3c4-... --json")]
    List {
        /// Only this action, e.g. api_key.created.
        #[arg(long)]
        action: Option<String>,
        /// Only events about this object (a key's or a user's id).
        #[arg(long, value_name = "ID")]
        target: Option<String>,
        /// Every page, not just the first.
        #[arg(long)]
        all: bool,
        /// Events per page (1–200).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=200))]
        limit: Option<u16>,
    },
}

pub async fn run(command: AuditCommand, opts: &ClientOpts) -> Outcome {
    let AuditCommand::List {
        action,
        target,
        all,
        limit,
    } = command;
    let api = client(opts)?;
    let path = format!("workspaces/{}/audit-events", workspace_id(&api).await?);
    let mut query = Vec::new();
    if let Some(action) = action {
        query.push(("action", action));
    }
    if let Some(target) = target {
        query.push(("target_id", target));
    }
    if let Some(limit) = limit {
        query.push(("limit", limit.to_string()));
    }
    let (events, more) = listing(&api, &path, &query, all).await?;
    if opts.json {
        render::print_json(&Value::Array(events));
        return Ok(());
    }
    let mut table = render::table(["when (utc)", "actor", "action", "target"]);
    for e in &events {
        table.add_row([
            render::date_time(e, "at"),
            render::text(e.get("actor").unwrap_or(&Value::Null), "type"),
            render::text(e, "action"),
            describe_target(e),
        ]);
    }
    render::print_table(&table);
    if more {
        eprintln!("More events follow: add --all to list every page.");
    }
    Ok(())
}

/// What an event was about, in the words its details give: a key's name and prefix, a
/// member's email, a workspace's name; else the target's type (`--json` has every id).
fn describe_target(event: &Value) -> String {
    let details = event.get("details").unwrap_or(&Value::Null);
    let name = render::text(details, "name");
    let prefix = render::text(details, "key_prefix");
    let email = render::text(details, "email");
    match () {
        _ if !name.is_empty() && !prefix.is_empty() => format!("{name} ({prefix}…)"),
        _ if !email.is_empty() => email,
        _ if !name.is_empty() => name,
        _ => render::text(event.get("target").unwrap_or(&Value::Null), "type"),
    }
}
