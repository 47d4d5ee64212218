//! `keyward admin service-token ...`: the credentials of the operator's own services, for
//! the verify API. Create one (printed once), list them, revoke one by id or name.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use keyward_core::model::ServiceToken;
use keyward_core::{Error, Service};
use serde::Serialize;
use uuid::Uuid;

use super::Refusal;
use crate::cli::output::{self, Table};

#[derive(Subcommand, Debug)]
pub enum ServiceTokenCommand {
    /// Create a service token; prints it (kwsvc_…) once. Names are unique.
    #[command(
        after_help = "Example:\n  TOKEN=$(keyward admin service-token create --name billing-service)"
    )]
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List service tokens: id, name, created, last used and status.
    #[command(after_help = "Example:\n  keyward admin service-token list")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a service token by id or name; the very next verify call with it gets 401.
    #[command(after_help = "Example:\n  keyward admin service-token revoke billing-service")]
    Revoke {
        #[arg(value_name = "ID|NAME")]
        token: String,
        #[arg(long)]
        json: bool,
    },
}

/// A service token as the CLI shows it: never the token, only its display prefix.
#[derive(Serialize)]
struct TokenOut {
    id: Uuid,
    name: String,
    /// `kwsvc_` plus the first characters of the body, like a key's `key_prefix`.
    token_prefix: String,
    /// `active` or `revoked`.
    status: &'static str,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ServiceToken> for TokenOut {
    fn from(t: ServiceToken) -> Self {
        Self {
            status: if t.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
            id: t.id,
            name: t.name,
            token_prefix: t.token_prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

pub async fn run(service: &Service, command: ServiceTokenCommand) -> Result<(), Refusal> {
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
        }
        ServiceTokenCommand::List { json } => {
            let tokens: Vec<TokenOut> = service
                .list_service_tokens()
                .await?
                .into_iter()
                .map(TokenOut::from)
                .collect();
            if json {
                output::json(&tokens);
            } else {
                let mut table =
                    Table::new(["ID", "NAME", "TOKEN", "CREATED", "LAST USED", "STATUS"]);
                for t in &tokens {
                    table.row([
                        t.id.to_string(),
                        t.name.clone(),
                        format!("{}…", t.token_prefix),
                        output::time(Some(t.created_at)),
                        output::time(t.last_used_at),
                        t.status.to_owned(),
                    ]);
                }
                table.print();
            }
        }
        ServiceTokenCommand::Revoke { token, json } => {
            let (revoked, changed) =
                service
                    .revoke_service_token(&token)
                    .await
                    .map_err(|e| match e {
                        Error::NotFound => Refusal::new(
                            "not_found",
                            "no service token has this id or name; see `keyward admin \
                             service-token list`",
                        ),
                        other => other.into(),
                    })?;
            super::settle_servers().await;
            let out = TokenOut::from(revoked);
            if json {
                output::json(&out);
            } else if changed {
                println!("Revoked service token {} ({})", out.id, out.name);
            } else {
                println!(
                    "Service token {} ({}) was already revoked at {}",
                    out.id,
                    out.name,
                    output::time(out.revoked_at)
                );
            }
        }
    }
    Ok(())
}
