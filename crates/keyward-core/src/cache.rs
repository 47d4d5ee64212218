//! The verification cache: what a lookup by hash found, keyed by the peppered HMAC of the
//! secret (never the secret), bounded in entries, each entry living no longer than the TTL
//! and never past its key's own `expires_at`.
//!
//! Beside it, a small negative cache of hashes that found nothing. Why a negative cache, and
//! not only per-IP limits: the checksum is a public CRC, so anyone can mint strings that pass
//! it, and no per-string cache stops an attacker who mints a fresh one per request. That case
//! is bounded elsewhere: Bearer authentication by the per-IP failure limit (429), and the
//! verify API by its callers, which are the operator's own services holding a service token.
//! What the negative cache absorbs is the common case a limit would punish: one client
//! retrying the same unknown or deleted key in a loop, which then costs a lookup per TTL
//! instead of one per request. It is small (entries are 32-byte keys), short-lived, and
//! cleared of a hash the moment a key with that hash is written, so it cannot hide a key.
//!
//! When the database cannot be asked, an entry may still answer for `stale_grace_seconds`
//! after it stopped being fresh (its TTL ended, or the node lost its change feed and marked
//! everything stale), then the key fails closed (PRODUCT.md §8). An entry that was
//! invalidated is gone, so a revocation this node has seen is never undone.
//!
//! Staleness is closed by an epoch. A miss notes the epoch before it reads the store, and its
//! answer is kept only if no invalidation happened meanwhile; every invalidation bumps the
//! epoch first. A lookup racing a revocation therefore never re-inserts the old row.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

use crate::model::{ApiKey, ServiceToken};
use crate::secret::CredentialHash;
use crate::store::KeyLookup;

/// How long a hash that found nothing is remembered, at most.
const NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// How many such hashes are remembered, at most.
const NEGATIVE_ENTRIES: u64 = 100_000;
/// Service tokens cached, at most: an instance has a handful.
const TOKEN_ENTRIES: u64 = 1_000;

/// The cache's bounds, from config (`cache_max_entries`, `cache_ttl_seconds`,
/// `stale_grace_seconds`).
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub max_entries: u64,
    pub ttl: Duration,
    /// How long an entry that stopped being fresh may still answer while the database
    /// cannot be asked.
    pub stale_grace: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            max_entries: 1_000_000,
            ttl: Duration::from_secs(60),
            stale_grace: Duration::from_secs(30),
        }
    }
}

/// When an entry was cached and until when it answers without asking the store.
#[derive(Clone, Copy)]
struct Stamp {
    /// Nanoseconds since the cache's `base`, comparable with `KeyCache::stale_since`.
    cached_at: u64,
    /// The TTL from when it was cached, cut short by the key's expiry. Checked on each hit,
    /// so expiry costs no timer per entry.
    answers_until: Instant,
}

/// A key as the store found it, with the two workspace facts that decide what it may do.
/// Cloning it is one reference count: a hit allocates nothing.
#[derive(Clone)]
pub struct Found {
    pub key: Arc<ApiKey>,
    pub creator_is_member: bool,
    pub members_can_create_keys: bool,
    stamp: Stamp,
}

impl Found {
    fn new(lookup: KeyLookup, ttl: Duration, cached_at: u64) -> Self {
        let lifetime = match lookup.key.expires_at {
            Some(at) => (at - crate::model::now())
                .to_std()
                .unwrap_or_default()
                .min(ttl),
            None => ttl,
        };
        Found {
            key: Arc::new(lookup.key),
            creator_is_member: lookup.creator_is_member,
            members_can_create_keys: lookup.members_can_create_keys,
            stamp: Stamp {
                cached_at,
                answers_until: Instant::now() + lifetime,
            },
        }
    }
}

/// What the cache knows about a hash.
pub enum Cached {
    Found(Found),
    /// Looked up recently, and nothing had it.
    Missing,
    /// Not cached: ask the store.
    Unknown,
}

/// Counts the entries the size bound pushes out.
#[derive(Clone)]
struct CountEvictions(Arc<CacheCounters>);

impl<K, V> Lifecycle<K, V> for CountEvictions {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    fn on_evict(&self, _: &mut Self::RequestState, _: K, _: V) {
        self.0.evictions.fetch_add(1, Ordering::Relaxed);
    }
}

type Map<V> = Cache<CredentialHash, V, UnitWeighter, DefaultHashBuilder, CountEvictions>;

/// A map of at most `entries` hashes whose size-bound evictions count into `counters`.
fn map<V: Clone>(entries: u64, counters: Arc<CacheCounters>) -> Map<V> {
    // quick_cache needs room for one entry at least; a cache that is off caches nothing
    // anyway (`enabled`).
    let entries = entries.max(1);
    Cache::with(
        usize::try_from(entries).unwrap_or(usize::MAX),
        entries,
        UnitWeighter,
        DefaultHashBuilder::default(),
        CountEvictions(counters),
    )
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Entries pushed out by the size bound (not expiries or invalidations).
    pub evictions: AtomicU64,
    /// Answers given from entries past their freshness because the store could not be asked.
    pub stale_answers: AtomicU64,
}

/// A snapshot of the counters and the number of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub entries: u64,
    pub stale_answers: u64,
}

pub struct KeyCache {
    found: Map<Found>,
    /// Hashes that found nothing, each with the instant until which that answer stands.
    missing: Map<Instant>,
    /// Service tokens by hash: the verify API checks one on every call.
    tokens: Map<(Arc<ServiceToken>, Stamp)>,
    epoch: AtomicU64,
    counters: Arc<CacheCounters>,
    ttl: Duration,
    stale_grace: Duration,
    /// The origin of `Stamp::cached_at` and `stale_since`.
    base: Instant,
    /// Entries cached before this (nanoseconds since `base`; 0 for never) are stale: the
    /// node lost its change feed then, and may have missed writes.
    stale_since: AtomicU64,
    /// False with no room or no lifetime: every lookup then goes to the store.
    enabled: bool,
}

impl KeyCache {
    pub fn new(policy: CachePolicy) -> Self {
        let counters = Arc::new(CacheCounters::default());
        Self {
            found: map(policy.max_entries, counters.clone()),
            // The maps beside the key cache count their evictions apart: the metric is the
            // key cache's.
            missing: map(NEGATIVE_ENTRIES, Arc::default()),
            tokens: map(TOKEN_ENTRIES, Arc::default()),
            epoch: AtomicU64::new(0),
            counters,
            ttl: policy.ttl,
            stale_grace: policy.stale_grace,
            base: Instant::now(),
            stale_since: AtomicU64::new(0),
            enabled: policy.max_entries > 0 && !policy.ttl.is_zero(),
        }
    }

    /// Now, as a `Stamp::cached_at`. Starts at 1, so that 0 can mean "never" in `stale_since`.
    fn clock(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    fn is_fresh(&self, stamp: &Stamp, now: Instant) -> bool {
        now < stamp.answers_until && stamp.cached_at >= self.stale_since.load(Ordering::Acquire)
    }

    /// Whether an entry that is not fresh may still answer while the store cannot be asked:
    /// for `stale_grace` after it stopped being fresh.
    fn within_grace(&self, stamp: &Stamp, now: Instant) -> bool {
        let stale_since = self.stale_since.load(Ordering::Acquire);
        let stopped_fresh = if stamp.cached_at < stale_since {
            let marked = self.base + Duration::from_nanos(stale_since - 1);
            marked.min(stamp.answers_until)
        } else {
            stamp.answers_until
        };
        now < stopped_fresh + self.stale_grace
    }

    /// What is cached for `hash`, counting a hit or a miss.
    pub fn get(&self, hash: &CredentialHash) -> Cached {
        let now = Instant::now();
        if let Some(found) = self.found.get(hash) {
            if self.is_fresh(&found.stamp, now) {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                return Cached::Found(found);
            }
            // Past its TTL or its key's expiry, or marked stale: ask the store again. The
            // entry stays until the answer replaces it, for [`KeyCache::stale`].
        }
        if let Some(until) = self.missing.get(hash) {
            if now < until {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                return Cached::Missing;
            }
            self.missing.remove(hash);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        Cached::Unknown
    }

    /// The epoch to note before reading the store on a miss.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps what the store answered for `hash`, unless something was invalidated since
    /// `epoch` was read: then that answer may be older than the invalidation, and is dropped.
    /// Returns the entry to use for this request either way.
    pub fn put(&self, epoch: u64, hash: CredentialHash, lookup: Option<KeyLookup>) -> Cached {
        let answer = match lookup {
            Some(l) => Cached::Found(Found::new(l, self.ttl, self.clock())),
            None => Cached::Missing,
        };
        if matches!(answer, Cached::Missing) {
            // A stale entry must not outlive the store saying the key is gone.
            self.found.remove(&hash);
        }
        if !self.enabled || self.epoch() != epoch {
            return answer;
        }
        match &answer {
            Cached::Found(found) => self.found.insert(hash, found.clone()),
            _ => self
                .missing
                .insert(hash, Instant::now() + NEGATIVE_TTL.min(self.ttl)),
        }
        // An invalidation between the check above and the insert bumped the epoch before it
        // removed anything; seeing that now, take back what was just inserted.
        if self.epoch() != epoch {
            self.found.remove(&hash);
            self.missing.remove(&hash);
        }
        answer
    }

    /// A cached key that is no longer fresh but may still answer, because the store cannot
    /// be asked and the entry is within its grace. Only after a lookup failed.
    pub fn stale(&self, hash: &CredentialHash) -> Option<Found> {
        let found = self.found.get(hash)?;
        self.within_grace(&found.stamp, Instant::now()).then(|| {
            self.counters.stale_answers.fetch_add(1, Ordering::Relaxed);
            found
        })
    }

    /// The cached service token with this hash, if any and still fresh.
    pub fn token(&self, hash: &CredentialHash) -> Option<Arc<ServiceToken>> {
        match self.tokens.get(hash) {
            Some((token, stamp)) if self.is_fresh(&stamp, Instant::now()) => Some(token),
            _ => None,
        }
    }

    /// As [`KeyCache::stale`], for a service token.
    pub fn stale_token(&self, hash: &CredentialHash) -> Option<Arc<ServiceToken>> {
        let (token, stamp) = self.tokens.get(hash)?;
        self.within_grace(&stamp, Instant::now()).then(|| {
            self.counters.stale_answers.fetch_add(1, Ordering::Relaxed);
            token
        })
    }

    /// Keeps a service token the store found, unless something was invalidated since
    /// `epoch` was read (as for keys, [`KeyCache::put`]).
    pub fn put_token(&self, epoch: u64, token: Arc<ServiceToken>) {
        if !self.enabled || self.epoch() != epoch {
            return;
        }
        let hash = token.hash;
        let stamp = Stamp {
            cached_at: self.clock(),
            answers_until: Instant::now() + self.ttl,
        };
        self.tokens.insert(hash, (token, stamp));
        if self.epoch() != epoch {
            self.tokens.remove(&hash);
        }
    }

    /// Forgets one key or service token, found or missing: it was written.
    pub fn forget(&self, hash: &CredentialHash) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.found.remove(hash);
        self.missing.remove(hash);
        self.tokens.remove(hash);
    }

    /// Forgets everything: something that decides what every key may do changed (a
    /// workspace's policy, a membership), or this node may have missed changes.
    pub fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.found.clear();
        self.missing.clear();
        self.tokens.clear();
    }

    /// Marks everything stale: this node lost its change feed and may miss writes until it
    /// listens again. Stale entries are asked of the store again, but while the store cannot
    /// be asked they answer for the grace ([`KeyCache::stale`]). Hashes that found nothing
    /// are forgotten: a key created meanwhile must not be hidden.
    pub fn mark_all_stale(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.stale_since.store(self.clock(), Ordering::Release);
        self.missing.clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            evictions: self.counters.evictions.load(Ordering::Relaxed),
            entries: self.found.len() as u64,
            stale_answers: self.counters.stale_answers.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now;

    fn lookup(expires_in_ms: Option<i64>) -> KeyLookup {
        let mut key = crate::fixtures::any_api_key();
        key.expires_at = expires_in_ms.map(|ms| now() + chrono::TimeDelta::milliseconds(ms));
        KeyLookup {
            key,
            creator_is_member: true,
            members_can_create_keys: false,
        }
    }

    fn cache() -> KeyCache {
        KeyCache::new(CachePolicy {
            max_entries: 100,
            ttl: Duration::from_secs(60),
            stale_grace: Duration::from_secs(30),
        })
    }

    #[test]
    fn a_found_key_is_a_hit_until_it_is_forgotten() {
        let cache = cache();
        let l = lookup(None);
        let hash = l.key.hash;
        assert!(matches!(cache.get(&hash), Cached::Unknown));
        cache.put(cache.epoch(), hash, Some(l));
        assert!(matches!(cache.get(&hash), Cached::Found(_)));
        cache.forget(&hash);
        assert!(matches!(cache.get(&hash), Cached::Unknown));
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 2));
    }

    #[test]
    fn an_answer_read_before_an_invalidation_is_not_kept() {
        let cache = cache();
        let l = lookup(None);
        let hash = l.key.hash;
        let epoch = cache.epoch();
        // A revocation commits and invalidates while this miss was reading the old row.
        cache.forget(&hash);
        assert!(matches!(cache.put(epoch, hash, Some(l)), Cached::Found(_)));
        assert!(
            matches!(cache.get(&hash), Cached::Unknown),
            "the stale row was kept"
        );
    }

    #[test]
    fn a_missing_hash_is_remembered_until_a_key_with_it_is_written() {
        let cache = cache();
        let hash = CredentialHash::from_bytes(rand::random());
        cache.put(cache.epoch(), hash, None);
        assert!(matches!(cache.get(&hash), Cached::Missing));
        cache.forget(&hash);
        assert!(matches!(cache.get(&hash), Cached::Unknown));
    }

    #[test]
    fn no_entry_outlives_its_keys_expiry() {
        let cache = cache();
        let l = lookup(Some(50));
        let hash = l.key.hash;
        cache.put(cache.epoch(), hash, Some(l));
        assert!(matches!(cache.get(&hash), Cached::Found(_)));
        std::thread::sleep(Duration::from_millis(120));
        assert!(matches!(cache.get(&hash), Cached::Unknown));
    }

    #[test]
    fn forget_all_empties_both_caches_and_the_size_bound_evicts() {
        let cache = cache();
        let mut hashes = Vec::new();
        for _ in 0..300 {
            let l = lookup(None);
            hashes.push(l.key.hash);
            cache.put(cache.epoch(), l.key.hash, Some(l));
        }
        let stats = cache.stats();
        assert!(stats.entries <= 100, "{stats:?}");
        assert!(stats.evictions > 0, "{stats:?}");
        cache.forget_all();
        assert!(hashes
            .iter()
            .all(|h| matches!(cache.get(h), Cached::Unknown)));
    }
}
