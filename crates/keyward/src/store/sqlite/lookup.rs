//! The verification lookup, read on the calling thread: the one query on the hot path that a
//! cache miss pays for.
//!
//! Why not sqlx like every other query: sqlx runs each SQLite connection on a worker thread
//! of its own and passes the statement and its row through channels, so one lookup paid two
//! thread hand-offs. `perf` on the miss benchmark put more than half of a miss in that
//! hand-off and under 5 % in SQLite itself (BENCHMARKS.md, "The miss (b)").
//!
//! Why blocking the async worker is fine here: the statement is one probe of the unique hash
//! index plus two primary-key probes, a few microseconds with the pages cached. In WAL mode a
//! reader never waits for the writer, and the connections are opened with no busy timeout:
//! in the rare moments SQLite answers BUSY (a WAL reset or recovery) the lookup returns
//! [`Attempt::Busy`] at once and the caller falls back to the asynchronous pool, which may
//! wait without holding a worker.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use keyward_core::secret::CredentialHash;
use keyward_core::store::{KeyLookup, StoreError, StoreResult};
use rusqlite::{ffi, Connection, OpenFlags, OptionalExtension};

use super::keys::key_by_hash_sql;
use crate::store::rows::{hash, lookup_from_row, Columns};

/// Idle connections kept for reuse: one per worker thread that may be looking up at once,
/// with room to spare on a small server. More are opened under a burst and closed after.
const IDLE_CONNECTIONS: usize = 8;

/// What one synchronous lookup found.
// Returned by value and matched at once; boxing the large variant would allocate per lookup.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Attempt {
    Done(StoreResult<Option<KeyLookup>>),
    /// SQLite was busy for a moment: ask the asynchronous pool instead.
    Busy,
}

/// Read-only rusqlite connections to the store's database file, reused across lookups.
pub(crate) struct Lookup {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    sql: String,
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup").field("path", &self.path).finish()
    }
}

impl Lookup {
    pub(crate) fn new(path: &Path) -> Lookup {
        Lookup {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            sql: key_by_hash_sql(),
        }
    }

    /// The key stored under `credential`, deleted or not, with its workspace facts.
    pub(crate) fn key_by_hash(&self, credential: &CredentialHash) -> Attempt {
        let conn = match self.take() {
            Ok(conn) => conn,
            Err(err) => return classify(err),
        };
        let found = conn.prepare_cached(&self.sql).and_then(|mut statement| {
            statement
                .query_row([hash(credential)], |row| Ok(lookup_from_row(row)))
                .optional()
        });
        self.give_back(conn);
        match found {
            Ok(found) => Attempt::Done(found.transpose()),
            Err(err) => classify(err),
        }
    }

    /// Closes the idle connections, so that the store's last connection to close can
    /// checkpoint the WAL and remove it.
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        // The lock is held for a pop, never across the query.
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match reused {
            Some(conn) => Ok(conn),
            None => Connection::open_with_flags(
                &self.path,
                // NO_MUTEX: a connection is used by one thread at a time, handed over
                // through the idle list.
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_CONNECTIONS {
                idle.push(conn);
            }
        }
    }
}

/// BUSY and LOCKED go to the asynchronous pool; anything else is the store's answer, in the
/// same words the sqlx path uses (a class and SQLite's message, never a value).
fn classify(err: rusqlite::Error) -> Attempt {
    match err {
        rusqlite::Error::SqliteFailure(e, _)
            if matches!(
                e.code,
                ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked
            ) =>
        {
            Attempt::Busy
        }
        rusqlite::Error::SqliteFailure(e, message) => {
            let message = message.unwrap_or_else(|| e.to_string());
            let text = format!("sqlite error {}: {message}", e.extended_code);
            Attempt::Done(Err(match e.code {
                ffi::ErrorCode::SystemIoFailure
                | ffi::ErrorCode::DiskFull
                | ffi::ErrorCode::CannotOpen => StoreError::Unavailable(text),
                _ => StoreError::Other(text),
            }))
        }
        _ => Attempt::Done(Err(StoreError::Other(
            "the verification lookup failed".into(),
        ))),
    }
}

/// Columns by name, as the sqlx rows are read, so both drivers share one mapper.
impl Columns for rusqlite::Row<'_> {
    fn text(&self, column: &str) -> StoreResult<Option<String>> {
        self.get(column).map_err(|_| column_error(column))
    }
    fn int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.get(column).map_err(|_| column_error(column))
    }
    fn blob(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
        self.get(column).map_err(|_| column_error(column))
    }
}

/// Decode errors can quote the value, so only the column is named.
fn column_error(column: &str) -> StoreError {
    StoreError::Other(format!("could not decode stored column {column}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some("database is locked".into()))
    }

    #[test]
    fn busy_and_locked_fall_back_to_the_pool_and_io_errors_are_unavailable() {
        assert!(matches!(classify(failure(ffi::SQLITE_BUSY)), Attempt::Busy));
        assert!(matches!(
            classify(failure(ffi::SQLITE_LOCKED)),
            Attempt::Busy
        ));
        assert!(matches!(
            classify(failure(ffi::SQLITE_IOERR)),
            Attempt::Done(Err(StoreError::Unavailable(_)))
        ));
        assert!(matches!(
            classify(failure(ffi::SQLITE_CORRUPT)),
            Attempt::Done(Err(StoreError::Other(_)))
        ));
    }
}
