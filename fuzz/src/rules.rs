//! PRODUCT.md's field rules for a key's `name`, `expires_at`, `scopes` and `metadata`,
//! written from the spec (§3, §7) rather than from `validate.rs`, as a partial model: each
//! rule says a value is valid, invalid, or that the model cannot tell (a scope such as
//! `apps:deploy:app-42` is left to the server). A target holds the server's 2xx or 422 to
//! whatever the model can tell.

use serde_json::Value;

use keyward_core::scope::MANAGEMENT_SCOPES;

use crate::app::PRODUCT_SCOPES;

/// What the model says of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    Unknown,
}

/// "name empty or over 100 characters after trimming, or holding control characters".
pub fn name(raw: &str) -> Verdict {
    let trimmed = raw.trim();
    let bad = trimmed.is_empty()
        || trimmed.chars().count() > 100
        || trimmed.chars().any(char::is_control);
    if bad {
        Verdict::Invalid
    } else {
        Verdict::Valid
    }
}

/// "`expires_at` in the past or not RFC 3339"; years stop at 9999. Times within a day of
/// now, or at the very end of 9999, are left to the server: the clock moves between the
/// model and the request.
pub fn expires_at(raw: &str) -> Verdict {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(raw) else {
        return Verdict::Invalid;
    };
    let at = at.to_utc();
    let now = chrono::Utc::now();
    let last = chrono::DateTime::from_timestamp(253_402_300_799 - 1, 0);
    if at < now - chrono::TimeDelta::days(1) {
        Verdict::Invalid
    } else if at > now + chrono::TimeDelta::days(1) && last.is_some_and(|last| at < last) {
        Verdict::Valid
    } else {
        Verdict::Unknown
    }
}

/// Whether a key with this accepted expiry may already have expired by the time its answer
/// is read: an expiry the model could not call valid, because it is within a day of now.
pub fn may_have_expired(expiry: Option<&str>) -> bool {
    expiry.is_some_and(|raw| expires_at(raw) == Verdict::Unknown)
}

/// A list of scopes: at least one, each in the catalog. The model knows `*`, the catalog's
/// own scopes, and strings that cannot be scopes at all (empty, or with whitespace or
/// control characters); anything else (families, per-resource grants) is the server's.
pub fn scopes(raw: &[String]) -> Verdict {
    if raw.is_empty() {
        return Verdict::Invalid;
    }
    let mut verdict = Verdict::Valid;
    for s in raw {
        let known = s == "*"
            || PRODUCT_SCOPES.contains(&s.as_str())
            || MANAGEMENT_SCOPES.contains(&s.as_str());
        let impossible = s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control());
        if impossible {
            return Verdict::Invalid;
        }
        if !known {
            verdict = Verdict::Unknown;
        }
    }
    verdict
}

/// "metadata over 4 KiB or not an object", 4 KiB being the object written as compact JSON.
pub fn metadata(raw: &Value) -> Verdict {
    match raw {
        Value::Object(map) => match serde_json::to_vec(map) {
            Ok(bytes) if bytes.len() <= 4096 => Verdict::Valid,
            _ => Verdict::Invalid,
        },
        _ => Verdict::Invalid,
    }
}

/// The scopes a created or edited key keeps: the list sent, normalised, or `*` (what the
/// owner who sends every fuzzed request holds, and what the canary key starts with).
pub fn kept_scopes(sent: Option<&[String]>) -> Vec<String> {
    sent.map_or_else(|| vec!["*".to_owned()], normalized)
}

/// The scope set the server keeps for a list it accepted: sorted, without duplicates, and
/// just `*` when `*` is in it.
pub fn normalized(raw: &[String]) -> Vec<String> {
    if raw.iter().any(|s| s == "*") {
        return vec!["*".into()];
    }
    let mut out = raw.to_vec();
    out.sort();
    out.dedup();
    out
}

/// PRODUCT.md §3's matching rule, the plain way: `*`, or the held scope's `:`-separated
/// parts are a prefix of the required scope's parts.
pub fn grants(held: &[String], required: &str) -> bool {
    let req: Vec<&str> = required.split(':').collect();
    held.iter().any(|h| {
        let parts: Vec<&str> = h.split(':').collect();
        h == "*" || (parts.len() <= req.len() && parts[..] == req[..parts.len()])
    })
}

/// The fields the model finds invalid, and whether it can tell about every field.
#[derive(Debug, Default)]
pub struct Expectation {
    pub invalid: Vec<&'static str>,
    pub unknown: bool,
}

/// The key fields of a body as sent, each `None` when the body leaves it out.
#[derive(Debug, Default)]
pub struct Sent<'a> {
    pub name: Option<&'a str>,
    pub expires_at: Option<&'a str>,
    pub scopes: Option<&'a [String]>,
    pub metadata: Option<&'a Value>,
}

impl Expectation {
    /// What the model says of every field that was sent.
    pub fn of(sent: Sent<'_>) -> Self {
        let mut expect = Expectation::default();
        if let Some(raw) = sent.name {
            expect.add("name", name(raw));
        }
        if let Some(raw) = sent.expires_at {
            expect.add("expires_at", expires_at(raw));
        }
        if let Some(raw) = sent.scopes {
            expect.add("scopes", scopes(raw));
        }
        if let Some(raw) = sent.metadata {
            expect.add("metadata", metadata(raw));
        }
        expect
    }

    fn add(&mut self, field: &'static str, verdict: Verdict) {
        match verdict {
            Verdict::Valid => {}
            Verdict::Invalid => self.invalid.push(field),
            Verdict::Unknown => self.unknown = true,
        }
    }

    /// Whether the model says the whole body is valid.
    pub fn valid(&self) -> bool {
        self.invalid.is_empty() && !self.unknown
    }
}
