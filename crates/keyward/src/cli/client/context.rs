//! `keyward context add|use|list|show|remove`: named servers and keys, so that a key is not
//! pasted into every command. Listings show a key's `key_prefix`, never the key.

use clap::Subcommand;
use keyward_client::{display_prefix, Client, Context};
use keyward_core::secret::SecretString;
use serde_json::json;

use super::{contexts, read_stdin_line, render, ClientOpts, Failure, Outcome};

#[derive(Subcommand, Debug)]
pub enum ContextCommand {
    /// Store a server and an API key under a name. The first context becomes the current one.
    #[command(after_help = "Examples:\n  \
        keyward context add prod --url https://keys.example.com --api-key kw_...\n  \
        printf '%s\\n' \"$KEY\" | keyward context add prod --url https://keys.example.com --api-key-stdin")]
    Add {
        name: String,
        /// The server's base URL, e.g. https://keys.example.com.
        #[arg(long)]
        url: String,
        /// The API key (it then sits in your shell history; --api-key-stdin does not).
        #[arg(
            long,
            value_name = "KEY",
            required_unless_present = "api_key_stdin",
            conflicts_with = "api_key_stdin"
        )]
        api_key: Option<String>,
        /// Read the API key from the first line of stdin.
        #[arg(long)]
        api_key_stdin: bool,
        /// A service token for `keyward verify` (else KEYWARD_SERVICE_TOKEN).
        #[arg(long, value_name = "TOKEN")]
        service_token: Option<String>,
        /// Also make it the current context.
        #[arg(long = "use")]
        make_current: bool,
    },
    /// Make a context the current one.
    #[command(after_help = "Example:\n  keyward context use prod")]
    Use { name: String },
    /// List contexts; `*` marks the current one.
    #[command(after_help = "Example:\n  keyward context list")]
    List,
    /// Show a context (the current one by default), with its key's prefix only.
    #[command(
        after_help = "Examples:\n  keyward context show\n  keyward context show prod --json"
    )]
    Show { name: Option<String> },
    /// Forget a context.
    #[command(after_help = "Example:\n  keyward context remove staging")]
    Remove { name: String },
}

pub async fn run(command: ContextCommand, opts: &ClientOpts) -> Outcome {
    let mut stored = contexts()?;
    match command {
        ContextCommand::Add {
            name,
            url,
            api_key,
            api_key_stdin,
            service_token,
            make_current,
        } => {
            let api_key = match api_key {
                Some(key) if !api_key_stdin => SecretString::new(key.trim().to_owned()),
                _ => read_stdin_line("API key")?,
            };
            // Checked now rather than at the first command that uses it.
            Client::new(&url, api_key.clone()).map_err(Failure::Usage)?;
            stored.add(Context {
                name: name.clone(),
                url,
                api_key,
                service_token: service_token.map(SecretString::new),
            })?;
            if make_current {
                stored.use_context(&name)?;
            }
            stored.save()?;
            let current = stored.current_name() == Some(name.as_str());
            if opts.json {
                render::print_json(&json!({"name": name, "current": current}));
            } else if current {
                println!("Added context {name}, now the current one.");
            } else {
                println!("Added context {name}. Use it with `keyward context use {name}`.");
            }
        }
        ContextCommand::Use { name } => {
            stored.use_context(&name)?;
            stored.save()?;
            render::outcome(
                opts.json,
                &json!({"current": name}),
                &format!("Now using context {name}."),
            );
        }
        ContextCommand::List => {
            let current = stored.current_name().map(str::to_owned);
            let list = stored.list();
            if opts.json {
                let list: Vec<_> = list
                    .iter()
                    .map(|c| describe(c, current.as_deref() == Some(c.name.as_str())))
                    .collect();
                render::print_json(&json!(list));
            } else if list.is_empty() {
                println!("No contexts yet. Add one with `keyward context add NAME --url URL --api-key-stdin`.");
            } else {
                let mut table = render::table(["", "name", "url", "key"]);
                for c in &list {
                    let mark = if current.as_deref() == Some(c.name.as_str()) {
                        "*"
                    } else {
                        ""
                    };
                    table.add_row([
                        mark.to_owned(),
                        c.name.clone(),
                        c.url.clone(),
                        display_prefix(&c.api_key),
                    ]);
                }
                render::print_table(&table);
            }
        }
        ContextCommand::Show { name } => {
            let name = match name.or_else(|| opts.context.clone()) {
                Some(name) => name,
                None => stored.current_name().map(str::to_owned).ok_or_else(|| {
                    Failure::Usage(
                        "no current context; name one, or `keyward context use NAME`".into(),
                    )
                })?,
            };
            let context = stored.get(&name)?;
            let current = stored.current_name() == Some(name.as_str());
            if opts.json {
                render::print_json(&describe(&context, current));
            } else {
                let token = context
                    .service_token
                    .as_ref()
                    .map_or("none".to_owned(), display_prefix);
                let rows = [
                    ("name", context.name.clone()),
                    ("current", if current { "yes" } else { "no" }.to_owned()),
                    ("url", context.url.clone()),
                    ("key", display_prefix(&context.api_key)),
                    ("service token", token),
                    ("file", stored.path().display().to_string()),
                ];
                render::print_table(&render::details(&rows));
            }
        }
        ContextCommand::Remove { name } => {
            stored.remove(&name)?;
            stored.save()?;
            render::outcome(
                opts.json,
                &json!({"removed": name}),
                &format!("Removed context {name}."),
            );
        }
    }
    Ok(())
}

/// A context as JSON, with prefixes in place of the credentials.
fn describe(c: &Context, current: bool) -> serde_json::Value {
    json!({
        "name": c.name,
        "url": c.url,
        "key_prefix": display_prefix(&c.api_key),
        "service_token_prefix": c.service_token.as_ref().map(display_prefix),
        "current": current,
    })
}
