//! Scopes, the catalog, and the matching rule of PRODUCT.md §3.
//!
//! A held scope grants a required one when it is `*`, equal to it, or a prefix of it that ends
//! on a `:` boundary. Matching is pure and tested with tables.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// The management scopes keyward adds to every operator's catalog.
pub const MANAGEMENT_SCOPES: [&str; 7] = [
    "api_keys:read",
    "api_keys:write",
    "members:read",
    "members:write",
    "workspace:read",
    "workspace:write",
    "audit:read",
];

/// What every member holds, whatever its membership's product scopes.
pub const MEMBER_BASE_SCOPES: [&str; 4] = [
    "api_keys:read",
    "members:read",
    "workspace:read",
    "audit:read",
];

pub const WILDCARD: &str = "*";

static SCOPE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9_\-]+(:[A-Za-z0-9_\-.]+)*$").ok());

/// The matching rule on plain strings: `held` grants `required` when it is `*`, equal to it,
/// or a prefix of it ending on a `:` boundary.
pub fn held_grants(held: &str, required: &str) -> bool {
    held == WILDCARD
        || held == required
        || (required.len() > held.len()
            && required.starts_with(held)
            && required.as_bytes()[held.len()] == b':')
}

/// One scope string, e.g. `apps:deploy` or `apps:deploy:app-42`, or the wildcard `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    /// Parses the syntax only; whether the catalog knows the scope is [`Catalog::admits`].
    pub fn parse(raw: &str) -> Option<Self> {
        if raw == WILDCARD {
            return Some(Self(raw.to_owned()));
        }
        let re = SCOPE_RE.as_ref()?;
        (raw.len() <= 128 && re.is_match(raw)).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_wildcard(&self) -> bool {
        self.0 == WILDCARD
    }

    /// Whether holding `self` grants `required`.
    pub fn grants(&self, required: &str) -> bool {
        held_grants(&self.0, required)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A list of held scopes. `["*"]` is full access.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn full() -> Self {
        Self(vec![Scope(WILDCARD.to_owned())])
    }

    /// Builds a set, dropping duplicates and keeping a stable sorted order for display.
    pub fn new(mut scopes: Vec<Scope>) -> Self {
        scopes.sort();
        scopes.dedup();
        if scopes.iter().any(Scope::is_wildcard) {
            return Self::full();
        }
        Self(scopes)
    }

    /// Builds a set from strings already known to be valid scopes (constants, stored rows).
    pub fn from_trusted<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(scopes.into_iter().map(|s| Scope(s.into())).collect())
    }

    pub fn is_full(&self) -> bool {
        self.0.iter().any(Scope::is_wildcard)
    }

    pub fn grants(&self, required: &str) -> bool {
        self.0.iter().any(|held| held.grants(required))
    }

    /// Whether every scope in `requested` is granted by this set. `*` is granted only by `*`.
    pub fn covers(&self, requested: &ScopeSet) -> bool {
        requested.0.iter().all(|r| {
            if r.is_wildcard() {
                self.is_full()
            } else {
                self.grants(r.as_str())
            }
        })
    }

    /// Exactly what both sets grant (PRODUCT.md §3, "Intersection is exact"): a scope is
    /// granted by the result if and only if both sets grant it. A family scope narrows to
    /// the members of it the other set holds, so `["apps"]` against `apps:read` and
    /// `apps:deploy` gives those two, never nothing.
    ///
    /// Why this is exact: two held scopes that both grant some required scope are both
    /// prefixes of it on `:` boundaries, so one of them grants the other, and the narrower of
    /// the two is kept below.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        if self.is_full() {
            return other.clone().minimal();
        }
        if other.is_full() {
            return self.clone().minimal();
        }
        let from_self = self.0.iter().filter(|s| other.grants(s.as_str()));
        let from_other = other.0.iter().filter(|s| self.grants(s.as_str()));
        Self::new(from_self.chain(from_other).cloned().collect()).minimal()
    }

    /// The same set without the entries another entry already grants (`apps:read` next to
    /// `apps`), so that an intersection reads as the shortest list that says it.
    fn minimal(self) -> ScopeSet {
        let kept = self
            .0
            .iter()
            .filter(|s| !self.0.iter().any(|o| o != *s && o.grants(s.as_str())))
            .cloned()
            .collect();
        Self(kept)
    }

    /// The set without one exact scope. Only for scopes no other entry can grant (a
    /// member's `api_keys:write`: the catalog keeps product scopes out of the management
    /// families, and a member never holds `*`).
    pub fn without(&self, scope: &str) -> ScopeSet {
        Self(
            self.0
                .iter()
                .filter(|s| s.as_str() != scope)
                .cloned()
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn as_strings(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The operator's product scopes plus keyward's management scopes.
#[derive(Debug, Clone)]
pub struct Catalog {
    product: Vec<String>,
}

impl Catalog {
    /// `product` comes from config; invalid entries are reported to the caller, not dropped.
    pub fn new(product: Vec<String>) -> Result<Self, String> {
        for s in &product {
            let Some(scope) = Scope::parse(s).filter(|p| !p.is_wildcard()) else {
                return Err(format!(
                    "invalid scope {s:?} in `scopes`: use lowercase words joined by ':'"
                ));
            };
            // A product scope such as `api_keys` or `members:write:x` would grant or hide
            // inside keyward's own management scopes, and a member could then hold
            // `api_keys:write` through its product scopes instead of the workspace policy.
            let overlaps = MANAGEMENT_SCOPES
                .iter()
                .any(|m| *m != s.as_str() && (scope.grants(m) || Scope((*m).to_owned()).grants(s)));
            if overlaps {
                return Err(format!(
                    "scope {s:?} in `scopes` overlaps keyward's management scopes ({}); pick another name",
                    MANAGEMENT_SCOPES.join(", ")
                ));
            }
        }
        let mut product: Vec<String> = product
            .into_iter()
            .filter(|s| !MANAGEMENT_SCOPES.contains(&s.as_str()))
            .collect();
        product.sort();
        product.dedup();
        Ok(Self { product })
    }

    pub fn product_scopes(&self) -> &[String] {
        &self.product
    }

    /// The product scopes as a set, to intersect with or match against.
    pub fn product_set(&self) -> ScopeSet {
        ScopeSet::from_trusted(self.product.iter().cloned())
    }

    /// Every scope in the catalog: product scopes first, then management scopes.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.product
            .iter()
            .map(String::as_str)
            .chain(MANAGEMENT_SCOPES.iter().copied())
    }

    /// Whether `scope` may be granted: `*`, a catalog scope, a per-resource extension of one
    /// (`apps:deploy:app-42`), or a family prefix of some (`apps` for `apps:deploy`).
    pub fn admits(&self, scope: &Scope) -> bool {
        if scope.is_wildcard() {
            return true;
        }
        let s = scope.as_str();
        self.all()
            .any(|c| Scope(c.to_owned()).grants(s) || scope.grants(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap_or_else(|| panic!("bad test scope {s}"))
    }

    #[test]
    fn matching_is_wildcard_equality_or_a_prefix_on_a_colon_boundary() {
        let cases = [
            ("*", "apps:deploy", true),
            ("*", "anything:at:all", true),
            ("apps:deploy", "apps:deploy", true),
            ("apps", "apps:deploy", true),
            ("apps:deploy", "apps:deploy:app-42", true),
            ("apps", "apps:deploy:app-42", true),
            ("apps:deploy:app-42", "apps:deploy", false),
            ("apps:deploy", "apps:read", false),
            ("app", "apps:deploy", false),
            ("apps:dep", "apps:deploy", false),
            ("apps:deploy", "apps", false),
            ("billing:read", "apps:read", false),
        ];
        for (held, required, expected) in cases {
            assert_eq!(
                scope(held).grants(required),
                expected,
                "{held} grants {required}?"
            );
        }
    }

    #[test]
    fn full_access_grants_scopes_the_catalog_does_not_have_yet() {
        assert!(ScopeSet::full().grants("reports:export"));
        let custom = ScopeSet::new(vec![scope("apps:read")]);
        assert!(!custom.grants("reports:export"));
    }

    #[test]
    fn wildcard_is_covered_only_by_wildcard() {
        let everything_listed = ScopeSet::new(vec![scope("apps"), scope("billing")]);
        assert!(!everything_listed.covers(&ScopeSet::full()));
        assert!(ScopeSet::full().covers(&ScopeSet::full()));
        assert!(everything_listed.covers(&ScopeSet::new(vec![scope("apps:deploy:app-1")])));
    }

    #[test]
    fn a_set_with_the_wildcard_collapses_to_full_access() {
        let set = ScopeSet::new(vec![scope("apps:read"), scope("*")]);
        assert_eq!(set, ScopeSet::full());
        assert!(set.is_full());
    }

    #[test]
    fn the_catalog_admits_its_scopes_their_families_and_per_resource_grants() {
        let catalog = Catalog::new(vec!["apps:read".into(), "apps:deploy".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        for ok in [
            "*",
            "apps:read",
            "apps",
            "apps:deploy:app-42",
            "api_keys:read",
            "audit:read",
        ] {
            assert!(catalog.admits(&scope(ok)), "{ok}");
        }
        for bad in ["billing:read", "app", "apps:write", "audit:write"] {
            assert!(!catalog.admits(&scope(bad)), "{bad}");
        }
    }

    #[test]
    fn product_scopes_may_not_overlap_keywards_management_scopes() {
        for bad in ["api_keys", "members:write:x", "audit"] {
            let err = Catalog::new(vec![bad.into()]).err();
            assert!(err.is_some_and(|e| e.contains("management")), "{bad}");
        }
        let ok = Catalog::new(vec!["api_keys:read".into(), "apps".into()]);
        assert!(
            ok.is_ok_and(|c| c.product_scopes() == ["apps"]),
            "a management scope listed by name is simply not a product scope"
        );
    }

    #[test]
    fn scope_syntax_rejects_spaces_and_empty_parts() {
        for bad in [
            "",
            "apps:",
            ":apps",
            "apps::read",
            "Apps:read",
            "apps read",
            "*:read",
        ] {
            assert!(Scope::parse(bad).is_none(), "{bad}");
        }
    }
}

#[cfg(test)]
mod intersection_properties;
#[cfg(test)]
mod matching_properties;
#[cfg(test)]
mod reference;
