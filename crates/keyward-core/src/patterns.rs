//! The input rules of [`crate::validate`], [`crate::key_format`] and the scope catalog as
//! regular expressions, for the OpenAPI document: a field's schema then says exactly which
//! strings its parser takes, so a client (or a fuzzer) reading the document learns the rule
//! without trying it. The tests below hold each pattern to its parser.
//!
//! The patterns use only what ECMA-262 (the dialect JSON Schema names), Python's `re` and
//! the `regex` crate read alike: explicit character classes with `\xHH` and `\uHHHH`
//! escapes, no `\s` (each engine means a different set by it) and no look-around.

use crate::scope::Catalog;
use crate::validate::MAX_NAME_CHARS;

/// What `char::is_whitespace` matches (Unicode `White_Space`): what `str::trim` strips.
const WHITESPACE: &str =
    r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// What `char::is_control` matches (general category `Cc`).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// The core of a name after trimming: 1–100 characters, none a control character, the first
/// and last not whitespace (trimming took those).
fn trimmed_name() -> String {
    let (ws, cc) = (WHITESPACE, CONTROL);
    let inner = MAX_NAME_CHARS - 2;
    format!("[^{ws}{cc}](?:[^{cc}]{{0,{inner}}}[^{ws}{cc}])?")
}

/// [`crate::validate::name`]: a display name, trimmed, then 1–100 characters without
/// control characters. Whitespace around it is allowed, since it is trimmed away.
pub fn name() -> String {
    let ws = WHITESPACE;
    format!("^[{ws}]*{}[{ws}]*$", trimmed_name())
}

/// A name that may also be blank, which means "the default" (sign-up's `workspace_name`).
pub fn name_or_blank() -> String {
    let ws = WHITESPACE;
    format!("^[{ws}]*(?:{}[{ws}]*)?$", trimmed_name())
}

/// [`crate::validate::email`]'s shape, around the trimming it does: a local part of words
/// of ASCII letters, digits and `` !#$%&'*+/=?^_`{|}~- `` joined by single dots, an `@`, and a
/// domain of at least two labels of letters, digits and inner hyphens, 1–63 characters
/// each. (Its length limits, 64 bytes before the `@` and 254 in all, count bytes, which a
/// pattern cannot.)
pub fn email() -> String {
    let ws = WHITESPACE;
    // A hyphen last in a class is itself in every dialect, with no escape to disagree on.
    let word = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
    let label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    format!("^[{ws}]*{word}(?:\\.{word})*@{label}(?:\\.{label})+[{ws}]*$")
}

/// [`crate::key_format::KeyPrefix::parse_for_workspace`]:
/// `^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$`, except the service tokens' `kwsvc_`. The
/// first word is spelled out as "any word but `kwsvc`" for want of look-ahead.
pub const WORKSPACE_KEY_PREFIX: &str = concat!(
    "^(?:[a-z][a-z0-9]{0,3}|[a-z][a-z0-9]{5,15}",
    "|[a-jl-z][a-z0-9]{4}|k[a-vx-z0-9][a-z0-9]{3}|kw[a-rt-z0-9][a-z0-9]{2}",
    "|kws[a-uw-z0-9][a-z0-9]|kwsv[abd-z0-9])",
    "_(?:[a-z0-9]{1,8}_)?$"
);

/// The shape of a page cursor: URL-safe base64 without padding. Only the server makes
/// them, so a string of this shape may still not be one (`400`).
pub const CURSOR: &str = "^[A-Za-z0-9_-]+$";

/// [`crate::scope::Scope::parse`]'s limit, which is also the pattern's: every character a
/// scope may hold is ASCII, so bytes and characters count alike.
pub const MAX_SCOPE_CHARS: usize = 128;

/// A scope a key may hold on this server ([`Catalog::admits`]): `*`, a catalog scope, a
/// family prefix of one (`apps` for `apps:deploy`), or a per-resource extension of one
/// (`apps:deploy:app-42`).
pub fn key_scope(catalog: &Catalog) -> String {
    let scopes: Vec<&str> = catalog.all().collect();
    format!("^(?:\\*|{})$", family(&scopes))
}

/// A scope a membership may be narrowed to: as [`key_scope`], over the product scopes only
/// (`*` and keyward's management scopes are not product scopes). `None` when the catalog
/// has no product scopes: then no membership scope exists.
pub fn product_scope(catalog: &Catalog) -> Option<String> {
    let scopes: Vec<&str> = catalog
        .product_scopes()
        .iter()
        .map(String::as_str)
        .collect();
    (!scopes.is_empty()).then(|| format!("^(?:{})$", family(&scopes)))
}

/// The alternatives that admit `scopes`: each scope's `:`-boundary prefixes, and each scope
/// followed by further parts.
fn family(scopes: &[&str]) -> String {
    let mut prefixes: Vec<String> = scopes
        .iter()
        .flat_map(|s| s.match_indices(':').map(|(at, _)| s[..at].to_owned()))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let mut alternatives: Vec<String> = prefixes.iter().map(|p| escape(p)).collect();
    alternatives.extend(
        scopes
            .iter()
            .map(|s| format!("{}(?::[A-Za-z0-9_.-]+)*", escape(s))),
    );
    alternatives.join("|")
}

/// Escapes what a scope can hold that a pattern reads specially: only `.`, since a scope
/// is made of letters, digits, `_`, `-`, `.` and `:`.
fn escape(scope: &str) -> String {
    scope.replace('.', "\\.")
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use regex::Regex;

    use super::*;
    use crate::key_format::KeyPrefix;
    use crate::scope::Scope;
    use crate::validate;

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"))
    }

    // Compiled once: the name pattern's bounded repetition of large classes is slow to build.
    static NAME: LazyLock<Regex> = LazyLock::new(|| re(&name()));
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| re(&email()));
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| re(WORKSPACE_KEY_PREFIX));
    static KEY_SCOPE: LazyLock<Regex> = LazyLock::new(|| re(&key_scope(&catalog())));
    static PRODUCT_SCOPE: LazyLock<Regex> =
        LazyLock::new(|| re(&product_scope(&catalog()).unwrap_or_default()));

    /// Characters that sit on every edge of the rules: whitespace that is and is not a
    /// control character, other controls, `@`, `.`, and ordinary letters.
    fn tricky_text(max: usize) -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            4 => prop::sample::select(vec!['a', 'Z', '7', 'é', '字', '-', '_', '+', '"', '\u{212a}']),
            2 => prop::sample::select(vec![' ', '\t', '\n', '\u{0b}', '\u{85}', '\u{a0}', '\u{3000}', '\u{2028}']),
            1 => prop::sample::select(vec!['\0', '\u{7}', '\u{1f}', '\u{7f}', '\u{9f}', '\u{feff}']),
            2 => prop::sample::select(vec!['@', '.']),
        ];
        prop::collection::vec(chars, 0..max).prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_500))]

        #[test]
        fn the_name_pattern_accepts_exactly_what_validate_name_does(raw in tricky_text(110)) {
            prop_assert_eq!(NAME.is_match(&raw), validate::name("n", &raw).is_ok(), "{:?}", raw);
        }

        #[test]
        fn the_name_pattern_counts_to_100_after_trimming_as_validate_name_does(
            raw in "[ \\t\\x{a0}]{0,3}[a-zé ]{97,103}[ \\n\\x{3000}]{0,3}"
        ) {
            prop_assert_eq!(NAME.is_match(&raw), validate::name("n", &raw).is_ok(), "{:?}", raw);
        }

        #[test]
        fn the_email_pattern_agrees_with_validate_email_on_short_addresses(raw in tricky_text(40)) {
            prop_assert_eq!(EMAIL.is_match(&raw), validate::email("e", &raw).is_ok(), "{:?}", raw);
        }

        #[test]
        fn the_email_pattern_agrees_with_validate_email_near_valid_addresses(
            raw in "[ \\t]{0,2}[a-zA-Z0-9.+_\"!é-]{0,6}@[a-zA-Z0-9_é.-]{0,8}(\\.[a-zA-Z0-9-]{0,4}){0,2}[ ]{0,2}"
        ) {
            prop_assert_eq!(EMAIL.is_match(&raw), validate::email("e", &raw).is_ok(), "{:?}", raw);
        }

        #[test]
        fn the_workspace_prefix_pattern_agrees_with_the_prefix_parser(
            raw in "(kwsvc|kw|[a-z0-9]{0,17})_([a-z0-9kwsvc]{0,9}_)?|[a-zK_]{0,8}"
        ) {
            prop_assert_eq!(
                PREFIX.is_match(&raw),
                KeyPrefix::parse_for_workspace(&raw).is_some(),
                "{:?}", raw
            );
        }

        #[test]
        fn the_scope_patterns_admit_exactly_what_the_catalog_does(
            raw in "\\*|(apps|billing|api_keys|audit|x)(:(read|deploy|write|v1\\.2|v1x2|app-4\\.2|Q|))?(:(read|x|))?",
        ) {
            let catalog = catalog();
            let admitted = Scope::parse(&raw).is_some_and(|s| catalog.admits(&s));
            prop_assert_eq!(KEY_SCOPE.is_match(&raw), admitted, "{:?}", raw);
            // The membership rule of `Service::add_member`: an admitted scope, not `*`, that
            // a product scope grants or that grants one.
            let product = catalog.product_set();
            let as_member = Scope::parse(&raw).is_some_and(|s| {
                catalog.admits(&s)
                    && !s.is_wildcard()
                    && (product.grants(s.as_str()) || product.iter().any(|c| s.grants(c.as_str())))
            });
            prop_assert_eq!(PRODUCT_SCOPE.is_match(&raw), as_member, "{:?}", raw);
        }
    }

    fn catalog() -> Catalog {
        Catalog::new(vec![
            "apps:read".into(),
            "apps:deploy".into(),
            "billing:v1.2".into(),
        ])
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn names_around_the_edges() {
        let name = &*NAME;
        for ok in [
            "a",
            " ci-deploy ",
            "\tx\n",
            &"é".repeat(100),
            &format!(" {} ", "x".repeat(100)),
            "a b",
        ] {
            assert!(name.is_match(ok), "{ok:?}");
        }
        for bad in [
            "",
            "   ",
            &"x".repeat(101),
            "bad\u{7}bell",
            "a\tb",
            "\u{85}",
        ] {
            assert!(!name.is_match(bad), "{bad:?}");
        }
        let blank = re(&name_or_blank());
        assert!(blank.is_match("") && blank.is_match("  ") && blank.is_match(" Acme "));
        assert!(!blank.is_match("a\u{0}b"));
    }

    #[test]
    fn a_scope_longer_than_the_limit_is_no_scope() {
        let long = format!("apps:read:{}", "x".repeat(MAX_SCOPE_CHARS));
        assert!(Scope::parse(&long).is_none());
        assert!(Scope::parse(&long[..MAX_SCOPE_CHARS]).is_some());
    }

    #[test]
    fn no_product_scopes_means_no_membership_scope() {
        let empty = Catalog::new(vec![]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(product_scope(&empty), None);
        assert!(re(&key_scope(&empty)).is_match("api_keys:read"));
    }

    #[test]
    fn cursors_are_url_safe_base64() {
        let cursor = re(CURSOR);
        assert!(cursor.is_match("MTcxMjM0NTY3ODkwMS4wMTkw-_"));
        assert!(!cursor.is_match("") && !cursor.is_match("a+b") && !cursor.is_match("ab=="));
    }
}
