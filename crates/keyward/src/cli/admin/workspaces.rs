//! `keyward admin workspace ...`: list workspaces and change a workspace's plan.

use clap::Subcommand;
use keyward_core::model::Role;
use keyward_core::service::Caller;
use keyward_core::Service;
use uuid::Uuid;

use super::{all_pages, find_user, Refusal};
use crate::cli::output::{self, Table};
use crate::http::dto::WorkspaceOut;

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// List every workspace, oldest first, or the workspaces of one user with its role.
    #[command(
        after_help = "Examples:\n  keyward admin workspace list\n  keyward admin workspace list --user-id ada@example.com --json"
    )]
    List {
        /// Only this user's workspaces (id or email).
        #[arg(long, value_name = "ID|EMAIL")]
        user_id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change a workspace's plan; warns when the workspace already holds more active keys
    /// than the new plan allows.
    #[command(after_help = "Example:\n  keyward admin workspace set-plan 0192f3c4-... unlimited")]
    SetPlan {
        workspace_id: Uuid,
        plan: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(service: &Service, command: WorkspaceCommand) -> Result<(), Refusal> {
    match command {
        WorkspaceCommand::List { user_id, json } => {
            let rows: Vec<(keyward_core::model::Workspace, Option<Role>)> = match user_id {
                Some(user) => {
                    let caller = Caller::system(find_user(service, &user).await?);
                    service
                        .list_workspaces(&caller)
                        .await?
                        .into_iter()
                        .map(|(w, role)| (w, Some(role)))
                        .collect()
                }
                None => all_pages(|cursor| service.list_all_workspaces(cursor, Some(200)))
                    .await?
                    .into_iter()
                    .map(|w| (w, None))
                    .collect(),
            };
            print_workspaces(rows, json);
            Ok(())
        }
        WorkspaceCommand::SetPlan {
            workspace_id,
            plan,
            json,
        } => {
            let change = service.set_plan(workspace_id, &plan).await?;
            super::settle_servers().await;
            if change.over_limit() {
                // stderr, so that --json output stays parseable.
                eprintln!(
                    "warning: workspace {} has {} active keys, over the {} plan's limit of {}: \
                     they keep working, but no new key can be created until enough are revoked",
                    change.workspace.id,
                    change.active_keys,
                    change.workspace.plan,
                    change.max_active_keys.unwrap_or_default()
                );
            }
            if json {
                output::json(&serde_json::json!({
                    "workspace": WorkspaceOut::new(change.workspace, None),
                    "previous_plan": change.previous_plan,
                    "active_keys": change.active_keys,
                    "max_active_keys": change.max_active_keys,
                }));
            } else {
                println!(
                    "Workspace {} is now on plan {} (was {})",
                    change.workspace.id, change.workspace.plan, change.previous_plan
                );
            }
            Ok(())
        }
    }
}

/// A table with a ROLE column when the listing is one user's, or JSON.
fn print_workspaces(rows: Vec<(keyward_core::model::Workspace, Option<Role>)>, json: bool) {
    if json {
        let out: Vec<WorkspaceOut> = rows
            .into_iter()
            .map(|(w, role)| WorkspaceOut::new(w, role))
            .collect();
        output::json(&out);
        return;
    }
    let with_role = rows.first().is_some_and(|(_, role)| role.is_some());
    let mut table = Table::new(["ID", "NAME", "PLAN", "CREATED", "ROLE"]);
    for (w, role) in rows {
        table.row([
            w.id.to_string(),
            w.name,
            w.plan,
            output::time(Some(w.created_at)),
            role.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        ]);
    }
    if !with_role {
        table.drop_last_column();
    }
    table.print();
}
