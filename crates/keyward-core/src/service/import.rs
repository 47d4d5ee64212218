//! Importing another system's keys (PRODUCT.md §2 "Imported keys", §9 `admin import-keys`).
//!
//! Each row is checked and built into a key here; a batch of rows is then written in one
//! transaction, under the same limits as any other key. Reading CSV or JSON Lines is the
//! CLI's business: it hands over [`ImportRow`]s and reports the [`RowResult`]s.
//!
//! The import acts as the operator (the `system` actor): no role checks, but every data rule
//! holds. A key's creator must be a member of its workspace and hold its scopes, and a row
//! that would take a workspace past its plan or its hard cap fails, alone.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde_json::json;
use uuid::Uuid;

use super::keys::key_details;
use super::Service;
use crate::error::{FieldError, Result};
use crate::imported;
use crate::model::{
    new_id, now, ActorType, ApiKey, AuditActor, AuditEvent, AuditTarget, JsonObject, KeySource,
    Membership, Role, Timestamp, Workspace,
};
use crate::scope::ScopeSet;
use crate::secret::{CredentialHash, SecretString, Sha256Digest};
use crate::store::{Cursor, KeyCounts, StoreTx};
use crate::validate;

/// One row of an import file, as read; nothing is checked yet. Empty fields are `None`.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    /// Where the row starts in its file, for error messages.
    pub line: u64,
    /// A workspace id, or the exact name of exactly one workspace.
    pub workspace: Option<String>,
    pub name: Option<String>,
    /// The plaintext secret; only its SHA-256 is kept, under the pepper.
    pub key: Option<SecretString>,
    /// The secret's SHA-256 in hex, when the old system kept nothing else.
    pub sha256: Option<String>,
    /// Display form for a `sha256` row; a plaintext row derives its own.
    pub key_prefix: Option<String>,
    /// Default: full access, `["*"]`.
    pub scopes: Option<Vec<String>>,
    /// RFC 3339.
    pub expires_at: Option<String>,
    /// A user id or email; default: the workspace's oldest owner.
    pub created_by: Option<String>,
    /// RFC 3339, not in the future; kept as the key's `created_at`. Default: now.
    pub created_at: Option<String>,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// Imported as this key.
    Imported(Uuid),
    /// A key with this secret exists already: from an earlier run, or an earlier row.
    Skipped,
    /// Why the row was not imported. It names fields, never their values.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    pub line: u64,
    pub outcome: RowOutcome,
}

impl RowResult {
    pub fn failed(line: u64, message: impl Into<String>) -> Self {
        Self {
            line,
            outcome: RowOutcome::Failed(message.into()),
        }
    }
}

/// A row whose fields all parsed; what is left to check needs the transaction.
#[derive(Clone)]
struct Checked {
    line: u64,
    workspace_id: Uuid,
    name: String,
    hash: CredentialHash,
    key_prefix: String,
    scopes: ScopeSet,
    expires_at: Option<Timestamp>,
    created_at: Option<Timestamp>,
    created_by: Uuid,
}

/// One workspace inside a batch's transaction: as locked, and its key counts so far.
struct Tally {
    workspace: Workspace,
    counts: KeyCounts,
}

/// Imports batches of rows, remembering across batches what does not change while it runs:
/// which workspace a name means, which user an id or email is, and each workspace's oldest
/// owner. What limits and memberships depend on is read again in each batch's transaction.
pub struct Importer {
    service: Service,
    workspaces: HashMap<Uuid, Workspace>,
    ids_by_name: HashMap<String, Vec<Uuid>>,
    users: HashMap<String, Option<Uuid>>,
    oldest_owners: HashMap<Uuid, Option<Uuid>>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer").finish_non_exhaustive()
    }
}

/// Workspaces read per page while the importer learns their names.
const WORKSPACE_PAGE: u32 = 1000;

impl Service {
    /// An importer for this instance; it reads every workspace once, to resolve names.
    pub async fn importer(&self) -> Result<Importer> {
        let mut workspaces = HashMap::new();
        let mut ids_by_name: HashMap<String, Vec<Uuid>> = HashMap::new();
        let mut after = None;
        loop {
            let page = self.store.list_workspaces(after, WORKSPACE_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(Cursor {
                at: last.created_at,
                id: last.id,
            });
            for w in page {
                ids_by_name.entry(w.name.clone()).or_default().push(w.id);
                workspaces.insert(w.id, w);
            }
        }
        Ok(Importer {
            service: self.clone(),
            workspaces,
            ids_by_name,
            users: HashMap::new(),
            oldest_owners: HashMap::new(),
        })
    }
}

impl Importer {
    /// Imports a batch of rows in one transaction; returns one result per row, in order.
    /// A row that fails is reported and the others go on; an `Err` is the store failing,
    /// after which nothing of this batch is written (earlier batches stay committed, and a
    /// re-run skips them).
    pub async fn import_batch(&mut self, rows: Vec<ImportRow>) -> Result<Vec<RowResult>> {
        let mut results = Vec::with_capacity(rows.len());
        let mut checked = Vec::with_capacity(rows.len());
        for row in rows {
            let line = row.line;
            match self.check(row).await? {
                Ok(c) => checked.push(c),
                Err(message) => results.push(RowResult::failed(line, message)),
            }
        }
        results.extend(self.write(checked).await?);
        results.sort_by_key(|r| r.line);
        Ok(results)
    }

    /// Parses every field of a row. The outer `Result` is the store failing; the inner one
    /// is the row's own problems, all of them in one message.
    async fn check(&mut self, row: ImportRow) -> Result<Result<Checked, String>> {
        let mut problems: Vec<String> = Vec::new();
        let mut field = |e: FieldError| problems.push(format!("{}: {}", e.field, e.message));

        let workspace_id = match self.workspace_id(row.workspace.as_deref()) {
            Ok(id) => Some(id),
            Err(e) => {
                field(e);
                None
            }
        };
        let name = validate::name("name", row.name.as_deref().unwrap_or(""))
            .map_err(&mut field)
            .ok();
        let secret = secret_of(&row).map_err(&mut field).ok();
        let scopes = match &row.scopes {
            None => Some(ScopeSet::full()),
            Some(raw) => validate::scopes("scopes", raw, &self.service.settings.catalog)
                .map_err(&mut field)
                .ok(),
        };
        let now = now();
        let expires_at = match row.expires_at.as_deref() {
            None => Some(None),
            Some(raw) => time("expires_at", raw).map(Some).map_err(&mut field).ok(),
        };
        let created_at = match row.created_at.as_deref() {
            None => Some(None),
            Some(raw) => time("created_at", raw)
                .and_then(|t| {
                    (t <= now)
                        .then_some(Some(t))
                        .ok_or_else(|| FieldError::new("created_at", "must not be in the future"))
                })
                .map_err(&mut field)
                .ok(),
        };
        let created_by = match workspace_id {
            Some(ws) => match self.creator(ws, row.created_by.as_deref()).await? {
                Ok(user) => Some(user),
                Err(e) => {
                    field(e);
                    None
                }
            },
            None => None,
        };
        let (
            Some(workspace_id),
            Some(name),
            Some((digest, key_prefix)),
            Some(scopes),
            Some(expires_at),
            Some(created_at),
            Some(created_by),
        ) = (
            workspace_id,
            name,
            secret,
            scopes,
            expires_at,
            created_at,
            created_by,
        )
        else {
            return Ok(Err(problems.join("; ")));
        };
        let hash = self.service.pepper.hash_imported(&digest);
        Ok(Ok(Checked {
            line: row.line,
            workspace_id,
            name,
            hash,
            key_prefix,
            scopes,
            expires_at,
            created_at,
            created_by,
        }))
    }

    /// The workspace a row names: an id, or a name that exactly one workspace has.
    fn workspace_id(&self, raw: Option<&str>) -> Result<Uuid, FieldError> {
        let raw = raw.unwrap_or("").trim();
        if raw.is_empty() {
            return Err(FieldError::new("workspace", "is required"));
        }
        if let Ok(id) = Uuid::parse_str(raw) {
            if self.workspaces.contains_key(&id) {
                return Ok(id);
            }
        }
        match self.ids_by_name.get(raw).map(Vec::as_slice) {
            Some([only]) => Ok(*only),
            Some(several) if several.len() > 1 => Err(FieldError::new(
                "workspace",
                format!(
                    "{} workspaces have this name; give the workspace id instead",
                    several.len()
                ),
            )),
            _ => Err(FieldError::new(
                "workspace",
                "unknown workspace (no workspace has this id or exact name; see `keyward admin workspace list`)",
            )),
        }
    }

    /// The key's creator: the user a row names, or the workspace's oldest owner.
    async fn creator(
        &mut self,
        workspace_id: Uuid,
        raw: Option<&str>,
    ) -> Result<Result<Uuid, FieldError>> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            let owner = match self.oldest_owners.get(&workspace_id) {
                Some(owner) => *owner,
                None => {
                    let members = self.service.store.members(workspace_id).await?;
                    let owner = members
                        .iter()
                        .find(|m| m.membership.role == Role::Owner)
                        .map(|m| m.user.id);
                    self.oldest_owners.insert(workspace_id, owner);
                    owner
                }
            };
            return Ok(owner.ok_or_else(|| {
                FieldError::new("created_by", "is required: the workspace has no owner")
            }));
        };
        let user = match self.users.get(raw) {
            Some(user) => *user,
            None => {
                let user = match self.service.find_user(raw).await {
                    Ok(user) => Some(user.id),
                    Err(crate::Error::NotFound) => None,
                    Err(e) => return Err(e),
                };
                self.users.insert(raw.to_owned(), user);
                user
            }
        };
        Ok(user.ok_or_else(|| {
            FieldError::new(
                "created_by",
                "no user has this id or email; see `keyward admin user list`",
            )
        }))
    }

    /// Writes the rows that parsed, in one transaction, run again if it loses to a
    /// conflicting write.
    async fn write(&self, rows: Vec<Checked>) -> Result<Vec<RowResult>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let service = &self.service;
        retrying!({ self.write_once(service, rows.clone()).await })
    }

    /// One attempt at a batch: skips secrets already stored, then checks what needs the
    /// transaction (expiry, membership, scopes, limits) row by row.
    async fn write_once(&self, service: &Service, rows: Vec<Checked>) -> Result<Vec<RowResult>> {
        let mut results = Vec::with_capacity(rows.len());
        let mut tx = service.store.begin().await?;
        let hashes: Vec<CredentialHash> = rows.iter().map(|r| r.hash).collect();
        let stored: HashSet<CredentialHash> =
            tx.existing_key_hashes(&hashes).await?.into_iter().collect();
        let now = now();
        let mut added: HashSet<CredentialHash> = HashSet::new();
        let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
        // Every workspace the batch writes to is locked up front and in id order, the order
        // every other import locks them in: two imports sharing workspaces then wait for each
        // other instead of deadlocking, as they could if each locked in its file's order.
        let mut workspace_ids: Vec<Uuid> = rows.iter().map(|r| r.workspace_id).collect();
        workspace_ids.sort_unstable();
        workspace_ids.dedup();
        for id in workspace_ids {
            if let Some(workspace) = tx.lock_workspace(id).await? {
                let counts = tx.key_counts(id, now).await?;
                tallies.insert(id, Tally { workspace, counts });
            }
        }
        let mut memberships: HashMap<(Uuid, Uuid), Option<Membership>> = HashMap::new();
        let mut keys = Vec::new();
        let mut events = Vec::new();
        for row in rows {
            let line = row.line;
            if stored.contains(&row.hash) || added.contains(&row.hash) {
                results.push(RowResult {
                    line,
                    outcome: RowOutcome::Skipped,
                });
                continue;
            }
            match admit(
                service,
                tx.as_mut(),
                &mut tallies,
                &mut memberships,
                &row,
                now,
            )
            .await?
            {
                Err(message) => results.push(RowResult::failed(line, message)),
                Ok((role, held)) => {
                    let key = build_key(row, role, held, now);
                    if let Some(tally) = tallies.get_mut(&key.workspace_id) {
                        tally.counts.total += 1;
                        tally.counts.active += 1;
                    }
                    added.insert(key.hash);
                    events.push(created_event(&key));
                    results.push(RowResult {
                        line,
                        outcome: RowOutcome::Imported(key.id),
                    });
                    keys.push(key);
                }
            }
        }
        tx.insert_keys(&keys).await?;
        tx.insert_audits(&events).await?;
        self.service.commit(tx).await?;
        Ok(results)
    }
}

/// The checks of one row that need the transaction. `Ok` carries the creator's role and
/// what it holds, the snapshot the key is made with.
async fn admit(
    service: &Service,
    tx: &mut dyn StoreTx,
    tallies: &mut HashMap<Uuid, Tally>,
    memberships: &mut HashMap<(Uuid, Uuid), Option<Membership>>,
    row: &Checked,
    now: Timestamp,
) -> Result<Result<(Role, ScopeSet), String>> {
    // Checked after the skip: re-running a file whose keys have expired since skips them.
    if row.expires_at.is_some_and(|e| e <= now) {
        return Ok(Err(
            "expires_at: is in the past; an expired key is not imported".into(),
        ));
    }
    let tally = match tallies.entry(row.workspace_id) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => {
            let Some(workspace) = tx.lock_workspace(row.workspace_id).await? else {
                return Ok(Err("workspace: unknown workspace".into()));
            };
            let counts = tx.key_counts(row.workspace_id, now).await?;
            e.insert(Tally { workspace, counts })
        }
    };
    let membership = match memberships.entry((row.workspace_id, row.created_by)) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e.insert(tx.membership(row.workspace_id, row.created_by).await?),
    };
    let Some(membership) = membership else {
        return Ok(Err(
            "created_by: is not a member of this workspace (a key acts only while its creator is one)"
                .into(),
        ));
    };
    let held = membership.holds(
        &service.settings.catalog,
        tally.workspace.members_can_create_keys,
    );
    // The operator skips role checks, never this one: a key never exceeds its user's scopes.
    if !held.covers(&row.scopes) {
        return Ok(Err(
            "scopes: created_by does not hold them in this workspace".into(),
        ));
    }
    if let Err(e) = service.refuse_over_limits(&tally.workspace, tally.counts) {
        return Ok(Err(format!("{}: {e}", e.code())));
    }
    Ok(Ok((membership.role, held)))
}

/// The hash to store and the display form, from `key` or `sha256` (exactly one of them).
fn secret_of(row: &ImportRow) -> Result<(Sha256Digest, String), FieldError> {
    match (&row.key, row.sha256.as_deref()) {
        (Some(_), Some(_)) => Err(FieldError::new("key", "give key or sha256, not both")),
        (None, None) => Err(FieldError::new("key", "give key (plaintext) or sha256")),
        (Some(secret), None) => {
            let plain = secret.expose_secret();
            imported::check_plaintext(plain).map_err(|e| FieldError::new("key", e.message()))?;
            Ok((Sha256Digest::of(plain), imported::display_prefix(plain)))
        }
        (None, Some(hex)) => {
            let digest = Sha256Digest::parse_hex(hex.trim()).ok_or_else(|| {
                FieldError::new("sha256", "must be 64 hexadecimal digits (a SHA-256)")
            })?;
            let prefix = row.key_prefix.as_deref().unwrap_or("").trim().to_owned();
            imported::check_given_prefix(&prefix)
                .map_err(|message| FieldError::new("key_prefix", message))?;
            Ok((digest, prefix))
        }
    }
}

fn time(field: &str, raw: &str) -> Result<Timestamp, FieldError> {
    validate::time(field, raw.trim())
}

fn build_key(row: Checked, creator_role: Role, creator_scopes: ScopeSet, now: Timestamp) -> ApiKey {
    ApiKey {
        id: new_id(),
        seq: 0,
        workspace_id: row.workspace_id,
        name: row.name,
        key_prefix: row.key_prefix,
        hash: row.hash,
        source: KeySource::Imported,
        scopes: row.scopes,
        creator_role,
        creator_scopes,
        created_by: row.created_by,
        created_at: row.created_at.unwrap_or(now),
        updated_at: now,
        expires_at: row.expires_at,
        last_used_at: None,
        revoked_at: None,
        deleted_at: None,
        metadata: JsonObject::new(),
        rotated_from: None,
        rotated_to: None,
    }
}

/// `api_key.created` by the `system` actor, marked as an import; no secret, no hash.
fn created_event(key: &ApiKey) -> AuditEvent {
    let mut details = key_details(key);
    details["source"] = json!(KeySource::Imported.as_str());
    AuditEvent {
        id: new_id(),
        workspace_id: key.workspace_id,
        at: key.updated_at,
        actor: AuditActor {
            kind: ActorType::System,
            id: None,
        },
        action: "api_key.created".into(),
        target: AuditTarget {
            kind: "api_key".into(),
            id: key.id,
        },
        ip: None,
        user_agent: None,
        details,
    }
}
