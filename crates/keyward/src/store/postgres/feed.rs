//! The change feed on PostgreSQL: each node LISTENs on the channel that the triggers of
//! migration 0001 NOTIFY in every key write's transaction, delivered when it commits.
//!
//! A notification is the hex of a written key's or token's hash, or `*` for a change that
//! decides what every key may do. A dropped connection loses notifications without a trace,
//! so the stream reports it (`Lost`), reconnects with backoff, and reports `Listening` once
//! LISTEN holds again; the server marks its cache stale both times.
//!
//! A connection can also die silently (a half-open TCP connection after a network
//! partition): nothing arrives, and nothing says so. So each node NOTIFYs a heartbeat on the
//! same channel every [`HEARTBEAT`]; a listener that hears nothing at all for
//! [`SILENCE`] treats its connection as lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keyward_core::secret::CredentialHash;
use keyward_core::store::{ChangeEvent, ChangeStream};
use sqlx::postgres::{PgListener, PgPool};

use super::KEY_CHANGES_CHANNEL as CHANNEL;

/// The payload of a change that decides what every key may do.
const EVERYTHING: &str = "*";
/// The payload of a heartbeat, which says nothing changed.
const HEARTBEAT_PAYLOAD: &str = ".";
/// How often each node sends a heartbeat.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a listener may hear nothing (no change, no node's heartbeat) before it counts
/// its connection as lost: three heartbeats.
const SILENCE: Duration = Duration::from_secs(6);
/// The first wait before reconnecting, doubled after each failure up to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Whether this node currently hears the database. While it does not, the verification
/// lookups fail at once instead of waiting for a connection that will not come, so stale
/// cache entries answer within their grace and unknown keys fail closed without delay.
#[derive(Debug, Default)]
pub(crate) struct Health {
    down: AtomicBool,
    /// Wakes what waits on the database (a readiness probe) when the feed is lost.
    lost: tokio::sync::Notify,
}

impl Health {
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Resolves when the feed is next lost: a probe already waiting on the database need
    /// not wait out its timeout to learn it is gone.
    pub(crate) async fn lost(&self) {
        self.lost.notified().await;
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Release);
        if down {
            self.lost.notify_waiters();
        }
    }
}

/// The pushed change feed of one server.
pub(crate) struct PgChangeStream {
    pool: PgPool,
    listener: Option<PgListener>,
    /// This node's name in the payloads of its own writes.
    node: String,
    backoff: Duration,
    health: Arc<Health>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl PgChangeStream {
    /// Starts listening; fails when the database cannot be reached, so a server does not
    /// start without its feed.
    pub(crate) async fn start(
        pool: PgPool,
        node: String,
        health: Arc<Health>,
    ) -> sqlx::Result<Self> {
        let listener = listen(&pool).await?;
        let heartbeat = tokio::spawn(send_heartbeats(pool.clone()));
        Ok(Self {
            pool,
            listener: Some(listener),
            node,
            backoff: BACKOFF_FIRST,
            health,
            heartbeat,
        })
    }
}

impl Drop for PgChangeStream {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

async fn listen(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Report a lost connection at once; by default sqlx reconnects first, which against an
    // unreachable database means waiting out the pool's acquire timeout before saying so.
    // This stream reconnects by itself, with backoff, and says when it listens again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Sends a heartbeat every [`HEARTBEAT`] for as long as the server runs; a failure is the
/// listener's to notice.
async fn send_heartbeats(pool: PgPool) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let _ = tokio::time::timeout(
            HEARTBEAT,
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(HEARTBEAT_PAYLOAD)
                .execute(&pool),
        )
        .await;
    }
}

/// What a notification's payload says to the node named `me`; `None` for a heartbeat, for
/// this node's own write (applied before it was acknowledged), or for a payload of another
/// version's format, which change nothing.
fn parse(payload: &str, me: &str) -> Option<ChangeEvent> {
    let payload = match payload.split_once('@') {
        Some((_, origin)) if origin == me => return None,
        Some((what, _)) => what,
        None => payload,
    };
    if payload == EVERYTHING {
        return Some(ChangeEvent::Changed(None));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(payload, &mut bytes).ok()?;
    Some(ChangeEvent::Changed(Some(CredentialHash::from_bytes(
        bytes,
    ))))
}

#[async_trait]
impl ChangeStream for PgChangeStream {
    async fn next(&mut self) -> ChangeEvent {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match listen(&self.pool).await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        self.backoff = BACKOFF_FIRST;
                        self.health.set_down(false);
                        return ChangeEvent::Listening;
                    }
                    Err(_) => {
                        tokio::time::sleep(self.backoff).await;
                        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                }
            };
            // On a timeout the listener is dropped, never used again, so cancelling its
            // receive midway cannot leave it in a half-read state.
            let reason = match tokio::time::timeout(SILENCE, listener.try_recv()).await {
                Ok(Ok(Some(notification))) => match parse(notification.payload(), &self.node) {
                    Some(event) => return event,
                    None => continue,
                },
                Ok(Ok(None)) => "the connection closed".to_owned(),
                Ok(Err(e)) => format!("the connection failed ({})", error_class(&e)),
                Err(_) => format!("nothing heard for {} s", SILENCE.as_secs()),
            };
            self.listener = None;
            self.health.set_down(true);
            return ChangeEvent::Lost(reason);
        }
    }
}

/// The kind of a connection error, never its text (which can quote connection details).
fn error_class(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Io(_) => "I/O error",
        sqlx::Error::Database(_) => "closed by the server",
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => "no connection",
        sqlx::Error::Protocol(_) => "protocol error",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_a_hash_everything_or_nothing() {
        let hash = CredentialHash::from_bytes([0xab; 32]);
        let me = "node-1";
        assert_eq!(
            parse(&"ab".repeat(32), me),
            Some(ChangeEvent::Changed(Some(hash)))
        );
        assert_eq!(
            parse(&format!("{}@node-2", "ab".repeat(32)), me),
            Some(ChangeEvent::Changed(Some(hash)))
        );
        assert_eq!(parse("*", me), Some(ChangeEvent::Changed(None)));
        assert_eq!(parse("*@cli", me), Some(ChangeEvent::Changed(None)));
        assert_eq!(parse("*@node-1", me), None, "its own write");
        assert_eq!(parse(&format!("{}@node-1", "ab".repeat(32)), me), None);
        assert_eq!(parse(".", me), None);
        assert_eq!(parse("zz", me), None);
        assert_eq!(parse(&"ab".repeat(33), me), None);
    }
}
