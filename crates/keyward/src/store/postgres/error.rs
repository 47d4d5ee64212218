//! Turns sqlx's PostgreSQL errors into [`StoreError`] without leaking secrets or row values.
//!
//! Error strings end up in logs, so they name a constraint, an SQLSTATE or an error class and
//! never carry a bound parameter, a hash or a decoded value. PostgreSQL puts values in an
//! error's DETAIL (`Key (hash)=(\x…) already exists`), which is never read here, and in the
//! message of some classes (data exceptions quote the input that failed to parse), whose
//! message is therefore dropped too.

use keyward_core::store::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};

pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => map_database_error(db.as_ref()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".into()),
        sqlx::Error::Io(io) => StoreError::Unavailable(format!("I/O error: {}", io.kind())),
        // A TLS handshake that fails means the server cannot be reached as configured.
        sqlx::Error::Tls(_) => StoreError::Unavailable("TLS error talking to the database".into()),
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

fn map_database_error(db: &dyn DatabaseError) -> StoreError {
    let code = db.code().unwrap_or_default();
    match db.kind() {
        ErrorKind::UniqueViolation => {
            return StoreError::Conflict(conflict_name(db.constraint()).into())
        }
        ErrorKind::ForeignKeyViolation => {
            return StoreError::Other("a referenced row does not exist (foreign key)".into())
        }
        ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
            // The constraint's name, never the failing row PostgreSQL puts in the detail.
            let rule = db.constraint().or(db.table()).unwrap_or("a constraint");
            return StoreError::Other(format!("postgres error {code}: {rule} refused the row"));
        }
        _ => {}
    }
    let text = match condition_name(&code) {
        Some(name) => format!("{name} ({code})"),
        None => format!("postgres error {code}"),
    };
    // Only classes whose messages name objects, never values, keep the message.
    let text = if quotes_no_values(&code) {
        format!("{text}: {}", db.message())
    } else {
        text
    };
    if contended(&code) {
        StoreError::Contended(text)
    } else if unavailable(&code) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Other(text)
    }
}

/// SQLSTATEs that mean "this transaction lost to a concurrent one and was rolled back": a
/// serialization failure or a deadlock. The service runs such a transaction again.
fn contended(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
}

/// SQLSTATEs that mean "the database cannot serve this right now" rather than "this
/// statement is wrong": callers fail closed with 503 on these.
fn unavailable(code: &str) -> bool {
    matches!(
        code,
        // lock_timeout, statement_timeout (or a cancel), idle_in_transaction_session_timeout.
        "55P03" | "57014" | "25P03"
        // The server is shutting down, crashed, or still starting.
        | "57P01" | "57P02" | "57P03"
        // A read-only transaction, as on a standby that a failover has not promoted yet.
        | "25006"
    ) || matches!(
        code.get(..2),
        // Connection exceptions, insufficient resources (too many connections, disk full,
        // out of memory), system errors (I/O), a missing database, failed authentication.
        Some("08" | "53" | "58" | "3D" | "28")
    )
}

/// SQLSTATE classes whose messages name objects (a table, a column, a role, a database) or a
/// condition, and never quote a value.
fn quotes_no_values(code: &str) -> bool {
    matches!(
        code.get(..2),
        Some("08" | "25" | "28" | "3D" | "40" | "42" | "53" | "55" | "57" | "58")
    )
}

fn condition_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "40001" => "serialization_failure",
        "40P01" => "deadlock_detected",
        "55P03" => "lock_not_available",
        "57014" => "query_canceled",
        "25P03" => "idle_in_transaction_session_timeout",
        "25006" => "read_only_sql_transaction",
        "57P01" => "admin_shutdown",
        "57P02" => "crash_shutdown",
        "57P03" => "cannot_connect_now",
        "3D000" => "invalid_catalog_name",
        "28P01" => "invalid_password",
        "53300" => "too_many_connections",
        "53100" => "disk_full",
        _ => return None,
    })
}

/// Names the rule a unique violation broke, from the constraint (or unique index) that
/// PostgreSQL reports; the wording is the SQLite backend's, so both backends tell a client
/// the same thing.
fn conflict_name(constraint: Option<&str>) -> &'static str {
    match constraint.unwrap_or_default() {
        "users_email_key" => "a user with this email already exists",
        "memberships_pkey" => "the user is already a member of this workspace",
        "api_keys_hash" => "an API key with this hash already exists",
        "api_keys_rotated_from" => "this key has already been rotated",
        "service_tokens_hash" => "a service token with this hash already exists",
        "service_tokens_name" => "a service token with this name already exists",
        "sessions_token_hash" => "a session with this token already exists",
        "pepper_fingerprint_pkey" => "a pepper fingerprint is already recorded",
        c if c.ends_with("_pkey") => "a row with this id already exists",
        _ => "a unique constraint refused the write",
    }
}

fn kind_name(err: &sqlx::Error) -> &'static str {
    match err {
        sqlx::Error::RowNotFound => "row not found",
        sqlx::Error::Protocol(_) => "protocol error",
        sqlx::Error::TypeNotFound { .. } => "type not found",
        sqlx::Error::ColumnIndexOutOfBounds { .. } => "column index out of bounds",
        sqlx::Error::AnyDriverError(_) => "driver error",
        sqlx::Error::InvalidArgument(_) => "invalid argument",
        sqlx::Error::BeginFailed => "could not begin a transaction",
        sqlx::Error::WorkerCrashed => "the connection's worker stopped",
        _ => "unexpected error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_the_rule_not_the_value() {
        assert_eq!(
            conflict_name(Some("api_keys_rotated_from")),
            "this key has already been rotated"
        );
        assert_eq!(
            conflict_name(Some("memberships_pkey")),
            "the user is already a member of this workspace"
        );
        assert_eq!(
            conflict_name(Some("invitations_pkey")),
            "a row with this id already exists"
        );
        assert_eq!(conflict_name(None), "a unique constraint refused the write");
    }

    #[test]
    fn lost_servers_are_unavailable_and_lost_races_contended() {
        for code in ["55P03", "57P01", "08006", "53300", "25006"] {
            assert!(unavailable(code) && !contended(code), "{code}");
        }
        for code in ["40001", "40P01"] {
            assert!(contended(code) && !unavailable(code), "{code}");
        }
        for code in ["23505", "22P02", "42703", "XX000"] {
            assert!(!unavailable(code) && !contended(code), "{code}");
        }
    }

    #[test]
    fn data_exceptions_lose_their_message() {
        // 22P02's message quotes the text that failed to parse.
        assert!(!quotes_no_values("22P02"));
        assert!(!quotes_no_values("23514"));
        assert!(quotes_no_values("40001"));
    }
}
