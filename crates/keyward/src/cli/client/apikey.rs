//! `keyward apikey ...`: the caller's workspace's keys, over `/api/v1/api-keys` (the alias
//! that acts on the workspace of the key in use).
//!
//! A key is named on the command line by its id, its exact name, or its `key_prefix`, as
//! listings show them; a name that several keys share is refused with a request for the id.

use clap::Subcommand;
use keyward_client::Client;
use serde_json::{json, Map, Value};

use super::{client, confirm, listing, render, seconds, ClientOpts, Failure, Outcome};

const KEYS: &str = "api-keys";

#[derive(Subcommand, Debug)]
pub enum ApikeyCommand {
    /// List keys, newest first.
    #[command(after_help = "Examples:\n  \
        keyward apikey list\n  \
        keyward apikey list --status active --all\n  \
        keyward apikey list --search deploy --json")]
    List {
        /// Only active, revoked or expired keys.
        #[arg(long, value_parser = ["active", "revoked", "expired"])]
        status: Option<String>,
        /// Only keys whose name contains this text.
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Every page, not just the first.
        #[arg(long)]
        all: bool,
        /// Keys per page (1–200).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=200))]
        limit: Option<u16>,
    },
    /// Show one key.
    #[command(
        after_help = "Examples:\n  keyward apikey show ci-deploy\n  keyward apikey show kw_a1B2c3D4 --json"
    )]
    Show {
        /// The key's id, name or key_prefix.
        key: String,
    },
    /// Create a key; its secret is printed once.
    #[command(after_help = "Examples:\n  \
        keyward apikey create --name ci-deploy --expires-in 90d\n  \
        keyward apikey create --name billing-read --scopes billing:read,apps:read\n  \
        KEY=$(keyward apikey create --name ci)   # only the secret, when stdout is not a terminal")]
    Create {
        #[arg(long)]
        name: String,
        /// When it expires, RFC 3339, e.g. 2027-01-01T00:00:00Z.
        #[arg(long, value_name = "TIME", conflicts_with = "expires_in")]
        expires_at: Option<String>,
        /// When it expires, from now: 90d, 12h, 1h30m.
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        /// Comma-separated scopes (default: everything you hold; `*` is full access).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
    },
    /// Rename a key.
    #[command(after_help = "Example:\n  keyward apikey rename ci-deploy ci-deploy-2027")]
    Rename {
        /// The key's id, name or key_prefix.
        key: String,
        new_name: String,
    },
    /// Change a key's scopes or expiry.
    #[command(after_help = "Examples:\n  \
        keyward apikey update ci-deploy --scopes apps:read\n  \
        keyward apikey update ci-deploy --scopes '*'\n  \
        keyward apikey update ci-deploy --expires-in 30d")]
    Update {
        /// The key's id, name or key_prefix.
        key: String,
        /// Comma-separated scopes; `*` is full access.
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
        #[arg(long, value_name = "TIME", conflicts_with = "expires_in")]
        expires_at: Option<String>,
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// Revoke a key: the next request with it fails.
    #[command(after_help = "Example:\n  keyward apikey revoke ci-deploy --reason 'laptop lost'")]
    Revoke {
        /// The key's id, name or key_prefix.
        key: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Delete a key (revoked if active, and gone from listings; the audit log keeps it).
    #[command(
        after_help = "Examples:\n  keyward apikey delete old-ci\n  keyward apikey delete old-ci --yes   # in scripts"
    )]
    Delete {
        /// The key's id, name or key_prefix.
        key: String,
        /// Do not ask. Without it, stdin must be a terminal.
        #[arg(long, short)]
        yes: bool,
    },
    /// Replace a key with a new one of the same name and scopes; the new secret is printed once.
    #[command(after_help = "Examples:\n  \
        keyward apikey rotate ci-deploy --grace 1h   # the old key works one more hour\n  \
        keyward apikey rotate ci-deploy              # the old key stops at once")]
    Rotate {
        /// The key's id, name or key_prefix.
        key: String,
        /// How long the old key keeps working (at most 7d); default: it stops at once.
        #[arg(long, value_name = "DURATION")]
        grace: Option<String>,
        /// The new key's expiry (default: the old key's lifetime, from now).
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },
}

pub async fn run(command: ApikeyCommand, opts: &ClientOpts) -> Outcome {
    let api = client(opts)?;
    match command {
        ApikeyCommand::List {
            status,
            search,
            all,
            limit,
        } => {
            let filtered = status.is_some() || search.is_some();
            let mut query = Vec::new();
            if let Some(status) = status {
                query.push(("status", status));
            }
            if let Some(search) = search {
                query.push(("q", search));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let (keys, more) = listing(&api, KEYS, &query, all).await?;
            if opts.json {
                render::print_json(&Value::Array(keys));
            } else {
                print_list(&keys, filtered);
                if more {
                    eprintln!("More keys follow: add --all to list every page.");
                }
            }
        }
        ApikeyCommand::Show { key } => {
            let id = resolve(&api, &key).await?;
            let found = api.get(&format!("{KEYS}/{id}"), &[]).await?;
            print_key(&found, opts.json);
        }
        ApikeyCommand::Create {
            name,
            expires_at,
            expires_in,
            scopes,
        } => {
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            if let Some(at) = expiry(expires_at, expires_in)? {
                body.insert("expires_at".into(), json!(at));
            }
            if let Some(scopes) = scopes {
                body.insert("scopes".into(), json!(scopes));
            }
            let created = api.post(KEYS, &Value::Object(body)).await?;
            print_secret(&created, opts.json);
        }
        ApikeyCommand::Rename { key, new_name } => {
            let id = resolve(&api, &key).await?;
            let updated = api
                .patch(&format!("{KEYS}/{id}"), &json!({ "name": new_name }))
                .await?;
            print_key(&updated, opts.json);
        }
        ApikeyCommand::Update {
            key,
            scopes,
            expires_at,
            expires_in,
        } => {
            let mut body = Map::new();
            if let Some(scopes) = scopes {
                body.insert("scopes".into(), json!(scopes));
            }
            if let Some(at) = expiry(expires_at, expires_in)? {
                body.insert("expires_at".into(), json!(at));
            }
            if body.is_empty() {
                return Err(Failure::Usage(
                    "nothing to change: give --scopes, --expires-at or --expires-in".into(),
                ));
            }
            let id = resolve(&api, &key).await?;
            let updated = api
                .patch(&format!("{KEYS}/{id}"), &Value::Object(body))
                .await?;
            print_key(&updated, opts.json);
        }
        ApikeyCommand::Revoke { key, reason } => {
            let id = resolve(&api, &key).await?;
            let body = reason.map_or_else(|| json!({}), |r| json!({ "reason": r }));
            let revoked = api.post(&format!("{KEYS}/{id}/revoke"), &body).await?;
            print_key(&revoked, opts.json);
        }
        ApikeyCommand::Delete { key, yes } => {
            let id = resolve(&api, &key).await?;
            if !yes {
                let found = api.get(&format!("{KEYS}/{id}"), &[]).await?;
                let question = format!(
                    "Delete {} ({})? It is revoked if active, and gone from listings.",
                    render::text(&found, "name"),
                    render::text(&found, "key_prefix")
                );
                if !confirm(&question)? {
                    eprintln!("Nothing deleted.");
                    return Ok(());
                }
            }
            api.delete(&format!("{KEYS}/{id}")).await?;
            render::outcome(
                opts.json,
                &json!({ "deleted": id }),
                &format!("Deleted {key}."),
            );
        }
        ApikeyCommand::Rotate {
            key,
            grace,
            expires_at,
        } => {
            let id = resolve(&api, &key).await?;
            let mut body = Map::new();
            if let Some(grace) = grace {
                body.insert(
                    "grace_period_seconds".into(),
                    json!(seconds(&grace, "--grace")?),
                );
            }
            if let Some(at) = expires_at {
                body.insert("expires_at".into(), json!(at));
            }
            let rotated = api
                .post(&format!("{KEYS}/{id}/rotate"), &Value::Object(body))
                .await?;
            print_secret(&rotated, opts.json);
        }
    }
    Ok(())
}

/// The id of the key a user named: an id as is, else the one key whose exact name or
/// `key_prefix` it is. Looking a name up costs a listing, which is the API's own filter.
pub async fn resolve(api: &Client, named: &str) -> Result<String, Failure> {
    if uuid::Uuid::parse_str(named).is_ok() {
        return Ok(named.to_owned());
    }
    let by_prefix = named.trim_end_matches('…');
    let keys = api.all(KEYS, &[]).await?;
    let matches: Vec<&Value> = keys
        .iter()
        .filter(|k| render::text(k, "name") == named || render::text(k, "key_prefix") == by_prefix)
        .collect();
    match matches.as_slice() {
        [one] => Ok(render::text(one, "id")),
        [] => Err(Failure::Usage(format!(
            "no key has the id, name or key_prefix {named:?}; `keyward apikey list` shows them"
        ))),
        _ => Err(Failure::Usage(format!(
            "{} keys are named {named:?}; name one by its id or key_prefix (`keyward apikey list`)",
            matches.len()
        ))),
    }
}

/// An RFC 3339 time, from `--expires-at` as given or `--expires-in` from now.
fn expiry(at: Option<String>, within: Option<String>) -> Result<Option<String>, Failure> {
    match (at, within) {
        (Some(at), _) => Ok(Some(at)),
        (None, Some(within)) => {
            let secs = seconds(&within, "--expires-in")?;
            let secs = i64::try_from(secs)
                .map_err(|_| Failure::Usage("--expires-in is too long".into()))?;
            let at = chrono::Utc::now()
                .checked_add_signed(chrono::Duration::seconds(secs))
                .ok_or_else(|| Failure::Usage("--expires-in is too long".into()))?;
            Ok(Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        }
        (None, None) => Ok(None),
    }
}

fn print_list(keys: &[Value], filtered: bool) {
    if keys.is_empty() && filtered {
        println!("No API keys match.");
        return;
    }
    if keys.is_empty() {
        println!("No API keys yet. Create one with `keyward apikey create --name NAME`.");
        return;
    }
    let mut table = render::table([
        "name",
        "key",
        "status",
        "permissions",
        "expires",
        "last used",
    ]);
    for key in keys {
        table.add_row([
            comfy_table::Cell::new(render::text(key, "name")),
            comfy_table::Cell::new(format!("{}…", render::text(key, "key_prefix"))),
            render::status(key),
            comfy_table::Cell::new(render::permissions(key)),
            comfy_table::Cell::new(render::date(key, "expires_at")),
            comfy_table::Cell::new(render::relative(key, "last_used_at")),
        ]);
    }
    render::print_table(&table);
}

fn print_key(key: &Value, json: bool) {
    if json {
        render::print_json(key);
        return;
    }
    let mut rows = vec![
        ("id", render::text(key, "id")),
        ("name", render::text(key, "name")),
        ("key", format!("{}…", render::text(key, "key_prefix"))),
        ("status", render::text(key, "status")),
        ("permissions", render::permissions(key)),
        ("created", render::time(key, "created_at")),
        ("created by", render::text(key, "created_by")),
        ("expires", render::time(key, "expires_at")),
        ("last used", render::time(key, "last_used_at")),
    ];
    for (field, label) in [
        ("revoked_at", "revoked"),
        ("rotated_from", "rotated from"),
        ("rotated_to", "rotated to"),
        ("source", "source"),
    ] {
        if key.get(field).is_some_and(|v| !v.is_null()) {
            let value = if field.ends_with("_at") {
                render::time(key, field)
            } else {
                render::text(key, field)
            };
            rows.push((label, value));
        }
    }
    render::print_table(&render::details(&rows));
}

/// A created or rotated key: the API's JSON with `--json`, else the secret once.
fn print_secret(key: &Value, json: bool) {
    if json {
        render::print_json(key);
    } else {
        render::print_new_secret(key);
    }
}
