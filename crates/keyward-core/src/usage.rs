//! `last_used_at` bookkeeping: uses are recorded in memory and written in batches, so the
//! verification path never waits on a database write.
//!
//! Each flush writes every key used since the previous flush once, so a key gets at most one
//! write per `last_used_flush_seconds`. Shutdown flushes whatever is pending.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::model::Timestamp;
use crate::store::{Store, StoreResult};

#[derive(Debug, Default)]
pub struct UsageLog {
    // A plain mutex: it is held only to update one map entry, never across an await.
    pending: Mutex<HashMap<Uuid, Timestamp>>,
}

impl UsageLog {
    pub fn record(&self, key_id: Uuid, at: Timestamp) {
        if let Ok(mut pending) = self.pending.lock() {
            let entry = pending.entry(key_id).or_insert(at);
            if *entry < at {
                *entry = at;
            }
        }
    }

    /// The latest use not yet written, so reads can show it before the flush.
    pub fn pending(&self, key_id: Uuid) -> Option<Timestamp> {
        self.pending
            .lock()
            .ok()
            .and_then(|p| p.get(&key_id).copied())
    }

    /// Writes every pending use in one batch; on failure the uses are kept for the next try.
    /// Returns how many keys were written.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<usize> {
        let batch: Vec<(Uuid, Timestamp)> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match store.record_key_use(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                for (id, at) in batch {
                    self.record(id, at);
                }
                Err(e)
            }
        }
    }
}
