//! `keyward verify KEY [--scope S]`: asks the verify API, as a product's service would,
//! with a service token from `KEYWARD_SERVICE_TOKEN` or the context.
//!
//! Exit 0 only for `VALID`, so `keyward verify "$KEY" && deploy` reads as it should; any
//! other answer prints its code and exits 1.

use keyward_client::Client;
use keyward_core::secret::SecretString;
use serde_json::json;

use super::{connection, read_stdin_line, render, ClientOpts, Connection, Failure, Outcome};

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    keyward verify kw_... --scope apps:deploy\n  \
    printf '%s\\n' \"$KEY\" | keyward verify -          # the key from stdin\n  \
    KEYWARD_SERVICE_TOKEN=kwsvc_... keyward verify \"$KEY\" --json")]
pub struct VerifyArgs {
    /// The key to check, or `-` to read it from stdin.
    key: String,
    /// A scope the key must hold (repeat for several).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
}

pub async fn run(args: VerifyArgs, opts: &ClientOpts) -> Outcome {
    let Connection { url, context, .. } = connection(opts)?;
    let token = std::env::var("KEYWARD_SERVICE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(SecretString::new)
        .or_else(|| context.and_then(|c| c.service_token))
        .ok_or_else(|| {
            Failure::Usage(
                "verify needs a service token: set KEYWARD_SERVICE_TOKEN, or store one with \
                 `keyward context add NAME --url URL --api-key-stdin --service-token TOKEN`"
                    .into(),
            )
        })?;
    let key = if args.key == "-" {
        read_stdin_line("key")?
    } else {
        SecretString::new(args.key)
    };
    let api = Client::new(&url, token).map_err(Failure::Usage)?;
    let mut body = json!({ "key": key.expose_secret() });
    if !args.scopes.is_empty() {
        body["scopes"] = json!(args.scopes);
    }
    let answer = api.post("keys/verify", &body).await?;
    let code = render::text(&answer, "code");
    if opts.json {
        render::print_json(&answer);
    } else {
        let key = answer.get("key").cloned().unwrap_or_default();
        let mut rows = vec![("code", code.clone())];
        if !key.is_null() {
            rows.push((
                "key",
                format!(
                    "{} ({}…)",
                    render::text(&key, "name"),
                    render::text(&key, "key_prefix")
                ),
            ));
            rows.push(("workspace", render::text(&key, "workspace_id")));
        }
        if let Some(missing) = answer
            .get("missing_scopes")
            .and_then(serde_json::Value::as_array)
        {
            let missing: Vec<_> = missing
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect();
            rows.push(("missing scopes", missing.join(", ")));
        }
        render::print_table(&render::details(&rows));
    }
    if code == "VALID" {
        Ok(())
    } else {
        Err(Failure::Other(format!("the key is not valid: {code}")))
    }
}
