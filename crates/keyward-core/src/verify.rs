//! The verification hot path, top to bottom in one place:
//! parse → checksum → HMAC → cache → store on a miss → status, expiry and scopes → record use.
//!
//! It serves `POST /api/v1/keys/verify` and the Bearer authentication of the management API.
//! Every step before the lookup is pure CPU: a malformed string or a failed checksum never
//! reaches the cache or the database. The lookup is by the peppered hash: in the cache
//! (`cache.rs`), and on a miss through the store's unique index. A write reaches the writing
//! node's cache before it is acknowledged (`forget_written`), and other nodes' through the
//! store's change feed: the key-change log (`catch_up`) or pushed events (`apply_change`).
//!
//! Imported keys (PRODUCT.md §2) are the one exception: a string that is not a keyward key
//! may be an old system's key, looked up by its SHA-256, but only while at least one
//! imported key exists. With no imports, the rule above holds without exception.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{CachePolicy, Cached, Found, KeyCache};
use crate::error::Result;
use crate::imported;
use crate::key_format;
use crate::model::{now, ApiKey, KeySource, KeyStatus};
use crate::scope::ScopeSet;
use crate::secret::{CredentialHash, Pepper, Sha256Digest};
use crate::store::{ChangeEvent, Store, StoreError, Written};
use crate::usage::UsageLog;

/// How often a server asks the store whether imported keys exist.
///
/// Why a flag refreshed by polling: the verifier must know, without a query, whether a
/// string that is not a keyward key is worth looking up, and imports are written by another
/// process (`keyward admin import-keys` opens the database itself), which SQLite cannot
/// announce to the server. An index probe every 10 s costs nothing measurable; reading the
/// flag costs one atomic load per request. The price is that an import's keys start to
/// verify up to 10 s after it commits, once per instance (the flag never goes back, because
/// deleted keys keep their rows), which an operator migrating keys can live with. A query
/// per malformed string instead would break the rule that garbage never reaches the store.
pub const IMPORTS_REFRESH: Duration = Duration::from_secs(10);

/// How often a server reads the store's key-change log for writes made by other processes
/// (the admin CLI, other nodes on one database), and applies them to its cache.
pub const CHANGES_POLL: Duration = Duration::from_millis(100);

/// How long a command run in another process waits after a write that takes power away
/// (a revocation, a plan change) before it reports it done: long enough for every server on
/// the database to have read it, so that "revoked" on the operator's screen means the very
/// next request with that credential fails.
pub const CHANGES_SETTLE: Duration = Duration::from_millis(250);

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
    /// Shared with the cache: a hit clones a reference, not the key.
    pub key: Option<Arc<ApiKey>>,
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
    /// Whether any imported key exists; see [`IMPORTS_REFRESH`]. False until the first
    /// refresh: a server loads it before it listens.
    imports_exist: Arc<AtomicBool>,
    cache: Arc<KeyCache>,
    /// The newest key-change log entry this node has applied to its cache.
    seen_change: Arc<AtomicI64>,
}

/// How many key-change log entries one read applies at most.
const CHANGES_PER_READ: u32 = 1000;

impl Verifier {
    pub fn new(
        store: Arc<dyn Store>,
        pepper: Pepper,
        usage: Arc<UsageLog>,
        cache: CachePolicy,
    ) -> Self {
        Self {
            store,
            pepper,
            usage,
            imports_exist: Arc::default(),
            cache: Arc::new(KeyCache::new(cache)),
            seen_change: Arc::default(),
        }
    }

    pub fn cache(&self) -> &KeyCache {
        &self.cache
    }

    /// Starts following the key-change log from its newest entry: what came before is
    /// already in the database this node reads on a miss. A server whose store's change feed
    /// is the log calls it before it listens, then polls [`Verifier::catch_up_or_flush`].
    pub async fn follow_changes(&self) -> Result<()> {
        let latest = self.store.latest_key_change().await?;
        self.seen_change.fetch_max(latest, Ordering::AcqRel);
        Ok(())
    }

    /// Applies every key-change log entry this node has not seen to its cache: each written
    /// key is forgotten, and an entry without a hash forgets everything. A gap before the
    /// first unseen entry means entries were pruned before this node read them, so it
    /// forgets everything too. Changes made by other processes (the admin CLI, other nodes
    /// over one database) reach the cache this way, by the server's poll.
    pub async fn catch_up(&self) -> Result<()> {
        loop {
            let after = self.seen_change.load(Ordering::Acquire);
            let changes = self
                .store
                .key_changes_since(after, CHANGES_PER_READ)
                .await?;
            let Some(last) = changes.last().map(|c| c.id) else {
                return Ok(());
            };
            if after > 0 && changes.first().is_some_and(|c| c.id > after + 1) {
                self.cache.forget_all();
            }
            for change in &changes {
                match &change.hash {
                    Some(hash) => self.cache.forget(hash),
                    None => self.cache.forget_all(),
                }
            }
            self.seen_change.fetch_max(last, Ordering::AcqRel);
            if changes.len() < CHANGES_PER_READ as usize {
                return Ok(());
            }
        }
    }

    /// [`Verifier::catch_up`] on the server's poll, where a failure to read the log must not
    /// stop the poll: forgetting everything is always safe.
    pub async fn catch_up_or_flush(&self) {
        if let Err(e) = self.catch_up().await {
            tracing::warn!(error = %e, "cannot read the key-change log; flushing the verification cache");
            self.cache.forget_all();
        }
    }

    /// The service token with this hash: from the cache, or from the store on a miss. Only
    /// a token that may call the verify API (not revoked) is cached.
    pub async fn service_token(
        &self,
        hash: &CredentialHash,
    ) -> Result<Option<Arc<crate::model::ServiceToken>>> {
        if let Some(token) = self.cache.token(hash) {
            return Ok(Some(token));
        }
        let epoch = self.cache.epoch();
        let found = match self.store.service_token_by_hash(hash).await {
            Ok(found) => found.map(Arc::new),
            Err(e @ StoreError::Unavailable(_)) => {
                return match self.cache.stale_token(hash) {
                    Some(token) => Ok(Some(token)),
                    None => Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(token) = found.as_ref().filter(|t| t.revoked_at.is_none()) {
            self.cache.put_token(epoch, token.clone());
        }
        Ok(found)
    }

    /// The cache, then the store on a miss, for one hash.
    async fn lookup(&self, hash: &CredentialHash) -> Result<Option<Found>> {
        match self.cache.get(hash) {
            Cached::Found(found) => return Ok(Some(found)),
            Cached::Missing => return Ok(None),
            Cached::Unknown => {}
        }
        let epoch = self.cache.epoch();
        let lookup = match self.store.key_by_hash(hash).await {
            Ok(lookup) => lookup,
            // The database cannot be asked: a key this node knew answers for the grace;
            // anything else fails closed.
            Err(e @ StoreError::Unavailable(_)) => {
                return match self.cache.stale(hash) {
                    Some(found) => Ok(Some(found)),
                    None => Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match self.cache.put(epoch, *hash, lookup) {
            Cached::Found(found) => Some(found),
            _ => None,
        })
    }

    /// Applies what a transaction this node committed wrote, before it is acknowledged.
    pub fn forget_written(&self, written: &Written) {
        if written.everything {
            self.cache.forget_all();
            return;
        }
        for hash in &written.hashes {
            self.cache.forget(hash);
        }
    }

    /// Applies one event of a pushed change feed ([`crate::store::ChangeFeed::Push`]).
    pub fn apply_change(&self, event: &ChangeEvent) {
        match event {
            ChangeEvent::Changed(Some(hash)) => self.cache.forget(hash),
            ChangeEvent::Changed(None) => self.cache.forget_all(),
            // Writes may be missed while the feed is down, and were missed before it
            // listened again: everything is asked of the store again, both times.
            ChangeEvent::Lost(_) | ChangeEvent::Listening => self.cache.mark_all_stale(),
        }
    }

    /// Asks the store whether imported keys exist and remembers the answer; returns it.
    pub async fn refresh_imports(&self) -> Result<bool> {
        let exist = self.store.imported_keys_exist().await?;
        // Relaxed is enough: the flag guards no other memory, and a verification that reads
        // a stale value only answers as it would have a moment earlier.
        self.imports_exist.store(exist, Ordering::Relaxed);
        Ok(exist)
    }

    /// Whether a string that is not a keyward key is worth a lookup among imported keys: only
    /// while imports exist, and only if an import could have made it.
    fn may_be_imported(&self, presented: &str) -> bool {
        self.imports_exist.load(Ordering::Relaxed) && imported::could_be_imported(presented)
    }

    /// Verifies a presented key, and that it holds every scope in `required`.
    /// Errors are store failures only; every answer about the key is a [`Verdict`].
    pub async fn verify(&self, presented: &str, required: &[String]) -> Result<Verdict> {
        // 1–3. Shape and checksum, without allocating or touching the store, then the
        //      peppered hash, which is both the lookup key and the stored value. A string
        //      that fails them is MALFORMED, unless imports exist and it could be an imported
        //      key: then it is looked up by its SHA-256 instead.
        let (source, hash) = match key_format::parse(presented) {
            Ok(_) => (KeySource::Native, self.pepper.hash(presented)),
            Err(_) if self.may_be_imported(presented) => (
                KeySource::Imported,
                self.pepper.hash_imported(&Sha256Digest::of(presented)),
            ),
            Err(_) => return Ok(Verdict::refused(VerifyCode::Malformed)),
        };

        // 4. The cache, or on a miss one indexed lookup. Deleted keys answer exactly like
        //    keys that never existed; the constant-time recheck keeps the decision independent
        //    of the index compare.
        let found = match self.lookup(&hash).await? {
            Some(found)
                if found.key.deleted_at.is_none()
                    && found.key.source == source
                    && found.key.hash.ct_eq(&hash) =>
            {
                found
            }
            // A string that is not a keyward key and matches no import stays MALFORMED, so
            // the answer to a typo does not depend on whether the instance has imports.
            _ if source == KeySource::Imported => {
                return Ok(Verdict::refused(VerifyCode::Malformed))
            }
            _ => return Ok(Verdict::refused(VerifyCode::NotFound)),
        };
        let (key, policy) = (found.key, found.members_can_create_keys);

        // 5. Status, in the documented order (expiry against the clock, cached or not), then
        //    scopes under today's workspace policy.
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

    /// A store that only counts lookups and knows at most one key, and whether imports
    /// exist: anything else is an error.
    #[derive(Default)]
    struct CountingStore {
        lookups: AtomicUsize,
        known: Option<KeyLookup>,
        imports: bool,
        /// While set, lookups fail as an unreachable database does.
        down: std::sync::atomic::AtomicBool,
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
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("connection refused".into()));
            }
            Ok(self.known.clone().filter(|k| k.key.hash.ct_eq(hash)))
        }
        async fn imported_keys_exist(&self) -> StoreResult<bool> {
            Ok(self.imports)
        }
        async fn key(&self, _: Uuid, _: Uuid) -> StoreResult<Option<ApiKey>> {
            nothing()
        }
        async fn key_by_seq(&self, _: Uuid, _: i64) -> StoreResult<Option<ApiKey>> {
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
        async fn latest_key_change(&self) -> StoreResult<i64> {
            Ok(0)
        }
        async fn key_changes_since(
            &self,
            _: i64,
            _: u32,
        ) -> StoreResult<Vec<crate::store::KeyChange>> {
            Ok(vec![])
        }
        async fn prune_key_changes(&self, _: Timestamp) -> StoreResult<u64> {
            Ok(0)
        }
        async fn change_feed(&self) -> StoreResult<crate::store::ChangeFeed> {
            nothing()
        }
    }

    /// A fresh `kw_` secret.
    fn new_secret() -> String {
        let prefix = key_format::KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
        key_format::generate(&prefix, key_format::KeyFormat::Base62)
            .secret
            .expose_secret()
            .to_owned()
    }

    /// A verifier over a store that knows one full-access key; returns the key's secret.
    fn one_key(grace: Duration) -> (Arc<CountingStore>, Verifier, String) {
        let pepper = Pepper::new(b"test pepper bytes".to_vec());
        let secret = new_secret();
        let key = crate::fixtures::api_key(Uuid::now_v7(), Uuid::now_v7(), pepper.hash(&secret));
        let store = Arc::new(CountingStore {
            known: Some(KeyLookup {
                key,
                creator_is_member: true,
                members_can_create_keys: false,
            }),
            ..CountingStore::default()
        });
        let policy = CachePolicy {
            stale_grace: grace,
            ..CachePolicy::default()
        };
        let verifier = Verifier::new(store.clone(), pepper, Arc::default(), policy);
        (store, verifier, secret)
    }

    #[tokio::test]
    async fn with_the_database_down_a_known_key_answers_for_the_grace_and_nothing_else_does() {
        let (store, verifier, secret) = one_key(Duration::from_secs(30));
        let valid = verifier.verify(&secret, &[]).await;
        assert!(valid.is_ok_and(|v| v.code == VerifyCode::Valid));

        // The change feed drops and the database is gone: the entry is stale, the store
        // is asked, fails, and the entry answers within its grace.
        verifier.apply_change(&ChangeEvent::Lost("connection reset".into()));
        store.down.store(true, Ordering::SeqCst);
        let before = store.lookups.load(Ordering::SeqCst);
        let stale = verifier.verify(&secret, &[]).await;
        assert!(stale.is_ok_and(|v| v.code == VerifyCode::Valid));
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            before + 1,
            "a stale entry was not rechecked"
        );
        assert_eq!(verifier.cache().stats().stale_answers, 1);

        // A key this node never saw fails closed.
        let answer = verifier.verify(&new_secret(), &[]).await;
        assert!(
            matches!(answer, Err(crate::error::Error::Unavailable)),
            "an unknown key did not fail closed"
        );

        // A revocation this node has seen is never undone by the grace.
        let hash = Pepper::new(b"test pepper bytes".to_vec()).hash(&secret);
        verifier.apply_change(&ChangeEvent::Changed(Some(hash)));
        assert!(
            verifier.verify(&secret, &[]).await.is_err(),
            "a forgotten key answered"
        );
    }

    #[tokio::test]
    async fn past_the_grace_a_stale_key_fails_closed_and_the_database_brings_it_back() {
        let (store, verifier, secret) = one_key(Duration::ZERO);
        assert!(verifier.verify(&secret, &[]).await.is_ok());
        verifier.apply_change(&ChangeEvent::Listening);
        store.down.store(true, Ordering::SeqCst);
        assert!(
            verifier.verify(&secret, &[]).await.is_err(),
            "answered past the grace"
        );
        store.down.store(false, Ordering::SeqCst);
        let back = verifier.verify(&secret, &[]).await;
        assert!(
            back.is_ok_and(|v| v.code == VerifyCode::Valid),
            "did not recover"
        );
    }

    #[tokio::test]
    async fn a_failing_checksum_or_shape_is_malformed_without_touching_the_store() {
        for format in [key_format::KeyFormat::Base62, key_format::KeyFormat::Hex64] {
            checksum_first(format).await;
        }
    }

    async fn checksum_first(format: key_format::KeyFormat) {
        let store = Arc::new(CountingStore::default());
        let verifier = Verifier::new(
            store.clone(),
            Pepper::new(b"test pepper bytes".to_vec()),
            Arc::default(),
            CachePolicy::default(),
        );
        let prefix = key_format::KeyPrefix::parse("sd_").unwrap_or_else(|| panic!("prefix"));
        let good = key_format::generate(&prefix, format)
            .secret
            .expose_secret()
            .to_owned();
        let mut typo = good.clone();
        let last = typo.pop().unwrap_or('a');
        typo.push(if last == 'a' { 'b' } else { 'a' });
        for presented in [typo.as_str(), "sd_short", "", "not a key at all"] {
            let verdict = verifier
                .verify(presented, &[])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(verdict.code, VerifyCode::Malformed, "{format}: {presented}");
        }
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            0,
            "{format}: malformed strings reached the store"
        );

        let verdict = verifier
            .verify(&good, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verdict.code, VerifyCode::NotFound, "{format}");
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            1,
            "{format}: a well-formed key is looked up once"
        );
    }

    /// A member-made key with `api_keys:write` in its snapshot, as the store finds it.
    fn member_key(
        pepper: &Pepper,
        secret: &str,
        creator_is_member: bool,
        policy: bool,
    ) -> KeyLookup {
        let snapshot = crate::scope::ScopeSet::from_trusted(["api_keys:write", "apps:read"]);
        KeyLookup {
            key: ApiKey {
                scopes: snapshot.clone(),
                creator_role: Role::Member,
                creator_scopes: snapshot,
                ..crate::fixtures::api_key(Uuid::now_v7(), Uuid::now_v7(), pepper.hash(secret))
            },
            creator_is_member,
            members_can_create_keys: policy,
        }
    }

    #[tokio::test]
    async fn a_key_acts_only_while_its_creator_is_a_member_and_under_todays_policy() {
        let pepper = Pepper::new(b"test pepper bytes".to_vec());
        let secret = new_secret();
        let write = vec!["api_keys:write".to_owned()];
        let verdict = |creator_is_member, policy| {
            let store = Arc::new(CountingStore {
                known: Some(member_key(&pepper, &secret, creator_is_member, policy)),
                ..CountingStore::default()
            });
            let verifier = Verifier::new(
                store,
                pepper.clone(),
                Arc::default(),
                CachePolicy::default(),
            );
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

    /// A native key's secret with its last character changed: the checksum fails.
    fn typo_of_a_native_key() -> String {
        let prefix = key_format::KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
        let mut typo = key_format::generate(&prefix, key_format::KeyFormat::Base62)
            .secret
            .expose_secret()
            .to_owned();
        let last = typo.pop().unwrap_or('a');
        typo.push(if last == 'a' { 'b' } else { 'a' });
        typo
    }

    /// The Simplesat-style legacy account key of the seed: full access, made by an owner.
    fn imported_key(pepper: &Pepper, secret: &str) -> KeyLookup {
        let mut found = member_key(pepper, secret, true, false);
        found.key.source = KeySource::Imported;
        found.key.hash = pepper.hash_imported(&Sha256Digest::of(secret));
        found.key.scopes = ScopeSet::full();
        found.key.creator_role = Role::Owner;
        found.key.creator_scopes = ScopeSet::full();
        found
    }

    #[tokio::test]
    async fn with_no_imports_a_failing_checksum_never_reaches_the_store() {
        let legacy = "ssat_legacy_5f2b9c0e7a41d3";
        let store = Arc::new(CountingStore {
            imports: false,
            ..CountingStore::default()
        });
        let verifier = Verifier::new(
            store.clone(),
            Pepper::new(b"test pepper bytes".to_vec()),
            Arc::default(),
            CachePolicy::default(),
        );
        assert!(!verifier
            .refresh_imports()
            .await
            .unwrap_or_else(|e| panic!("{e}")));
        for presented in [typo_of_a_native_key().as_str(), legacy] {
            let verdict = verifier
                .verify(presented, &[])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(verdict.code, VerifyCode::Malformed, "{presented}");
        }
        assert_eq!(
            store.lookups.load(Ordering::SeqCst),
            0,
            "with no imported key, a string that is not a keyward key reached the store"
        );
    }

    #[tokio::test]
    async fn once_imports_exist_a_string_that_is_not_a_keyward_key_is_looked_up_by_sha256() {
        let pepper = Pepper::new(b"test pepper bytes".to_vec());
        let legacy = "ssat_legacy_5f2b9c0e7a41d3";
        let store = Arc::new(CountingStore {
            known: Some(imported_key(&pepper, legacy)),
            imports: true,
            ..CountingStore::default()
        });
        let verifier = Verifier::new(
            store.clone(),
            pepper,
            Arc::default(),
            CachePolicy::default(),
        );
        // Before the first refresh the verifier knows of no imports, and asks nothing.
        let before = verifier
            .verify(legacy, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(before.code, VerifyCode::Malformed);
        assert_eq!(store.lookups.load(Ordering::SeqCst), 0);

        assert!(verifier
            .refresh_imports()
            .await
            .unwrap_or_else(|e| panic!("{e}")));
        let verdict = verifier
            .verify(legacy, &["apps:deploy".to_owned()])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            verdict.code,
            VerifyCode::Valid,
            "full access holds every scope"
        );
        assert_eq!(store.lookups.load(Ordering::SeqCst), 1);

        // A typo of a native key is now looked up among imports too, and still MALFORMED;
        // strings no import can have made (too short, spaces) are not looked up at all.
        let typo = verifier
            .verify(&typo_of_a_native_key(), &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(typo.code, VerifyCode::Malformed);
        assert_eq!(store.lookups.load(Ordering::SeqCst), 2);
        for garbage in ["short", "not a key at all", ""] {
            let verdict = verifier
                .verify(garbage, &[])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(verdict.code, VerifyCode::Malformed, "{garbage}");
        }
        assert_eq!(store.lookups.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_imported_hash_never_finds_a_native_key_nor_the_reverse() {
        let pepper = Pepper::new(b"test pepper bytes".to_vec());
        let legacy = "ssat_legacy_5f2b9c0e7a41d3";
        // A store whose one key claims the wrong source for the hash it was found by.
        let mut confused = imported_key(&pepper, legacy);
        confused.key.source = KeySource::Native;
        let store = Arc::new(CountingStore {
            known: Some(confused),
            imports: true,
            ..CountingStore::default()
        });
        let verifier = Verifier::new(store, pepper, Arc::default(), CachePolicy::default());
        verifier
            .refresh_imports()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let verdict = verifier
            .verify(legacy, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verdict.code, VerifyCode::Malformed);
    }
}
