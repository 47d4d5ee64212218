//! Limits on failures: failed authentications per client (`auth_failures_per_minute`) and
//! failed log-ins per account and per client, so that nobody can guess credentials or
//! passwords at the speed of the wire.
//!
//! Once a key (a client, an account) has failed this many times within a one-minute window,
//! it is blocked until the window ends: answering 401 versus 200 would otherwise keep serving
//! as an oracle for guesses.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Bound on tracked keys. Past it, expired windows are pruned (at most once a second, since
/// pruning walks the map), and keys still untracked share one overflow slot, so memory stays
/// bounded whatever an attacker does.
const MAX_TRACKED: usize = 100_000;

/// Counts failures per key in one-minute windows.
#[derive(Debug)]
pub struct WindowLimiter<K> {
    per_window: u32,
    // Held only to read or bump one counter, never across an await.
    windows: Mutex<Windows<K>>,
}

/// Whose failures a counter holds. The overflow slot is a variant of its own rather than a
/// reserved key, so that no real client or account can ever land in it by accident.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot<K> {
    Key(K),
    Overflow,
}

#[derive(Debug)]
struct Windows<K> {
    by_key: HashMap<Slot<K>, (Instant, u32)>,
    last_prune: Instant,
}

impl<K: Hash + Eq + Clone> Windows<K> {
    /// The slot a key's failures count in: its own, or the overflow slot when full.
    fn slot(&self, key: &K) -> Slot<K> {
        let slot = Slot::Key(key.clone());
        if self.by_key.len() >= MAX_TRACKED && !self.by_key.contains_key(&slot) {
            Slot::Overflow
        } else {
            slot
        }
    }
}

impl<K: Hash + Eq + Clone> WindowLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        let windows = Windows {
            by_key: HashMap::new(),
            last_prune: Instant::now(),
        };
        Self {
            per_window: per_minute,
            windows: Mutex::new(windows),
        }
    }

    /// `Some(seconds)` to wait when this key is over its limit.
    pub fn blocked(&self, key: &K) -> Option<u64> {
        let windows = self.windows.lock().ok()?;
        let (start, count) = windows.by_key.get(&windows.slot(key))?;
        let elapsed = start.elapsed();
        (elapsed < WINDOW && *count >= self.per_window).then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    /// Counts one event (a failure, a message sent) against `key`.
    pub fn record(&self, key: &K) {
        let Ok(mut windows) = self.windows.lock() else {
            return;
        };
        if windows.by_key.len() >= MAX_TRACKED
            && windows.last_prune.elapsed() >= Duration::from_secs(1)
        {
            windows
                .by_key
                .retain(|_, (start, _)| start.elapsed() < WINDOW);
            windows.last_prune = Instant::now();
        }
        let slot = windows.slot(key);
        let entry = windows.by_key.entry(slot).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows
            .lock()
            .map(|w| w.by_key.len())
            .unwrap_or(usize::MAX)
    }
}

/// Who a client is, for its limits: one IPv4 address, or one IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    V4(Ipv4Addr),
    /// The upper 64 bits of an IPv6 address.
    V6Net(u64),
}

impl Client {
    /// A single host usually controls a whole /64 and could otherwise rotate addresses past
    /// the limit. A dual-stack listener (`[::]`) sees IPv4 clients as `::ffff:a.b.c.d`;
    /// those are unmapped first, or every IPv4 client would fall into the same /64
    /// (`::/64`, shared with `::1`) and one of them could lock out all.
    pub fn of(ip: IpAddr) -> Client {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Client::V4(v4),
            IpAddr::V6(v6) => Client::V6Net((v6.to_bits() >> 64) as u64),
        }
    }
}

/// Failed authentications per client IP.
#[derive(Debug)]
pub struct FailureLimiter(WindowLimiter<Client>);

impl FailureLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self(WindowLimiter::new(per_minute))
    }

    /// `Some(seconds)` to wait when this client is over its limit.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        self.0.blocked(&Client::of(ip))
    }

    pub fn record_failure(&self, ip: IpAddr) {
        self.0.record(&Client::of(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()))
    }

    #[test]
    fn an_ip_is_blocked_after_its_quota_of_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(3);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        for _ in 0..3 {
            assert!(limiter.blocked(a).is_none());
            limiter.record_failure(a);
        }
        let wait = limiter.blocked(a);
        assert!(wait.is_some_and(|s| (1..=60).contains(&s)), "{wait:?}");
        assert!(limiter.blocked(b).is_none());
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_prefix() {
        let limiter = FailureLimiter::new(2);
        limiter.record_failure(ip("2001:db8:1:2::1"));
        limiter.record_failure(ip("2001:db8:1:2:ffff::9"));
        assert!(limiter.blocked(ip("2001:db8:1:2::77")).is_some());
        assert!(limiter.blocked(ip("2001:db8:1:3::1")).is_none());
    }

    #[test]
    fn an_ipv4_mapped_ipv6_address_counts_as_that_ipv4_address() {
        assert_eq!(
            Client::of(ip("::ffff:10.0.0.1")),
            Client::of(ip("10.0.0.1"))
        );
        assert_ne!(
            Client::of(ip("::ffff:10.0.0.1")),
            Client::of(ip("::ffff:10.0.0.2"))
        );
        assert_ne!(Client::of(ip("::ffff:10.0.0.1")), Client::of(ip("::1")));
    }

    #[test]
    fn a_mapped_ipv4_client_over_its_limit_does_not_block_other_ipv4_or_ipv6_clients() {
        let limiter = FailureLimiter::new(2);
        limiter.record_failure(ip("::ffff:192.0.2.7"));
        limiter.record_failure(ip("::ffff:192.0.2.7"));
        assert!(limiter.blocked(ip("::ffff:192.0.2.7")).is_some());
        assert!(limiter.blocked(ip("192.0.2.7")).is_some(), "same client");
        assert!(limiter.blocked(ip("::ffff:192.0.2.8")).is_none());
        assert!(limiter.blocked(ip("::1")).is_none());
    }

    #[test]
    fn no_client_shares_the_overflow_slot_while_the_map_has_room() {
        let limiter = FailureLimiter::new(1);
        limiter.record_failure(ip("::"));
        assert!(limiter.blocked(ip("::")).is_some());
        assert!(limiter.blocked(ip("127.0.0.1")).is_none());
        assert!(limiter.blocked(ip("0.0.0.0")).is_none());
    }

    #[test]
    fn memory_stays_bounded_when_more_keys_fail_than_can_be_tracked() {
        let limiter = WindowLimiter::<u32>::new(1_000_000);
        for i in 0..(MAX_TRACKED as u32 + 500) {
            limiter.record(&i);
        }
        let tracked = limiter.tracked();
        assert!(tracked <= MAX_TRACKED + 1, "{tracked} tracked");
    }

    #[test]
    fn accounts_are_limited_one_by_one() {
        let limiter = WindowLimiter::<String>::new(2);
        limiter.record(&"ada@example.com".to_owned());
        limiter.record(&"ada@example.com".to_owned());
        assert!(limiter.blocked(&"ada@example.com".to_owned()).is_some());
        assert!(limiter.blocked(&"bob@example.com".to_owned()).is_none());
    }
}
