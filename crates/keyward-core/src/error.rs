//! The domain error: what the service layer can refuse, named by its wire code.
//!
//! Which error type belongs where: the store returns [`crate::store::StoreError`]; the service
//! and everything above it return [`Error`]; the HTTP layer turns an [`Error`] into the one
//! JSON envelope of PRODUCT.md §7 and never builds an error body by hand.

use crate::store::StoreError;

/// One field that failed validation, as listed in an error's `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    /// The body never says why: missing, unknown, revoked, expired or malformed look the same.
    #[error("authentication required")]
    Unauthorized { token_sent: bool },
    /// A log-in whose email or password is wrong; which of the two is never said.
    #[error("the email or password is not right")]
    LoginFailed,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InsufficientScope(String),
    #[error("verify your email address before managing API keys")]
    EmailUnverified,
    #[error("{0}")]
    PlanLimitReached(String),
    #[error("missing or invalid X-CSRF-Token header")]
    CsrfFailed,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    KeyLimitReached(String),
    #[error("{0}")]
    Conflict(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many attempts; retry after the number of seconds in Retry-After")]
    RateLimited { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable,
    /// A write that lost to concurrent ones more often than the service retries it; the
    /// client sees the same 503 as [`Error::Unavailable`], with a message that says why.
    #[error("the database was busy with conflicting writes; send the request again")]
    Contended,
    /// Logged with the request id; the client sees only `internal`.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn validation(field: &str, message: &str) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn scope(required: &str) -> Self {
        Error::InsufficientScope(format!("this action needs the scope {required}"))
    }

    /// The wire code of PRODUCT.md §7.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::Unauthorized { .. } | Error::LoginFailed => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::InsufficientScope(_) => "insufficient_scope",
            Error::EmailUnverified => "email_unverified",
            Error::PlanLimitReached(_) => "plan_limit_reached",
            Error::CsrfFailed => "csrf_failed",
            Error::NotFound => "not_found",
            Error::KeyLimitReached(_) => "key_limit_reached",
            Error::Conflict(_) => "conflict",
            Error::Validation(_) => "validation_failed",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable | Error::Contended => "service_unavailable",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Error::Unavailable,
            StoreError::Contended(_) => Error::Contended,
            StoreError::Conflict(what) => Error::Conflict(what),
            StoreError::Other(detail) => Error::Internal(detail),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
