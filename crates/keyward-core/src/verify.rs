//! The verification hot path, top to bottom in one place:
//! parse → checksum → HMAC → store → status, expiry and scopes → record use.
//!
//! It serves `POST /api/v1/keys/verify` and the Bearer authentication of the management API.
//! Every step before the store lookup is pure CPU: a malformed string or a failed checksum
//! never reaches the database. The lookup is by the peppered hash, through a unique index.

use std::sync::Arc;

use crate::error::Result;
use crate::key_format;
use crate::model::{now, ApiKey, KeyStatus};
use crate::scope::ScopeSet;
use crate::secret::Pepper;
use crate::store::Store;
use crate::usage::UsageLog;

/// The answer codes of PRODUCT.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    Valid,
    Malformed,
    NotFound,
    Revoked,
    Expired,
    InsufficientScope,
}

impl VerifyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyCode::Valid => "VALID",
            VerifyCode::Malformed => "MALFORMED",
            VerifyCode::NotFound => "NOT_FOUND",
            VerifyCode::Revoked => "REVOKED",
            VerifyCode::Expired => "EXPIRED",
            VerifyCode::InsufficientScope => "INSUFFICIENT_SCOPE",
        }
    }
}

/// The outcome; only `Valid` and `InsufficientScope` carry the key, and only
/// `InsufficientScope` has `missing_scopes`.
#[derive(Debug)]
pub struct Verdict {
    pub code: VerifyCode,
    pub key: Option<ApiKey>,
    /// The required scopes the key does not hold, in the order they were asked for.
    pub missing_scopes: Vec<String>,
    /// The workspace policy the key was judged under, for [`Verdict::scopes`].
    members_can_create_keys: bool,
}

impl Verdict {
    fn refused(code: VerifyCode) -> Self {
        Self {
            code,
            key: None,
            missing_scopes: Vec::new(),
            members_can_create_keys: false,
        }
    }

    /// What the key holds now, for the answers that show the key. Built only on request:
    /// Bearer authentication needs the verdict, not the set.
    pub fn scopes(&self) -> Option<ScopeSet> {
        self.key
            .as_ref()
            .map(|k| k.effective_scopes(self.members_can_create_keys))
    }
}

#[derive(Clone)]
pub struct Verifier {
    store: Arc<dyn Store>,
    pepper: Pepper,
    usage: Arc<UsageLog>,
}

impl Verifier {
    pub fn new(store: Arc<dyn Store>, pepper: Pepper, usage: Arc<UsageLog>) -> Self {
        Self {
            store,
            pepper,
            usage,
        }
    }

    /// Verifies a presented key, and that it holds every scope in `required`.
    /// Errors are store failures only; every answer about the key is a [`Verdict`].
    pub async fn verify(&self, presented: &str, required: &[String]) -> Result<Verdict> {
        // 1–2. Shape and checksum, without allocating or touching the store.
        if key_format::parse(presented).is_err() {
            return Ok(Verdict::refused(VerifyCode::Malformed));
        }

        // 3. The peppered hash is both the lookup key and the stored value.
        let hash = self.pepper.hash(presented);

        // 4. One indexed lookup. Deleted keys answer exactly like keys that never existed;
        //    the constant-time recheck keeps the decision independent of the index compare.
        let found = match self.store.key_by_hash(&hash).await? {
            Some(found) if found.key.deleted_at.is_none() && found.key.hash.ct_eq(&hash) => found,
            _ => return Ok(Verdict::refused(VerifyCode::NotFound)),
        };
        let (key, policy) = (found.key, found.members_can_create_keys);

        // 5. Status, in the documented order, then scopes under today's workspace policy.
        //    A key acts only while its creator is a member: removal revokes the creator's keys
        //    in its own transaction, and this answers the same for any key that escaped it.
        let now = now();
        match key.status(now) {
            KeyStatus::Revoked => return Ok(Verdict::refused(VerifyCode::Revoked)),
            _ if !found.creator_is_member => return Ok(Verdict::refused(VerifyCode::Revoked)),
            KeyStatus::Expired => return Ok(Verdict::refused(VerifyCode::Expired)),
            KeyStatus::Active => {}
        }
        // Collecting into a Vec allocates only when something is missing.
        let missing_scopes: Vec<String> = required
            .iter()
            .filter(|scope| !key.grants(scope, policy))
            .cloned()
            .collect();
        let code = if missing_scopes.is_empty() {
            VerifyCode::Valid
        } else {
            VerifyCode::InsufficientScope
        };

        // 6. Record the use in memory; the flusher writes it in batches, off this path.
        self.usage.record(key.id, now);
        Ok(Verdict {
            code,
            key: Some(key),
            missing_scopes,
            members_can_create_keys: policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use uuid::Uuid;

    use super::*;
    use crate::model::{
        AuditEvent, Member, Membership, Role, ServiceToken, Session, Timestamp, User, Workspace,
    };
    use crate::secret::CredentialHash;
    use crate::store::{AuditQuery, Cursor, KeyLookup, KeyQuery, StoreError, StoreResult, StoreTx};

    /// A store that only counts lookups and knows at most one key: anything else is an error.
    #[derive(Default)]
    struct CountingStore {
        lookups: AtomicUsize,
        known: Option<KeyLookup>,
    }

    fn nothing<T>() -> StoreResult<T> {
        Err(StoreError::Other("not used by the verifier".into()))
    }

    #[async_trait]
    impl Store for CountingStore {
        async fn migrate(&self) -> StoreResult<()> {
            nothing()
        }
        async fn ping(&self) -> StoreResult<()> {
            nothing()
        }
        async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
            nothing()
        }
        async fn count_users(&self) -> StoreResult<u64> {
            nothing()
        }
        async fn user_by_id(&self, _: Uuid) -> StoreResult<Option<User>> {
            nothing()
        }
        async fn user_by_email(&self, _: &str) -> StoreResult<Option<User>> {
            nothing()
        }
        async fn list_users(&self, _: Option<Cursor>, _: u32) -> StoreResult<Vec<User>> {
            nothing()
        }
        async fn workspace(&self, _: Uuid) -> StoreResult<Option<Workspace>> {
            nothing()
        }
        async fn list_workspaces(&self, _: Option<Cursor>, _: u32) -> StoreResult<Vec<Workspace>> {
            nothing()
        }
        async fn workspaces_of_user(&self, _: Uuid) -> StoreResult<Vec<(Workspace, Role)>> {
            nothing()
        }
        async fn membership(&self, _: Uuid, _: Uuid) -> StoreResult<Option<Membership>> {
            nothing()
        }
        async fn members(&self, _: Uuid) -> StoreResult<Vec<Member>> {
            nothing()
        }
        async fn key_by_hash(&self, hash: &CredentialHash) -> StoreResult<Option<KeyLookup>> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(self.known.clone().filter(|k| k.key.hash.ct_eq(hash)))
        }
        async fn key(&self, _: Uuid, _: Uuid) -> StoreResult<Option<ApiKey>> {
            nothing()
        }
        async fn key_by_id(&self, _: Uuid) -> StoreResult<Option<ApiKey>> {
            nothing()
        }
        async fn list_keys(&self, _: Uuid, _: &KeyQuery) -> StoreResult<Vec<ApiKey>> {
            nothing()
        }
        async fn record_key_use(&self, _: &[(Uuid, Timestamp)]) -> StoreResult<()> {
            nothing()
        }
        async fn list_audit(&self, _: Uuid, _: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
            nothing()
        }
        async fn service_token_by_hash(
            &self,
            _: &CredentialHash,
        ) -> StoreResult<Option<ServiceToken>> {
            nothing()
        }
        async fn session_by_hash(&self, _: &CredentialHash) -> StoreResult<Option<Session>> {
            nothing()
        }
        async fn touch_session(&self, _: Uuid, _: Timestamp) -> StoreResult<()> {
            nothing()
        }
        async fn email_token_by_hash(
            &self,
            _: &CredentialHash,
        ) -> StoreResult<Option<crate::model::EmailToken>> {
            nothing()
        }
        async fn invitation_by_hash(
            &self,
            _: &CredentialHash,
        ) -> StoreResult<Option<crate::model::Invitation>> {
            nothing()
        }
        async fn pending_invitations(
            &self,
            _: Uuid,
            _: Timestamp,
        ) -> StoreResult<Vec<crate::model::Invitation>> {
            nothing()
        }
        async fn service_tokens(&self) -> StoreResult<Vec<ServiceToken>> {
            nothing()
        }
        async fn record_service_token_use(&self, _: &[(Uuid, Timestamp)]) -> StoreResult<()> {
            nothing()
        }
        async fn pepper_fingerprint(&self) -> StoreResult<Option<CredentialHash>> {
            nothing()
        }
    }

    #[tokio::test]
    async fn a_failing_checksum_or_shape_is_malformed_without_touching_the_store() {
        let store = Arc::new(CountingStore::default());
        let verifier = Verifier::new(
            store.clone(),
            Pepper::new(b"test pepper bytes".to_vec()),
            Arc::default(),
        );
        let prefix = key_format::KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
        let good = key_format::generate(&prefix)
            .secret
            .expose_secret()
            .to_owned();
        let mut typo = good.clone();
        let last = typo.pop().unwrap_or('a');
        typo.push(if last == 'a' { 'b' } else { 'a' });
        for presented in [typo.as_str(), "kw_short", "", "not a key at all"] {
            let verdict = verifier
                .verify(presented, &[])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(verdict.code, VerifyCode::Malformed, "{presented}");
        }
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            0,
            "malformed strings reached the store"
        );

        let verdict = verifier
            .verify(&good, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verdict.code, VerifyCode::NotFound);
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            1,
            "a well-formed key is looked up once"
        );
    }

    /// A member-made key with `api_keys:write` in its snapshot, as the store finds it.
    fn member_key(
        pepper: &Pepper,
        secret: &str,
        creator_is_member: bool,
        policy: bool,
    ) -> KeyLookup {
        let t = now();
        let snapshot = crate::scope::ScopeSet::from_trusted(["api_keys:write", "apps:read"]);
        KeyLookup {
            key: ApiKey {
                id: Uuid::now_v7(),
                workspace_id: Uuid::now_v7(),
                name: "k".into(),
                key_prefix: "kw_abcdefgh".into(),
                hash: pepper.hash(secret),
                scopes: snapshot.clone(),
                creator_role: Role::Member,
                creator_scopes: snapshot,
                created_by: Uuid::now_v7(),
                created_at: t,
                updated_at: t,
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
                deleted_at: None,
                metadata: Default::default(),
                rotated_from: None,
                rotated_to: None,
            },
            creator_is_member,
            members_can_create_keys: policy,
        }
    }

    #[tokio::test]
    async fn a_key_acts_only_while_its_creator_is_a_member_and_under_todays_policy() {
        let pepper = Pepper::new(b"test pepper bytes".to_vec());
        let prefix = key_format::KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
        let secret = key_format::generate(&prefix)
            .secret
            .expose_secret()
            .to_owned();
        let write = vec!["api_keys:write".to_owned()];
        let verdict = |creator_is_member, policy| {
            let store = Arc::new(CountingStore {
                known: Some(member_key(&pepper, &secret, creator_is_member, policy)),
                ..CountingStore::default()
            });
            let verifier = Verifier::new(store, pepper.clone(), Arc::default());
            let (secret, required) = (secret.clone(), write.clone());
            async move {
                verifier
                    .verify(&secret, &required)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        assert_eq!(verdict(true, true).await.code, VerifyCode::Valid);
        assert_eq!(
            verdict(false, true).await.code,
            VerifyCode::Revoked,
            "the creator has left the workspace"
        );
        let lapsed = verdict(true, false).await;
        assert_eq!(lapsed.code, VerifyCode::InsufficientScope);
        assert_eq!(lapsed.missing_scopes, write);
        assert_eq!(
            lapsed.scopes().map(|s| s.as_strings()),
            Some(vec!["apps:read".to_owned()]),
            "the policy narrows what verify reports too"
        );
    }
}
