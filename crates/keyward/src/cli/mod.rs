//! The `keyward` command line: `serve`, `migrate` and the operator's `admin` commands.
//!
//! Exit codes: 0 on success, 1 when keyward refuses (the error code and message go to
//! stderr), 2 for usage errors.

mod admin;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

#[derive(Parser, Debug)]
#[command(
    name = "keyward",
    version,
    about = "Self-hosted API key service",
    propagate_version = true
)]
pub struct Cli {
    /// Config file (default: ./keyward.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (default: ./keyward-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL, e.g. sqlite://./keyward-data/keyward.db.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the keyward server.
    Serve {
        /// Address to listen on (default: 127.0.0.1:8787).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Operator commands that open the database directly.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    let loaded = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(l) => l,
        Err(e) => {
            // Logging is not set up yet (its format is config), so these go out plainly.
            for warning in &e.warnings {
                eprintln!("warning: {warning}");
            }
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    crate::logging::init(loaded.config.log_format);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli.command, loaded.config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            crate::app::open_store(&config, crate::app::OpenMode::CreateIfMissing).await?;
            println!(
                "migrations applied to {:?}",
                crate::config::DatabaseUrl(config.database_url())
            );
            Ok(())
        }
        Command::Admin { command } => admin::run(command, &config).await,
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let server = crate::app::Server::start(&config).await?;
    let stop = crate::app::shutdown_signal();
    tracing::info!(addr = %server.addr, data_dir = %config.data_dir.display(), "keyward is listening");
    println!("keyward listening on http://{}", server.addr);
    if server
        .service
        .store()
        .count_users()
        .await
        .map_err(|e| e.to_string())?
        == 0
    {
        println!(
            "No users yet. Create the first owner with:\n  \
             echo 'a-long-password' | keyward admin user create --email you@example.com \
             --password-stdin --verified --workspace \"My workspace\"\n\
             then mint a key with:\n  keyward admin apikey create --name first-key --user-id you@example.com"
        );
    }
    server.run_until(stop).await;
    Ok(())
}
