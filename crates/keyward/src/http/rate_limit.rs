//! Limits failed authentications per client IP (`auth_failures_per_minute`), so that nobody
//! can guess credentials at the speed of the wire.
//!
//! Once an IP has failed this many times within a one-minute window, every authenticated
//! request from it gets `429` until the window ends: answering 401 versus 200 would otherwise
//! keep serving as an oracle for guesses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Bound on tracked IPs; expired windows are pruned when it is reached.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug)]
pub struct FailureLimiter {
    per_window: u32,
    // Held only to read or bump one counter, never across an await.
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_window: per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds)` to wait when this IP is over its limit.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let windows = self.windows.lock().ok()?;
        let (start, count) = windows.get(&ip)?;
        let elapsed = start.elapsed();
        (elapsed < WINDOW && *count >= self.per_window).then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let Ok(mut windows) = self.windows.lock() else {
            return;
        };
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = windows.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_is_blocked_after_its_quota_of_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(limiter.blocked(a).is_none());
            limiter.record_failure(a);
        }
        let wait = limiter.blocked(a);
        assert!(wait.is_some_and(|s| (1..=60).contains(&s)), "{wait:?}");
        assert!(limiter.blocked(b).is_none());
    }
}
