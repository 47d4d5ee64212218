//! The entities of PRODUCT.md §1: users, workspaces, memberships, keys, service tokens,
//! sessions and audit events, plus the derived key status.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::key_format::{KeyFormat, KeyPrefix};
use crate::scope::{held_grants, Catalog, ScopeSet, MEMBER_BASE_SCOPES};
use crate::secret::{CredentialHash, PasswordHash};

pub type Timestamp = DateTime<Utc>;
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// A new time-ordered id: UUID v7 sorts by creation time, which pagination relies on.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The current time, truncated to milliseconds so it survives a round trip through storage.
pub fn now() -> Timestamp {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: Option<PasswordHash>,
    pub email_verified_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub key_prefix: KeyPrefix,
    /// The shape of new keys; keys already issued keep theirs.
    pub key_format: KeyFormat,
    pub members_can_create_keys: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
/// Declared from most to least powerful, so `a < b` means `a` outranks `b`.
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// What a member holds only through its workspace's `members_can_create_keys` (PRODUCT.md §3).
/// A member's product scopes cannot grant it (the catalog keeps them out of keyward's
/// management families) and a member never holds `*`, so the setting alone decides it.
pub const POLICY_SCOPE: &str = "api_keys:write";

#[derive(Debug, Clone)]
pub struct Membership {
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    /// Product scopes a member is narrowed to; `None` means every product scope, now and later.
    pub scopes: Option<ScopeSet>,
    pub created_at: Timestamp,
}

impl Membership {
    /// The scopes this membership holds (PRODUCT.md §3, "Roles").
    pub fn holds(&self, catalog: &Catalog, members_can_create_keys: bool) -> ScopeSet {
        match self.role {
            Role::Owner | Role::Admin => ScopeSet::full(),
            Role::Member => {
                let mut held: Vec<String> =
                    MEMBER_BASE_SCOPES.iter().map(|s| (*s).to_owned()).collect();
                match &self.scopes {
                    Some(narrowed) => held.extend(narrowed.as_strings()),
                    None => held.extend(catalog.product_scopes().iter().cloned()),
                }
                if members_can_create_keys {
                    held.push(POLICY_SCOPE.to_owned());
                }
                ScopeSet::from_trusted(held)
            }
        }
    }
}

/// A member row joined with its user, for listings.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership: Membership,
    pub user: User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
}

impl KeyStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "revoked" => Some(Self::Revoked),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// Where a key came from (PRODUCT.md §2, "Imported keys"). A native key was minted here and
/// is stored as `HMAC(pepper, secret)`; an imported one kept the secret another system issued,
/// and is stored as `HMAC(pepper, SHA-256(secret))`, looked up only when a presented string is
/// not a keyward key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    Native,
    Imported,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Native => "native",
            KeySource::Imported => "imported",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "native" => Some(Self::Native),
            "imported" => Some(Self::Imported),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: Uuid,
    /// A per-instance sequence number, for wire profiles whose ids are numbers. The store
    /// assigns it on insert (`0` until then); it never changes and is never reused.
    pub seq: i64,
    pub workspace_id: Uuid,
    pub name: String,
    /// Display form: the prefix plus the first 8 body characters; for an imported key, what
    /// the import could show without giving the secret away (possibly nothing).
    pub key_prefix: String,
    /// What the secret is looked up by; which hash it is depends on `source`.
    pub hash: CredentialHash,
    pub source: KeySource,
    pub scopes: ScopeSet,
    /// The creator's role and scopes when the key was made; the key never exceeds them.
    pub creator_role: Role,
    pub creator_scopes: ScopeSet,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub metadata: JsonObject,
    pub rotated_from: Option<Uuid>,
    /// Set on the old key of a rotation: its successor. While it is set and the key is not
    /// revoked or expired, the key is in its grace period.
    pub rotated_to: Option<Uuid>,
}

impl ApiKey {
    /// Derived in the documented order: revoked, then expired, then active.
    pub fn status(&self, now: Timestamp) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    /// Whether the key grants `required` now: its own scopes, intersected with its creator's
    /// snapshot, under the workspace policy of today. The same answer as
    /// `effective_scopes(..).grants(required)`, without building the set: this runs on every
    /// verification.
    pub fn grants(&self, required: &str, members_can_create_keys: bool) -> bool {
        !(self.policy_lapsed(members_can_create_keys) && held_grants(POLICY_SCOPE, required))
            && self.scopes.grants(required)
            && self.creator_scopes.grants(required)
    }

    /// What the key holds now: the exact intersection of its own scopes with its creator's
    /// snapshot, so a family scope narrows to what the snapshot held instead of vanishing;
    /// less `api_keys:write` when its creator was a member and the workspace policy that gave
    /// it is off today, whenever the key was made.
    pub fn effective_scopes(&self, members_can_create_keys: bool) -> ScopeSet {
        let held = self.scopes.intersect(&self.creator_scopes);
        if self.policy_lapsed(members_can_create_keys) {
            held.without(POLICY_SCOPE)
        } else {
            held
        }
    }

    fn policy_lapsed(&self, members_can_create_keys: bool) -> bool {
        self.creator_role == Role::Member && !members_can_create_keys
    }
}

#[derive(Debug, Clone)]
pub struct ServiceToken {
    pub id: Uuid,
    /// Unique among the instance's tokens, revoked ones included.
    pub name: String,
    pub token_prefix: String,
    pub hash: CredentialHash,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The last verify call made with it, written in batches like keys' `last_used_at`.
    pub last_used_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub token_hash: CredentialHash,
    pub csrf_hash: CredentialHash,
    pub user_id: Uuid,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// An emailed link that proves a user owns their address (PRODUCT.md §4, `/auth/verify-email`).
#[derive(Debug, Clone)]
pub struct EmailToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: CredentialHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// An emailed offer to join a workspace, for an address that has no account yet.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// Lower-cased, like users' emails.
    pub email: String,
    pub role: Role,
    /// As [`Membership::scopes`]: `None` is every product scope.
    pub scopes: Option<ScopeSet>,
    pub invited_by: Uuid,
    pub token_hash: CredentialHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub withdrawn_at: Option<Timestamp>,
}

impl Invitation {
    /// Neither used, withdrawn nor expired: the link still works.
    pub fn is_pending(&self, now: Timestamp) -> bool {
        self.accepted_at.is_none() && self.withdrawn_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    ApiKey,
    Service,
    System,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::ApiKey => "api_key",
            ActorType::Service => "service",
            ActorType::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Self::User),
            "api_key" => Some(Self::ApiKey),
            "service" => Some(Self::Service),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditActor {
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}

/// An append-only record of one change. It never holds a secret: details carry names,
/// display prefixes and scopes only.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub at: Timestamp,
    pub actor: AuditActor,
    pub action: String,
    pub target: AuditTarget,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scopes: ScopeSet, creator_scopes: ScopeSet) -> ApiKey {
        ApiKey {
            scopes,
            creator_role: Role::Member,
            creator_scopes,
            ..crate::fixtures::any_api_key()
        }
    }

    #[test]
    fn status_is_revoked_before_expired_before_active() {
        let t = now();
        let mut k = key(ScopeSet::full(), ScopeSet::full());
        assert_eq!(k.status(t), KeyStatus::Active);
        k.expires_at = Some(t);
        assert_eq!(
            k.status(t),
            KeyStatus::Expired,
            "expires_at <= now is expired"
        );
        k.revoked_at = Some(t);
        assert_eq!(k.status(t), KeyStatus::Revoked);
    }

    #[test]
    fn a_key_acts_with_its_scopes_intersected_with_its_creators_snapshot() {
        let k = key(ScopeSet::full(), ScopeSet::from_trusted(["apps:read"]));
        assert!(k.grants("apps:read", false));
        assert!(!k.grants("apps:deploy", false));
        assert_eq!(
            k.effective_scopes(false),
            ScopeSet::from_trusted(["apps:read"])
        );
        let k = key(
            ScopeSet::from_trusted(["apps:read", "billing:read"]),
            ScopeSet::from_trusted(["apps"]),
        );
        assert_eq!(
            k.effective_scopes(false),
            ScopeSet::from_trusted(["apps:read"])
        );
        let family = key(
            ScopeSet::from_trusted(["apps"]),
            ScopeSet::from_trusted(["apps:read", "apps:deploy"]),
        );
        assert_eq!(
            family.effective_scopes(false),
            ScopeSet::from_trusted(["apps:deploy", "apps:read"]),
            "a family scope narrows to the snapshot instead of vanishing"
        );
    }

    #[test]
    fn a_member_made_key_holds_api_keys_write_only_while_the_workspace_policy_is_on() {
        let snapshot = ScopeSet::from_trusted(["api_keys:read", "api_keys:write", "apps:read"]);
        let mut k = key(ScopeSet::full(), snapshot.clone());
        for (on, writes) in [(true, true), (false, false)] {
            assert_eq!(k.grants("api_keys:write", on), writes, "policy {on}");
            assert_eq!(
                k.effective_scopes(on).grants("api_keys:write"),
                writes,
                "policy {on}"
            );
            assert!(k.grants("api_keys:read", on) && k.grants("apps:read", on));
        }
        k.creator_role = Role::Admin;
        k.creator_scopes = ScopeSet::full();
        assert!(
            k.grants("api_keys:write", false),
            "an admin's key holds it through its role, not the policy"
        );
    }

    #[test]
    fn members_hold_read_scopes_plus_product_scopes_and_write_only_when_allowed() {
        let catalog = Catalog::new(vec!["apps:read".into(), "apps:deploy".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        let m = Membership {
            workspace_id: new_id(),
            user_id: new_id(),
            role: Role::Member,
            scopes: None,
            created_at: now(),
        };
        let held = m.holds(&catalog, false);
        for s in [
            "api_keys:read",
            "members:read",
            "workspace:read",
            "audit:read",
            "apps:read",
            "apps:deploy",
        ] {
            assert!(held.grants(s), "{s}");
        }
        assert!(!held.grants("api_keys:write"));
        assert!(m.holds(&catalog, true).grants("api_keys:write"));
        let narrowed = Membership {
            scopes: Some(ScopeSet::from_trusted(["apps:read"])),
            ..m.clone()
        };
        assert!(!narrowed.holds(&catalog, false).grants("apps:deploy"));
        let owner = Membership {
            role: Role::Owner,
            ..m
        };
        assert!(owner.holds(&catalog, false).is_full());
    }
}
