//! Writes that lose to conflicting writes run again: `retrying!` and its pauses.
//!
//! PostgreSQL rolls back one of two transactions that deadlock or that cannot both be
//! serialized ([`crate::Error::Contended`]). Nothing the loser wrote survives, so running the
//! whole transaction again is safe, and it re-checks every rule (a cap, a rotation) against
//! what the winner committed. Only contention is retried: an outage fails at once, closed,
//! and a refusal is an answer.
//!
//! A macro rather than a method taking a closure: the body is an `async` block awaited in
//! place, so it borrows the caller's arguments with no boxing, and the request's future stays
//! `Send` (an async closure's future is not provably `Send` for every lifetime).

use std::time::Duration;

/// How many times a write runs before the client gets a 503.
pub(crate) const WRITE_ATTEMPTS: u32 = 5;

/// The pause before the first retry; each later one doubles it, so five attempts wait about
/// 5 + 10 + 20 + 40 ms at most.
const FIRST_PAUSE: Duration = Duration::from_millis(5);

/// Runs `$body`, an async block that begins and commits one transaction, up to
/// [`WRITE_ATTEMPTS`] times while it ends in [`crate::Error::Contended`]. The body runs again
/// from the start, so it must not move values it needs on the next attempt.
macro_rules! retrying {
    ($body:block) => {{
        let mut attempt = 1;
        loop {
            let outcome: $crate::error::Result<_> = async $body.await;
            match outcome {
                Err($crate::error::Error::Contended)
                    if attempt < $crate::service::retry::WRITE_ATTEMPTS =>
                {
                    $crate::service::retry::pause(attempt).await;
                    attempt += 1;
                }
                done => break done,
            }
        }
    }};
}

/// Sleeps before retry number `attempt`, with jitter, so that the transactions that collided
/// do not collide again in step.
pub(crate) async fn pause(attempt: u32) {
    let full = FIRST_PAUSE * 2u32.pow(attempt.saturating_sub(1));
    let micros = full.as_micros() as u64;
    let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=micros / 2);
    tokio::time::sleep(Duration::from_micros(micros / 2 + jitter)).await;
}
