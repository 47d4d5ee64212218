//! `keyward admin apikey lookup --secret-stdin [--revoke]`: support's answer to "whose key is
//! this?" for a leaked or presented secret, native or imported. It prints the key's display
//! prefix, never the secret; `--revoke` also revokes it and records the leak.

use keyward_core::Service;

use super::{read_secret, Refusal};
use crate::cli::output::{self, Table};
use crate::http::dto::{KeyOut, WorkspaceOut};

pub async fn run(service: &Service, revoke: bool, json: bool) -> Result<(), Refusal> {
    let secret = read_secret("secret")?;
    let found = service.lookup_secret(&secret).await?.ok_or_else(|| {
        Refusal::new(
            "not_found",
            "no key matches this secret: it was never issued here, was not imported, or its \
             key was deleted",
        )
    })?;
    drop(secret);
    let (mut key, workspace) = (found.key, found.workspace);
    let was_revoked = key.revoked_at.is_some();
    if revoke {
        key = service.revoke_leaked_key(workspace.id, key.id).await?;
        super::settle_servers().await;
    }
    let key = KeyOut::from(key);
    if json {
        output::json(&serde_json::json!({
            "workspace": WorkspaceOut::new(workspace, None),
            "key": key,
            "revoked_now": revoke && !was_revoked,
        }));
        return Ok(());
    }
    let mut table = Table::new(["FIELD", "VALUE"]);
    for (field, value) in [
        (
            "workspace",
            format!("{} ({})", workspace.name, workspace.id),
        ),
        ("id", key.id.to_string()),
        ("name", key.name.clone()),
        ("key", format!("{}…", key.key_prefix)),
        ("status", format!("{:?}", key.status).to_lowercase()),
        ("source", format!("{:?}", key.source).to_lowercase()),
        ("access", key.access.to_owned()),
        ("created", output::time(Some(key.created_at))),
        ("created by", key.created_by.to_string()),
        ("expires", output::time(key.expires_at)),
        ("last used", output::time(key.last_used_at)),
    ] {
        table.row([field.to_owned(), value]);
    }
    table.print();
    if revoke {
        if was_revoked {
            println!("The key was already revoked; the leak is recorded in the audit log.");
        } else {
            println!("Revoked: the very next request with this secret gets 401.");
        }
    }
    Ok(())
}
