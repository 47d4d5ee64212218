//! `keyward whoami`: who the key in use belongs to, and what it may do.

use super::{client, render, ClientOpts, Outcome};

pub async fn run(opts: &ClientOpts) -> Outcome {
    let api = client(opts)?;
    let me = api.get("users/current", &[]).await?;
    if opts.json {
        render::print_json(&me);
        return Ok(());
    }
    let user = me.get("user").cloned().unwrap_or_default();
    let workspace = me.get("workspace").cloned().unwrap_or_default();
    let auth = me.get("auth").cloned().unwrap_or_default();
    let scopes = auth
        .get("scopes")
        .and_then(serde_json::Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let rows = [
        (
            "user",
            format!(
                "{} <{}>",
                render::text(&user, "name"),
                render::text(&user, "email")
            ),
        ),
        (
            "workspace",
            format!(
                "{} ({})",
                render::text(&workspace, "name"),
                render::text(&workspace, "id")
            ),
        ),
        ("role", render::text(&me, "role")),
        ("key", format!("{}…", render::text(&auth, "key_prefix"))),
        ("scopes", scopes),
        ("server", api.server()),
    ];
    render::print_table(&render::details(&rows));
    Ok(())
}
