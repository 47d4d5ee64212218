//! Parsing of user input into domain values ("parse, don't validate").
//!
//! Each function returns the parsed value or a [`FieldError`] naming the field, so one request
//! can report every bad field at once through [`Fields`].

use chrono::DateTime;

use crate::error::{Error, FieldError};
use crate::model::{JsonObject, Timestamp};
use crate::scope::{Catalog, Scope, ScopeSet};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_METADATA_BYTES: usize = 4096;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Collects field errors while a request is parsed, then fails with all of them.
#[derive(Debug, Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the error and returns `None`.
    pub fn take<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

/// A display name (key, workspace or user): trimmed, 1–100 characters, no control characters.
pub fn name(field: &str, raw: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(field, "must be at most 100 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An RFC 3339 time that lies in the future.
pub fn future_time(field: &str, raw: &str, now: Timestamp) -> Result<Timestamp, FieldError> {
    let parsed = time(field, raw)?;
    if parsed <= now {
        return Err(FieldError::new(field, "must be in the future"));
    }
    Ok(parsed)
}

/// An RFC 3339 time with a four-digit year, to the millisecond like every stored time.
pub fn time(field: &str, raw: &str) -> Result<Timestamp, FieldError> {
    let parsed = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            FieldError::new(
                field,
                "must be an RFC 3339 timestamp, e.g. 2027-01-01T00:00:00Z",
            )
        })?
        .to_utc();
    if parsed > latest_time() {
        return Err(FieldError::new(field, "must be before the year 10000"));
    }
    Ok(DateTime::from_timestamp_millis(parsed.timestamp_millis()).unwrap_or(parsed))
}

/// The latest instant RFC 3339 can write (four-digit years); expiries are capped here.
pub fn latest_time() -> Timestamp {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<chrono::Utc>::MAX_UTC)
}

/// A JSON object of at most 4 KiB when serialized.
pub fn metadata(field: &str, raw: serde_json::Value) -> Result<JsonObject, FieldError> {
    let serde_json::Value::Object(map) = raw else {
        return Err(FieldError::new(field, "must be a JSON object"));
    };
    let size = serde_json::to_vec(&map)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(FieldError::new(field, "must be at most 4096 bytes as JSON"));
    }
    Ok(map)
}

/// A list of scopes, each well-formed and admitted by the catalog.
pub fn scopes(field: &str, raw: &[String], catalog: &Catalog) -> Result<ScopeSet, FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(
            field,
            "must list at least one scope, or [\"*\"] for full access",
        ));
    }
    let mut parsed = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let message = match Scope::parse(s) {
            Some(scope) if catalog.admits(&scope) => {
                parsed.push(scope);
                continue;
            }
            // Say where, never echo what: the item may be a pasted secret, and no error
            // repeats a client's input (PRODUCT.md §7).
            Some(_) => format!("item {i} is not in the scope catalog; see GET /api/v1/scopes"),
            None => format!("item {i} is not a scope; see GET /api/v1/scopes"),
        };
        return Err(FieldError::new(field, message));
    }
    Ok(ScopeSet::new(parsed))
}

/// An email address, lower-cased so that uniqueness is case-insensitive.
///
/// The shape is what mail servers take unquoted (RFC 5322's dot-atom) and the mailer checks
/// before it sends: a local part of up to 64 characters, words of letters, digits and
/// `` !#$%&'*+/=?^_`{|}~- `` joined by single dots; an `@`; and a domain of at least two labels
/// of letters, digits and inner hyphens, up to 63 characters each. ASCII only (an
/// internationalised domain is given in its `xn--` form). A looser rule let accounts be made
/// whose verification mail could never be sent.
pub fn email(field: &str, raw: &str) -> Result<String, FieldError> {
    let e = raw.trim();
    let valid = e.len() <= 254
        && match e.split_once('@') {
            Some((local, domain)) => email_local_part(local) && email_domain(domain),
            None => false,
        };
    if valid {
        Ok(e.to_ascii_lowercase())
    } else {
        Err(FieldError::new(field, "must be a valid email address"))
    }
}

fn email_local_part(local: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
    };
    local.len() <= 64 && local.split('.').all(word)
}

fn email_domain(domain: &str) -> bool {
    let label = |l: &str| {
        let b = l.as_bytes();
        (1..=63).contains(&b.len())
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    domain.contains('.') && domain.split('.').all(label)
}

pub fn password(field: &str, raw: &str) -> Result<(), FieldError> {
    if raw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(field, "must be at least 12 characters"));
    }
    if raw.len() > 1024 {
        return Err(FieldError::new(field, "must be at most 1024 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_be_1_to_100_chars_without_control_characters() {
        assert_eq!(
            name("name", "  ci-deploy  ").ok().as_deref(),
            Some("ci-deploy")
        );
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(100)).is_ok());
        assert!(name("name", &"x".repeat(101)).is_err());
        assert!(
            name("name", &format!(" {} ", "é".repeat(100))).is_ok(),
            "counts characters, not bytes"
        );
        assert!(name("name", "bad\u{7}bell").is_err());
    }

    #[test]
    fn expiry_must_be_rfc3339_and_in_the_future() {
        let now = crate::model::now();
        assert!(future_time("expires_at", "2999-01-01T00:00:00Z", now).is_ok());
        assert!(future_time("expires_at", "2000-01-01T00:00:00Z", now).is_err());
        assert!(future_time("expires_at", "next tuesday", now).is_err());
        assert!(future_time("expires_at", "2999-01-01", now).is_err());
        assert!(future_time("expires_at", "9999-12-31T23:59:59Z", now).is_ok());
        assert!(future_time("expires_at", "+10000-01-01T00:00:00Z", now).is_err());
    }

    #[test]
    fn metadata_must_be_an_object_of_at_most_4_kib() {
        assert!(metadata("metadata", serde_json::json!({"team": "payments"})).is_ok());
        assert!(metadata("metadata", serde_json::json!(["not", "an", "object"])).is_err());
        assert!(metadata("metadata", serde_json::json!({"big": "x".repeat(4096)})).is_err());
    }

    #[test]
    fn a_bad_scope_is_named_by_its_position_never_by_its_value() {
        let catalog = Catalog::new(vec!["apps:read".into()]).unwrap_or_else(|e| panic!("{e}"));
        for bad in ["zqx:read", "ZQX secret"] {
            let raw = vec!["apps:read".to_owned(), bad.to_owned()];
            let err = scopes("scopes", &raw, &catalog).err();
            let message = err.map(|e| e.message).unwrap_or_default();
            assert!(message.starts_with("item 1 "), "{message}");
            assert!(!message.to_lowercase().contains("zqx"), "{message}");
        }
    }

    #[test]
    fn emails_are_case_insensitive_and_checked_for_shape() {
        assert_eq!(
            email("email", " Ada@Example.COM ").ok().as_deref(),
            Some("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            // Outside the shape the mailer takes: quoting, brackets, commas, non-ASCII,
            // empty labels and labels that start or end with a hyphen.
            "\"ada\"@example.com",
            "a<b@example.com",
            "a,b@example.com",
            "ad\u{e9}@example.com",
            "ada@ex\u{e4}mple.com",
            "ada@example..com",
            "ada@-example.com",
            "ada@example-.com",
            "ada@exa_mple.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_take_every_character_of_an_unquoted_local_part() {
        let local = "a.b!#$%&'*+/=?^_`{|}~-9";
        assert_eq!(
            email("email", &format!("{local}@mail-1.example.com")),
            Ok(format!("{local}@mail-1.example.com"))
        );
        assert!(email("email", &format!("a@{}.com", "x".repeat(63))).is_ok());
        assert!(email("email", &format!("a@{}.com", "x".repeat(64))).is_err());
        assert!(email("email", &format!("{}@example.com", "x".repeat(64))).is_ok());
        assert!(email("email", &format!("{}@example.com", "x".repeat(65))).is_err());
        for dots in [".ada@example.com", "ada.@example.com", "a..da@example.com"] {
            assert!(email("email", dots).is_err(), "{dots}");
        }
        // The Kelvin sign lower-cases to an ASCII k; it is not ASCII, so it is refused.
        assert!(email("email", "\u{212a}@example.com").is_err());
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(password("password", "elevenchars").is_err());
        assert!(password("password", "twelve chars").is_ok());
    }
}
