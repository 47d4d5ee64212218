//! Ready-made domain values for tests, benchmarks and examples (feature `fixtures`, and
//! this crate's own tests): one place that knows every field of a key, so that adding a
//! field changes one constructor rather than every test that needs a key.

use uuid::Uuid;

use crate::model::{new_id, now, ApiKey, JsonObject, KeySource, Role};
use crate::scope::ScopeSet;
use crate::secret::CredentialHash;

/// A native, full-access key of an owner, made now, that never expires; set the fields a
/// test cares about afterwards.
pub fn api_key(workspace_id: Uuid, created_by: Uuid, hash: CredentialHash) -> ApiKey {
    let t = now();
    ApiKey {
        id: new_id(),
        seq: 0,
        workspace_id,
        name: "k".into(),
        key_prefix: "kw_abcdefgh".into(),
        hash,
        source: KeySource::Native,
        scopes: ScopeSet::full(),
        creator_role: Role::Owner,
        creator_scopes: ScopeSet::full(),
        created_by,
        created_at: t,
        updated_at: t,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
        deleted_at: None,
        metadata: JsonObject::new(),
        rotated_from: None,
        rotated_to: None,
    }
}

/// [`api_key`] with a random hash, in a new workspace, by a new user.
pub fn any_api_key() -> ApiKey {
    api_key(
        new_id(),
        new_id(),
        CredentialHash::from_bytes(rand::random()),
    )
}
