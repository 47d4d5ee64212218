//! Wire types: what the API accepts and returns, with their OpenAPI schemas. Request bodies
//! reject unknown fields, so a typo such as `expires` is an error instead of being ignored.

use chrono::{DateTime, Utc};
use keyward_core::key_format::KeyFormat;
use keyward_core::model::{
    ApiKey, AuditActor, AuditEvent, AuditTarget, Invitation, KeySource, KeyStatus, Member, Role,
    User, Workspace,
};
use keyward_core::scope::ScopeSet;
use keyward_core::service::WhoAmI;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

// Schemas the wire types name in `#[schema(value_type = …)]`.
use super::openapi_fields::{Email, Name, ProductScope, Scope, WorkspaceKeyPrefix};

/// Distinguishes a field set to `null` (`Some(None)`) from a field left out (`None`).
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An optional count, such as seconds. JSON has one number type, and JSON Schema's
/// `integer` is any number without a fractional part, so `800.0` is the integer 800 here
/// too; a fraction or a negative number has the wrong type (`400`). Above 2^53 a float
/// no longer counts exactly, so only integers written as such are taken there.
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(v) = n.as_u64() {
        return Ok(Some(v));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=EXACT).contains(&f) => Ok(Some(f as u64)),
        _ => Err(serde::de::Error::custom("not a whole number")),
    }
}

/// An API key, as every response that carries one shows it. It never holds the secret.
#[derive(Serialize, ToSchema)]
pub struct KeyOut {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    /// The prefix plus the first 8 body characters, e.g. `sk_live_a1B2c3D4`. For an imported
    /// key, at most its first 8 characters (never over a quarter of it), or what the import
    /// gave; possibly empty.
    pub key_prefix: String,
    pub status: KeyStatus,
    /// `native` for keys minted by keyward, `imported` for keys brought from another system
    /// by `keyward admin import-keys`.
    pub source: KeySource,
    /// `full` when scopes is `["*"]`, else `custom`.
    #[schema(example = "full")]
    pub access: &'static str,
    pub scopes: Vec<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub rotated_from: Option<Uuid>,
    /// Set on the old key of a rotation: the id of its successor.
    pub rotated_to: Option<Uuid>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        let now = keyward_core::model::now();
        Self {
            status: k.status(now),
            source: k.source,
            access: if k.scopes.is_full() { "full" } else { "custom" },
            scopes: k.scopes.as_strings(),
            id: k.id,
            workspace_id: k.workspace_id,
            name: k.name,
            key_prefix: k.key_prefix,
            created_by: k.created_by,
            created_at: k.created_at,
            updated_at: k.updated_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            metadata: k.metadata,
            rotated_from: k.rotated_from,
            rotated_to: k.rotated_to,
        }
    }
}

/// The answer to create and rotate: the key, plus its secret, shown this once only.
#[derive(Serialize, ToSchema)]
pub struct CreatedKeyOut {
    #[serde(flatten)]
    pub api_key: KeyOut,
    /// The secret. It cannot be retrieved again.
    pub key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyIn {
    #[schema(value_type = Name)]
    pub name: String,
    /// RFC 3339, in the future; omit for a key that never expires.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Defaults to what the caller holds: `["*"]` for owners and admins.
    #[schema(value_type = Option<Vec<Scope>>, min_items = 1)]
    pub scopes: Option<Vec<String>>,
    /// A JSON object of at most 4 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyIn {
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<Scope>>, min_items = 1)]
    pub scopes: Option<Vec<String>>,
    /// RFC 3339, in the future; `null` removes the expiry.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RevokeIn {
    #[schema(value_type = Option<Name>)]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateIn {
    /// 0 (the default) revokes the old key at once; otherwise it expires after this long,
    /// at most 7 days.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 604800)]
    pub grace_period_seconds: Option<u64>,
    /// The new key's expiry, RFC 3339, in the future; by default it gets the old key's
    /// lifetime, counted from now.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct KeyListQuery {
    /// `active`, `revoked` or `expired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Name contains (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// 1–200, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceOut {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub key_prefix: String,
    /// The shape of new keys: `base62` or `hex64`.
    pub key_format: KeyFormat,
    pub members_can_create_keys: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The caller's role in this workspace, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

impl WorkspaceOut {
    pub fn new(w: Workspace, role: Option<Role>) -> Self {
        Self {
            id: w.id,
            name: w.name,
            plan: w.plan,
            key_prefix: w.key_prefix.as_str().to_owned(),
            key_format: w.key_format,
            members_can_create_keys: w.members_can_create_keys,
            created_at: w.created_at,
            updated_at: w.updated_at,
            role,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceIn {
    #[schema(value_type = Name)]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceIn {
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// The prefix of new keys; keys already issued keep theirs.
    #[schema(value_type = Option<WorkspaceKeyPrefix>)]
    pub key_prefix: Option<String>,
    /// The shape of new keys: `base62` (the default) or `hex64`, 64 lower-case hex
    /// characters after the prefix. Keys already issued keep theirs.
    #[schema(value_type = Option<KeyFormat>)]
    pub key_format: Option<String>,
    pub members_can_create_keys: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The product scopes a member is narrowed to; `null` means all of them.
    pub scopes: Option<Vec<String>>,
    pub email_verified: bool,
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberOut {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user.id,
            email: m.user.email,
            name: m.user.name,
            role: m.membership.role,
            scopes: m.membership.scopes.map(|s| s.as_strings()),
            email_verified: m.user.email_verified_at.is_some(),
            joined_at: m.membership.created_at,
        }
    }
}

/// A pending invitation: the emailed offer to join, for an address with no account yet.
#[derive(Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub email: String,
    pub role: Role,
    /// The product scopes the member will be narrowed to; `null` means all of them.
    pub scopes: Option<Vec<String>>,
    /// The user who sent it (or whose key did).
    pub invited_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Seven days after it was sent.
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationOut {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            workspace_id: i.workspace_id,
            email: i.email,
            role: i.role,
            scopes: i.scopes.map(|s| s.as_strings()),
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberIn {
    #[schema(value_type = Email)]
    pub email: String,
    #[schema(value_type = Role)]
    pub role: String,
    /// The product scopes to narrow the member to; by default, all of them.
    #[schema(value_type = Option<Vec<ProductScope>>, min_items = 1)]
    pub scopes: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberIn {
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    /// `null` gives the member every product scope again.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<ProductScope>>, min_items = 1)]
    pub scopes: Option<Option<Vec<String>>>,
}

/// The query of an endpoint that takes none: a parameter sent anyway is refused rather than
/// silently ignored (e.g. the retired `revoke_keys`: removal always revokes now).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

#[derive(Serialize, ToSchema)]
pub struct AuditEventOut {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    #[schema(schema_with = crate::http::openapi::audit_action)]
    pub action: String,
    pub target: AuditTarget,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            workspace_id: e.workspace_id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            ip: e.ip,
            user_agent: e.user_agent,
            details: e.details,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditQueryIn {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            email_verified: u.email_verified_at.is_some(),
            email_verified_at: u.email_verified_at,
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuthInfo {
    /// `session` or `api_key`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CurrentOut {
    pub user: UserOut,
    pub workspace: Option<WorkspaceOut>,
    pub role: Option<Role>,
    pub auth: AuthInfo,
}

impl From<WhoAmI> for CurrentOut {
    fn from(w: WhoAmI) -> Self {
        let auth = AuthInfo {
            kind: if w.key.is_some() {
                "api_key"
            } else {
                "session"
            },
            key_id: w.key.as_ref().map(|k| k.id),
            key_prefix: w.key.as_ref().map(|k| k.key_prefix.clone()),
            scopes: w.scopes.as_strings(),
        };
        Self {
            user: w.user.into(),
            workspace: w.workspace.map(|ws| WorkspaceOut::new(ws, w.role)),
            role: w.role,
            auth,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ScopeOut {
    pub name: String,
    /// `product` (from the operator's config) or `management` (keyward's own).
    pub kind: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    pub key: String,
    /// When given, the key must hold every one of these.
    pub scopes: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct VerifiedKey {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl VerifiedKey {
    /// `scopes` is what the key holds now (`Verdict::scopes`), not its stored list.
    pub fn new(k: &ApiKey, scopes: ScopeSet) -> Self {
        Self {
            scopes: scopes.as_strings(),
            id: k.id,
            workspace_id: k.workspace_id,
            name: k.name.clone(),
            key_prefix: k.key_prefix.clone(),
            expires_at: k.expires_at,
            created_by: k.created_by,
            metadata: k.metadata.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct VerifyOut {
    pub valid: bool,
    pub code: keyward_core::verify::VerifyCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<VerifiedKey>,
    /// With `INSUFFICIENT_SCOPE` only: the requested scopes the key does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_scopes: Option<Vec<String>>,
}
