//! Row ↔ model mapping shared by every backend: times as unix milliseconds, hashes as bytes,
//! scope lists and objects as JSON text, and how each domain type is read back from a row.
//!
//! Every column list here matches a `*_from_row` function below, so a query selects
//! `KEY_COLUMNS` and maps with `key_from_row`, and the two cannot drift apart. The mappers
//! read through the small [`Columns`] trait, which each driver's row implements (sqlx's
//! SQLite and PostgreSQL rows, and rusqlite's on the SQLite verification lookup), so each
//! domain type is mapped once, whatever database it came from. Only what differs between
//! databases (how an id or a flag is stored) is behind the trait.

use chrono::DateTime;
use keyward_core::key_format::{KeyFormat, KeyPrefix};
use keyward_core::model::{
    ActorType, ApiKey, AuditActor, AuditEvent, AuditTarget, EmailToken, Invitation, JsonObject,
    KeySource, Member, Membership, Role, ServiceToken, Session, Timestamp, User, Workspace,
};
use keyward_core::scope::ScopeSet;
use keyward_core::secret::{CredentialHash, PasswordHash};
use keyward_core::store::{KeyLookup, StoreError, StoreResult};
use uuid::Uuid;

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.password_hash, u.email_verified_at, u.created_at";
pub(crate) const WORKSPACE_COLUMNS: &str =
    "w.id, w.name, w.plan, w.key_prefix, w.key_format, w.members_can_create_keys, w.created_at, \
     w.updated_at";
pub(crate) const MEMBERSHIP_COLUMNS: &str =
    "m.workspace_id, m.user_id, m.role, m.scopes, m.created_at AS m_created_at";
pub(crate) const KEY_COLUMNS: &str = "id, seq, workspace_id, name, key_prefix, hash, source, \
     scopes, creator_role, creator_scopes, created_by, created_at, updated_at, expires_at, \
     last_used_at, revoked_at, deleted_at, metadata, rotated_from, rotated_to";
pub(crate) const AUDIT_COLUMNS: &str = "id, workspace_id, at, actor_type, actor_id, action, \
     target_type, target_id, ip, user_agent, details";
pub(crate) const SERVICE_TOKEN_COLUMNS: &str =
    "id, name, token_prefix, hash, created_at, revoked_at, last_used_at";
pub(crate) const SESSION_COLUMNS: &str =
    "id, token_hash, csrf_hash, user_id, created_at, last_seen_at";
pub(crate) const EMAIL_TOKEN_COLUMNS: &str =
    "id, user_id, token_hash, created_at, expires_at, used_at";
pub(crate) const INVITATION_COLUMNS: &str = "id, workspace_id, email, role, scopes, invited_by, \
     token_hash, created_at, expires_at, accepted_at, withdrawn_at";

// ---- values going in -------------------------------------------------------------------
// Ids go in each backend's own way (hyphenated text on SQLite, native uuid on PostgreSQL).

/// Both backends store instants as unix milliseconds, the domain's precision, so a value
/// round-trips exactly on either and the two compare and sort the same way.
pub(crate) fn millis(value: Timestamp) -> i64 {
    value.timestamp_millis()
}

pub(crate) fn opt_millis(value: Option<Timestamp>) -> Option<i64> {
    value.map(millis)
}

pub(crate) fn hash(value: &CredentialHash) -> &[u8] {
    value.expose_secret()
}

/// A substring filter as a LIKE pattern whose escape character is a backslash: LIKE's
/// wildcards in the needle are escaped, so that `q=50%` matches the text "50%", not "50" and
/// anything. Both backends' queries name the escape character (`ESCAPE '\'`).
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub(crate) fn json<T: serde::Serialize>(value: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|_| StoreError::Other(format!("could not encode {what}")))
}

// ---- values coming out -----------------------------------------------------------------

/// An error about a stored column that names the column and never its value.
pub(crate) fn bad(column: &str) -> StoreError {
    StoreError::Other(format!("stored column {column} holds an invalid value"))
}

/// A row that the mappers below can read: sqlx's SQLite and PostgreSQL rows, and rusqlite's
/// on the SQLite verification lookup (`sqlite/lookup.rs`). Three typed reads are all the
/// mappers need, plus two whose storage differs between databases and which have defaults
/// for the databases without a native type. `None` is SQL NULL.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn blob(&self, column: &str) -> StoreResult<Option<Vec<u8>>>;

    /// A UUID column. By default stored as text (SQLite); PostgreSQL decodes its native
    /// `uuid` type instead.
    fn id(&self, column: &str) -> StoreResult<Option<Uuid>> {
        self.text(column)?
            .map(|raw| Uuid::try_parse(&raw).map_err(|_| bad(column)))
            .transpose()
    }

    /// A boolean column. By default an integer where anything but 0 is true (SQLite);
    /// PostgreSQL decodes its native `boolean`. NULL (e.g. a sub-select that found no row)
    /// is false either way.
    fn flag(&self, column: &str) -> StoreResult<bool> {
        Ok(self.int(column)?.unwrap_or(0) != 0)
    }
}

fn required<T>(value: Option<T>, column: &str) -> StoreResult<T> {
    value.ok_or_else(|| bad(column))
}

fn parse_time(ms: i64, column: &str) -> StoreResult<Timestamp> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| bad(column))
}

pub(crate) fn get_id(row: &impl Columns, column: &str) -> StoreResult<Uuid> {
    required(row.id(column)?, column)
}

fn get_opt_id(row: &impl Columns, column: &str) -> StoreResult<Option<Uuid>> {
    row.id(column)
}

fn get_time(row: &impl Columns, column: &str) -> StoreResult<Timestamp> {
    parse_time(required(row.int(column)?, column)?, column)
}

fn get_opt_time(row: &impl Columns, column: &str) -> StoreResult<Option<Timestamp>> {
    row.int(column)?
        .map(|ms| parse_time(ms, column))
        .transpose()
}

fn get_str(row: &impl Columns, column: &str) -> StoreResult<String> {
    required(row.text(column)?, column)
}

fn get_opt_str(row: &impl Columns, column: &str) -> StoreResult<Option<String>> {
    row.text(column)
}

fn get_hash(row: &impl Columns, column: &str) -> StoreResult<CredentialHash> {
    let bytes = required(row.blob(column)?, column)?;
    CredentialHash::from_slice(&bytes).ok_or_else(|| bad(column))
}

fn get_role(row: &impl Columns, column: &str) -> StoreResult<Role> {
    Role::parse(&get_str(row, column)?).ok_or_else(|| bad(column))
}

/// Scope lists were validated before they were written, so they are rebuilt as trusted.
fn parse_scopes(raw: &str, column: &str) -> StoreResult<ScopeSet> {
    serde_json::from_str::<Vec<String>>(raw)
        .map(ScopeSet::from_trusted)
        .map_err(|_| bad(column))
}

fn get_scopes(row: &impl Columns, column: &str) -> StoreResult<ScopeSet> {
    parse_scopes(&get_str(row, column)?, column)
}

// ---- rows ------------------------------------------------------------------------------

/// The verification lookup's row: `KEY_COLUMNS` plus the two workspace facts, named
/// `creator_is_member` and `members_can_create_keys`.
pub(crate) fn lookup_from_row(row: &impl Columns) -> StoreResult<KeyLookup> {
    Ok(KeyLookup {
        key: key_from_row(row)?,
        creator_is_member: row.flag("creator_is_member")?,
        members_can_create_keys: row.flag("members_can_create_keys")?,
    })
}

pub(crate) fn user_from_row(row: &impl Columns) -> StoreResult<User> {
    Ok(User {
        id: get_id(row, "id")?,
        email: get_str(row, "email")?,
        name: get_str(row, "name")?,
        password_hash: get_opt_str(row, "password_hash")?.map(PasswordHash::from_phc),
        email_verified_at: get_opt_time(row, "email_verified_at")?,
        created_at: get_time(row, "created_at")?,
    })
}

pub(crate) fn workspace_from_row(row: &impl Columns) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: get_id(row, "id")?,
        name: get_str(row, "name")?,
        plan: get_str(row, "plan")?,
        key_prefix: KeyPrefix::parse(&get_str(row, "key_prefix")?)
            .ok_or_else(|| bad("workspaces.key_prefix"))?,
        key_format: KeyFormat::parse(&get_str(row, "key_format")?)
            .ok_or_else(|| bad("workspaces.key_format"))?,
        members_can_create_keys: row.flag("members_can_create_keys")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

pub(crate) fn membership_from_row(row: &impl Columns) -> StoreResult<Membership> {
    Ok(Membership {
        workspace_id: get_id(row, "workspace_id")?,
        user_id: get_id(row, "user_id")?,
        role: get_role(row, "role")?,
        scopes: get_opt_str(row, "scopes")?
            .map(|raw| parse_scopes(&raw, "memberships.scopes"))
            .transpose()?,
        created_at: get_time(row, "m_created_at")?,
    })
}

/// A membership joined with its user: `MEMBERSHIP_COLUMNS, USER_COLUMNS`.
pub(crate) fn member_from_row(row: &impl Columns) -> StoreResult<Member> {
    Ok(Member {
        membership: membership_from_row(row)?,
        user: user_from_row(row)?,
    })
}

pub(crate) fn key_from_row(row: &impl Columns) -> StoreResult<ApiKey> {
    let metadata: JsonObject =
        serde_json::from_str(&get_str(row, "metadata")?).map_err(|_| bad("api_keys.metadata"))?;
    Ok(ApiKey {
        id: get_id(row, "id")?,
        seq: required(row.int("seq")?, "api_keys.seq")?,
        workspace_id: get_id(row, "workspace_id")?,
        name: get_str(row, "name")?,
        key_prefix: get_str(row, "key_prefix")?,
        hash: get_hash(row, "hash")?,
        source: KeySource::parse(&get_str(row, "source")?).ok_or_else(|| bad("api_keys.source"))?,
        scopes: get_scopes(row, "scopes")?,
        creator_role: get_role(row, "creator_role")?,
        creator_scopes: get_scopes(row, "creator_scopes")?,
        created_by: get_id(row, "created_by")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
        expires_at: get_opt_time(row, "expires_at")?,
        last_used_at: get_opt_time(row, "last_used_at")?,
        revoked_at: get_opt_time(row, "revoked_at")?,
        deleted_at: get_opt_time(row, "deleted_at")?,
        metadata,
        rotated_from: get_opt_id(row, "rotated_from")?,
        rotated_to: get_opt_id(row, "rotated_to")?,
    })
}

pub(crate) fn audit_from_row(row: &impl Columns) -> StoreResult<AuditEvent> {
    let details =
        serde_json::from_str(&get_str(row, "details")?).map_err(|_| bad("audit_events.details"))?;
    Ok(AuditEvent {
        id: get_id(row, "id")?,
        workspace_id: get_id(row, "workspace_id")?,
        at: get_time(row, "at")?,
        actor: AuditActor {
            kind: ActorType::parse(&get_str(row, "actor_type")?)
                .ok_or_else(|| bad("audit_events.actor_type"))?,
            id: get_opt_id(row, "actor_id")?,
        },
        action: get_str(row, "action")?,
        target: AuditTarget {
            kind: get_str(row, "target_type")?,
            id: get_id(row, "target_id")?,
        },
        ip: get_opt_str(row, "ip")?,
        user_agent: get_opt_str(row, "user_agent")?,
        details,
    })
}

pub(crate) fn service_token_from_row(row: &impl Columns) -> StoreResult<ServiceToken> {
    Ok(ServiceToken {
        id: get_id(row, "id")?,
        name: get_str(row, "name")?,
        token_prefix: get_str(row, "token_prefix")?,
        hash: get_hash(row, "hash")?,
        created_at: get_time(row, "created_at")?,
        revoked_at: get_opt_time(row, "revoked_at")?,
        last_used_at: get_opt_time(row, "last_used_at")?,
    })
}

pub(crate) fn session_from_row(row: &impl Columns) -> StoreResult<Session> {
    Ok(Session {
        id: get_id(row, "id")?,
        token_hash: get_hash(row, "token_hash")?,
        csrf_hash: get_hash(row, "csrf_hash")?,
        user_id: get_id(row, "user_id")?,
        created_at: get_time(row, "created_at")?,
        last_seen_at: get_time(row, "last_seen_at")?,
    })
}

pub(crate) fn email_token_from_row(row: &impl Columns) -> StoreResult<EmailToken> {
    Ok(EmailToken {
        id: get_id(row, "id")?,
        user_id: get_id(row, "user_id")?,
        token_hash: get_hash(row, "token_hash")?,
        created_at: get_time(row, "created_at")?,
        expires_at: get_time(row, "expires_at")?,
        used_at: get_opt_time(row, "used_at")?,
    })
}

pub(crate) fn invitation_from_row(row: &impl Columns) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: get_id(row, "id")?,
        workspace_id: get_id(row, "workspace_id")?,
        email: get_str(row, "email")?,
        role: get_role(row, "role")?,
        scopes: get_opt_str(row, "scopes")?
            .map(|raw| parse_scopes(&raw, "invitations.scopes"))
            .transpose()?,
        invited_by: get_id(row, "invited_by")?,
        token_hash: get_hash(row, "token_hash")?,
        created_at: get_time(row, "created_at")?,
        expires_at: get_time(row, "expires_at")?,
        accepted_at: get_opt_time(row, "accepted_at")?,
        withdrawn_at: get_opt_time(row, "withdrawn_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_in_the_needle_match_literally() {
        assert_eq!(like_pattern("ci"), "%ci%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
