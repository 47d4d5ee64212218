//! What an imported key's secret may look like, and what of it may be shown (PRODUCT.md §2,
//! "Imported keys"). Shared by the import, which checks each plaintext once, and the
//! verifier, which uses the same bounds to skip strings that no import can have made.

use crate::key_format;

/// Shortest secret an import accepts. Shorter ones are guessable online, and a display
/// prefix of a quarter of them would show almost nothing.
pub const MIN_SECRET_CHARS: usize = 8;
/// Longest secret an import accepts: far beyond any real key format, and it bounds what the
/// verifier hashes for a string that cannot be one.
pub const MAX_SECRET_BYTES: usize = 1024;
/// Characters of a plaintext secret shown as its display form, at most.
pub const DISPLAY_CHARS: usize = 8;
/// Longest `key_prefix` an import file may give for a row that has only the SHA-256: enough
/// for a prefix such as `sk_live_` and a few characters.
pub const MAX_GIVEN_PREFIX_CHARS: usize = 16;

/// Why a plaintext cannot be imported. The messages, said of the field `key`, name the
/// problem, never the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unimportable {
    Length,
    Characters,
    /// It parses as a keyward key: the verifier would never look it up as an imported one.
    KeywardKey,
}

impl Unimportable {
    pub fn message(self) -> String {
        match self {
            Unimportable::Length => {
                format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_BYTES} characters long")
            }
            Unimportable::Characters => "must not contain whitespace or control characters".into(),
            Unimportable::KeywardKey => "has the shape and checksum of a keyward key, so it \
                 would never be looked up as an imported one; mint a new key instead"
                .into(),
        }
    }
}

/// Whether `presented` could be an imported secret at all: the verifier's cheap test before
/// it hashes a string that is not a keyward key. No allocation, no store.
pub fn could_be_imported(presented: &str) -> bool {
    (MIN_SECRET_CHARS..=MAX_SECRET_BYTES).contains(&presented.len())
        && !presented
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
}

/// Checks a plaintext secret from an import file.
pub fn check_plaintext(secret: &str) -> Result<(), Unimportable> {
    if secret.len() > MAX_SECRET_BYTES || secret.chars().count() < MIN_SECRET_CHARS {
        return Err(Unimportable::Length);
    }
    if !could_be_imported(secret) {
        return Err(Unimportable::Characters);
    }
    if key_format::parse(secret).is_ok() {
        return Err(Unimportable::KeywardKey);
    }
    Ok(())
}

/// The display form of an imported plaintext: its first 8 characters, but never more than a
/// quarter of it, so a short secret does not lose most of its entropy to a listing.
pub fn display_prefix(secret: &str) -> String {
    let shown = DISPLAY_CHARS.min(secret.chars().count() / 4);
    secret.chars().take(shown).collect()
}

/// Checks a `key_prefix` given for a row that has only the SHA-256.
pub fn check_given_prefix(prefix: &str) -> Result<(), String> {
    if prefix.chars().count() > MAX_GIVEN_PREFIX_CHARS {
        return Err(format!(
            "key_prefix must be at most {MAX_GIVEN_PREFIX_CHARS} characters"
        ));
    }
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("key_prefix must not contain whitespace or control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_display_prefix_is_eight_characters_at_most_and_never_over_a_quarter() {
        assert_eq!(
            display_prefix("sat_live_0123456789abcdef0123456789"),
            "sat_live"
        );
        assert_eq!(
            display_prefix("abcdefghijklmnopqrstuvwxyz012345"),
            "abcdefgh"
        );
        assert_eq!(
            display_prefix("abcdefghijkl"),
            "abc",
            "12 characters show 3"
        );
        assert_eq!(display_prefix("abcdefgh"), "ab");
        assert_eq!(display_prefix("ééééééééééééé"), "ééé", "counts characters");
    }

    #[test]
    fn plaintexts_need_a_sane_length_no_spaces_and_not_keywards_own_shape() {
        assert_eq!(check_plaintext("short"), Err(Unimportable::Length));
        assert_eq!(
            check_plaintext(&"x".repeat(MAX_SECRET_BYTES + 1)),
            Err(Unimportable::Length)
        );
        assert_eq!(
            check_plaintext("has a space inside"),
            Err(Unimportable::Characters)
        );
        assert_eq!(
            check_plaintext("tab\there-and-more"),
            Err(Unimportable::Characters)
        );
        assert_eq!(check_plaintext("legacy-0123456789abcdef"), Ok(()));
        let prefix = key_format::KeyPrefix::parse("kw_").unwrap_or_else(|| panic!("prefix"));
        let native = key_format::generate(&prefix, key_format::KeyFormat::Base62);
        assert_eq!(
            check_plaintext(native.secret.expose_secret()),
            Err(Unimportable::KeywardKey)
        );
        for e in [
            Unimportable::Length,
            Unimportable::Characters,
            Unimportable::KeywardKey,
        ] {
            assert!(
                e.message().starts_with("must ") || e.message().starts_with("has "),
                "{}",
                e.message()
            );
        }
    }

    #[test]
    fn the_verifier_skips_what_no_import_can_have_made() {
        assert!(!could_be_imported(""));
        assert!(!could_be_imported("1234567"));
        assert!(!could_be_imported("not a key at all"));
        assert!(!could_be_imported(&"x".repeat(MAX_SECRET_BYTES + 1)));
        assert!(could_be_imported("legacy-0123456789abcdef"));
    }

    #[test]
    fn a_given_prefix_is_short_and_printable() {
        assert!(check_given_prefix("sat_").is_ok());
        assert!(check_given_prefix("").is_ok());
        assert!(check_given_prefix(&"x".repeat(17)).is_err());
        assert!(check_given_prefix("a b").is_err());
    }
}
