//! Turns sqlx errors into [`StoreError`] without leaking secrets or row values.
//!
//! Error strings end up in logs, so they name a constraint or an error class and never
//! carry a bound parameter, a hash or a decoded value.

use keyward_core::store::StoreError;
use sqlx::error::ErrorKind;

/// SQLite primary result codes that mean "the database cannot be used right now" rather
/// than "this statement is wrong": callers fail closed with 503 on these.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;

pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => map_database_error(db.as_ref()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".into()),
        sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("the SQLite worker thread stopped".into())
        }
        sqlx::Error::Io(io) => StoreError::Unavailable(format!("I/O error: {}", io.kind())),
        // Decode errors can quote the offending value, so only the column is named.
        sqlx::Error::ColumnDecode { index, .. } => {
            StoreError::Other(format!("could not decode stored column {index}"))
        }
        sqlx::Error::Decode(_) => StoreError::Other("could not decode a stored value".into()),
        sqlx::Error::ColumnNotFound(column) => {
            StoreError::Other(format!("column {column} is missing"))
        }
        sqlx::Error::Migrate(e) => StoreError::Other(format!("migration failed: {e}")),
        sqlx::Error::Configuration(e) => {
            StoreError::Unavailable(format!("invalid database configuration: {e}"))
        }
        other => StoreError::Other(format!("database error: {}", kind_name(&other))),
    }
}

fn map_database_error(db: &dyn sqlx::error::DatabaseError) -> StoreError {
    // SQLite's messages name tables and columns, never values, so they are safe to keep.
    let message = db.message();
    match db.kind() {
        ErrorKind::UniqueViolation => StoreError::Conflict(conflict_name(message).into()),
        ErrorKind::ForeignKeyViolation => {
            StoreError::Other("a referenced row does not exist (foreign key)".into())
        }
        _ => {
            let code = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .unwrap_or_default();
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN => {
                    StoreError::Unavailable(format!("sqlite error {code}: {message}"))
                }
                _ => StoreError::Other(format!("sqlite error {code}: {message}")),
            }
        }
    }
}

/// Names the rule a unique violation broke, from the columns SQLite reports.
fn conflict_name(message: &str) -> &'static str {
    let columns = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or_default();
    match columns {
        "users.email" => "a user with this email already exists",
        "memberships.workspace_id, memberships.user_id" => {
            "the user is already a member of this workspace"
        }
        "api_keys.hash" => "an API key with this hash already exists",
        "api_keys.rotated_from" => "this key has already been rotated",
        "service_tokens.hash" => "a service token with this hash already exists",
        "service_tokens.name" => "a service token with this name already exists",
        "sessions.token_hash" => "a session with this token already exists",
        "pepper_fingerprint.id" => "a pepper fingerprint is already recorded",
        c if c.ends_with(".id") => "a row with this id already exists",
        _ => "a unique constraint refused the write",
    }
}

fn kind_name(err: &sqlx::Error) -> &'static str {
    match err {
        sqlx::Error::RowNotFound => "row not found",
        sqlx::Error::Protocol(_) => "protocol error",
        sqlx::Error::Tls(_) => "tls error",
        sqlx::Error::TypeNotFound { .. } => "type not found",
        sqlx::Error::ColumnIndexOutOfBounds { .. } => "column index out of bounds",
        sqlx::Error::AnyDriverError(_) => "driver error",
        sqlx::Error::InvalidArgument(_) => "invalid argument",
        sqlx::Error::BeginFailed => "could not begin a transaction",
        _ => "unexpected error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_the_rule_not_the_value() {
        assert_eq!(
            conflict_name("UNIQUE constraint failed: api_keys.rotated_from"),
            "this key has already been rotated"
        );
        assert_eq!(
            conflict_name(
                "UNIQUE constraint failed: memberships.workspace_id, memberships.user_id"
            ),
            "the user is already a member of this workspace"
        );
        assert_eq!(
            conflict_name("something else"),
            "a unique constraint refused the write"
        );
    }
}
