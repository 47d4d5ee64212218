//! The `keyward` command line. Server side: `serve`, `migrate` and the operator's `admin`
//! commands, which read the server's config and open its database. Client side: `context`,
//! `whoami`, `apikey`, `member`, `audit` and `verify`, which talk to a server over HTTP and
//! never read its config. And `completions` and `man`, which only describe the commands.
//!
//! Exit codes: 0 on success, 1 when keyward refuses (the error code and message go to
//! stderr), 2 for usage errors, 3 when a client command cannot reach the server.

mod admin;
mod client;
mod help;
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
    propagate_version = true,
    after_help = "Examples:\n  \
        keyward serve                                   # run the server on 127.0.0.1:8787\n  \
        keyward context add prod --url https://keys.example.com --api-key-stdin\n  \
        keyward apikey list\n  \
        KEY=$(keyward apikey create --name ci --expires-in 90d)"
)]
pub struct Cli {
    /// Config file (default: ./keyward.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (default: ./keyward-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://./keyward-data/keyward.db, or postgres://USER@HOST/DATABASE.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the keyward server.
    #[command(after_help = "Examples:\n  \
        keyward serve\n  \
        keyward serve --listen 0.0.0.0:8787 --data-dir /var/lib/keyward")]
    Serve {
        /// Address to listen on (default: 127.0.0.1:8787).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    #[command(after_help = "Example:\n  keyward migrate --data-dir /var/lib/keyward")]
    Migrate,
    /// Operator commands that open the database directly.
    #[command(after_help = "Examples:\n  \
        keyward admin user list\n  \
        keyward admin apikey create --name first-key --user-id you@example.com")]
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Servers and keys the client commands use, by name.
    #[command(after_help = "Examples:\n  \
        keyward context add prod --url https://keys.example.com --api-key-stdin\n  \
        keyward context use prod\n  \
        keyward context list")]
    Context {
        #[command(subcommand)]
        command: client::context::ContextCommand,
        #[command(flatten)]
        opts: client::ClientOpts,
    },
    /// Who the API key in use belongs to, and what it may do.
    #[command(
        after_help = "Examples:\n  keyward whoami\n  keyward whoami --context staging --json"
    )]
    Whoami {
        #[command(flatten)]
        opts: client::ClientOpts,
    },
    /// The workspace's API keys, over the HTTP API.
    #[command(after_help = "Examples:\n  \
        keyward apikey list\n  \
        keyward apikey create --name ci-deploy --expires-in 90d\n  \
        keyward apikey rotate ci-deploy --grace 1h")]
    Apikey {
        #[command(subcommand)]
        command: client::apikey::ApikeyCommand,
        #[command(flatten)]
        opts: client::ClientOpts,
    },
    /// The workspace's members, over the HTTP API.
    #[command(
        after_help = "Examples:\n  keyward member list\n  keyward member add dev@example.com --role admin"
    )]
    Member {
        #[command(subcommand)]
        command: client::member::MemberCommand,
        #[command(flatten)]
        opts: client::ClientOpts,
    },
    /// The workspace's audit log, over the HTTP API.
    #[command(after_help = "Example:\n  keyward audit list --action api_key.revoked")]
    Audit {
        #[command(subcommand)]
        command: client::audit::AuditCommand,
        #[command(flatten)]
        opts: client::ClientOpts,
    },
    /// Check a key with the verify API, as a product's service does (needs a service token).
    Verify {
        #[command(flatten)]
        args: client::verify::VerifyArgs,
        #[command(flatten)]
        opts: client::ClientOpts,
    },
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  \
        keyward completions bash > /etc/bash_completion.d/keyward\n  \
        keyward completions zsh > \"${fpath[1]}/_keyward\"\n  \
        keyward completions fish > ~/.config/fish/completions/keyward.fish")]
    Completions { shell: clap_complete::Shell },
    /// Print the man page, or write one page per command into a directory.
    #[command(after_help = "Examples:\n  \
        keyward man | man -l -\n  \
        keyward man --out-dir /usr/local/share/man/man1")]
    Man {
        /// Write keyward.1, keyward-apikey.1, keyward-apikey-create.1, … here.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Client and help commands never read the server's config: a laptop has none, and a
    // broken keyward.toml in the current directory must not stop `keyward apikey list`.
    let command = match cli.command {
        Command::Context { command, opts } => {
            return client::exit(client::context::run(command, &opts))
        }
        Command::Whoami { opts } => return client::exit(client::whoami::run(&opts)),
        Command::Apikey { command, opts } => {
            return client::exit(client::apikey::run(command, &opts))
        }
        Command::Member { command, opts } => {
            return client::exit(client::member::run(command, &opts))
        }
        Command::Audit { command, opts } => {
            return client::exit(client::audit::run(command, &opts))
        }
        Command::Verify { args, opts } => return client::exit(client::verify::run(args, &opts)),
        Command::Completions { shell } => return help::completions(shell),
        Command::Man { out_dir } => return help::man(out_dir.as_deref()),
        server_side => server_side,
    };
    let cli = Cli { command, ..cli };
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
        // Dispatched in `main` before the config is read.
        _ => Err("this command does not run on the server".into()),
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
