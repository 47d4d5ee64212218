//! `keyward admin workspace ...`: change a workspace's plan.

use clap::Subcommand;
use keyward_core::Service;

use super::Refusal;
use uuid::Uuid;

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Change a workspace's plan.
    SetPlan { workspace_id: Uuid, plan: String },
}

pub async fn run(service: &Service, command: WorkspaceCommand) -> Result<(), Refusal> {
    match command {
        WorkspaceCommand::SetPlan { workspace_id, plan } => {
            let ws = service.set_plan(workspace_id, &plan).await?;
            println!("Workspace {} is now on plan {}", ws.id, ws.plan);
            Ok(())
        }
    }
}
