//! `last_used_at` bookkeeping for keys and service tokens: uses are recorded in memory and
//! written in batches, so the verification path never waits on a database write.
//!
//! Each flush writes every key and token used since the previous flush once, so each gets
//! at most one write per `last_used_flush_seconds`. Shutdown flushes whatever is pending.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::model::Timestamp;
use crate::store::{Store, StoreResult};

/// The latest use of each id since the last flush.
#[derive(Debug, Default)]
struct Pending {
    // A plain mutex: it is held only to update one map entry, never across an await.
    uses: Mutex<HashMap<Uuid, Timestamp>>,
}

impl Pending {
    fn record(&self, id: Uuid, at: Timestamp) {
        if let Ok(mut uses) = self.uses.lock() {
            let entry = uses.entry(id).or_insert(at);
            if *entry < at {
                *entry = at;
            }
        }
    }

    fn get(&self, id: Uuid) -> Option<Timestamp> {
        self.uses.lock().ok().and_then(|u| u.get(&id).copied())
    }

    fn take(&self) -> Vec<(Uuid, Timestamp)> {
        match self.uses.lock() {
            Ok(mut uses) => uses.drain().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Puts a batch that could not be written back, for the next flush.
    fn restore(&self, batch: Vec<(Uuid, Timestamp)>) {
        for (id, at) in batch {
            self.record(id, at);
        }
    }
}

#[derive(Debug, Default)]
pub struct UsageLog {
    keys: Pending,
    service_tokens: Pending,
}

impl UsageLog {
    pub fn record(&self, key_id: Uuid, at: Timestamp) {
        self.keys.record(key_id, at);
    }

    /// A verify call authenticated by this service token.
    pub fn record_service_token(&self, token_id: Uuid, at: Timestamp) {
        self.service_tokens.record(token_id, at);
    }

    /// The latest use not yet written, so reads can show it before the flush.
    pub fn pending(&self, key_id: Uuid) -> Option<Timestamp> {
        self.keys.get(key_id)
    }

    /// Like [`UsageLog::pending`], for a service token.
    pub fn pending_service_token(&self, token_id: Uuid) -> Option<Timestamp> {
        self.service_tokens.get(token_id)
    }

    /// Writes every pending use, one batch for keys and one for tokens; a batch that fails
    /// is kept for the next try. Returns how many keys and tokens were written.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<usize> {
        let mut written = 0;
        let mut failure = None;
        let keys = self.keys.take();
        if !keys.is_empty() {
            match store.record_key_use(&keys).await {
                Ok(()) => written += keys.len(),
                Err(e) => {
                    self.keys.restore(keys);
                    failure = Some(e);
                }
            }
        }
        let tokens = self.service_tokens.take();
        if !tokens.is_empty() {
            match store.record_service_token_use(&tokens).await {
                Ok(()) => written += tokens.len(),
                Err(e) => {
                    self.service_tokens.restore(tokens);
                    failure.get_or_insert(e);
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}
