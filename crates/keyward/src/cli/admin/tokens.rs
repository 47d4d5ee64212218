//! `keyward admin service-token ...`: the credentials of the operator's own services.

use clap::Subcommand;
use keyward_core::{Error, Service};

use crate::cli::output;

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

pub async fn run(service: &Service, command: ServiceTokenCommand) -> Result<(), Error> {
    match command {
        ServiceTokenCommand::Create { name, json } => {
            let (token, secret) = service.create_service_token(&name).await?;
            // The one place a token is ever printed: right after it is minted.
            if json {
                output::json(&serde_json::json!({
                    "id": token.id,
                    "name": token.name,
                    "token": secret.expose_secret(),
                }));
            } else {
                println!("{}", secret.expose_secret());
                eprintln!("Store this service token now: it cannot be shown again.");
            }
            Ok(())
        }
    }
}
