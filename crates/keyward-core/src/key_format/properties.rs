//! Property tests of the key format (PRODUCT.md §2): a key written from any valid prefix and
//! body parses back to exactly those parts, with the checksum the spec defines; every
//! single-character change of a key is refused by `parse`, before any hash or lookup; and
//! the byte-by-byte prefix check accepts exactly the documented regex.
//!
//! Why no single-character change can get past `parse`, so that none ever reaches the hash:
//! - a change that alters the string's byte length (any non-ASCII character: keys are
//!   ASCII), or puts a `_` into the body or checksum, or removes the prefix's last `_`,
//!   moves the prefix/body split or the length after it, which fixes the format: a shape
//!   error;
//! - a same-length change inside prefix or body alters one byte of the checksummed text, and
//!   CRC-32 detects every error burst of 32 bits or fewer: a checksum error;
//! - a change inside the checksum alters one digit of a positional number, whose value is
//!   then another number than the CRC (or it is not a digit: a shape error).

use proptest::prelude::*;

use super::*;

const CASES: u32 = 100_000;

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const LOWER_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `raw` read as characters of `alphabet`, one per byte.
fn spelled(alphabet: &[u8], raw: &[u8]) -> String {
    raw.iter()
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect()
}

/// Every prefix the spec's pattern allows, from `a_` to `abcdefghijklmnop_x1234567_`: a
/// letter, up to 15 letters or digits, `_`, and maybe a second word of 1 to 8 and `_`.
/// Built from byte arrays rather than from the regex: a regex strategy costs more than the
/// parse it feeds, a hundred thousand times over.
fn a_prefix() -> impl Strategy<Value = KeyPrefix> {
    (
        any::<u8>(),
        (0..=15usize, any::<[u8; 15]>()),
        proptest::option::of((1..=8usize, any::<[u8; 8]>())),
    )
        .prop_map(|(first, (len, rest), second)| {
            let mut raw = spelled(LOWER, &[first]);
            raw += &spelled(LOWER_DIGITS, &rest[..len]);
            raw.push('_');
            if let Some((len, word)) = second {
                raw += &spelled(LOWER_DIGITS, &word[..len]);
                raw.push('_');
            }
            KeyPrefix::parse(&raw).unwrap_or_else(|| panic!("the strategy made a bad prefix {raw}"))
        })
}

/// A format and a body of it.
fn a_body() -> impl Strategy<Value = (KeyFormat, String)> {
    (any::<bool>(), any::<[u8; HEX_BODY_LEN]>()).prop_map(|(hex, raw)| {
        let format = if hex {
            KeyFormat::Hex64
        } else {
            KeyFormat::Base62
        };
        let body = spelled(format.alphabet(), &raw[..format.body_len()]);
        (format, body)
    })
}

/// The checksum as PRODUCT.md §2 words it: the CRC32 of prefix plus body, as 6 base62
/// characters (most significant first, zero-padded), or as 8 lowercase hex characters.
fn spec_checksum(format: KeyFormat, prefix_and_body: &str) -> String {
    let crc = crc32fast::hash(prefix_and_body.as_bytes());
    match format {
        KeyFormat::Hex64 => format!("{crc:08x}"),
        KeyFormat::Base62 => {
            let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
            let mut n = u64::from(crc);
            let mut out = [b'0'; 6];
            for slot in out.iter_mut().rev() {
                *slot = digits[(n % 62) as usize];
                n /= 62;
            }
            String::from_utf8(out.to_vec()).unwrap_or_default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Written out from any valid prefix and body, a key is prefix, body and the spec's
    /// checksum, and parses back to exactly those parts.
    #[test]
    fn a_key_parses_back_to_the_prefix_body_and_format_it_was_written_from(
        prefix in a_prefix(),
        (format, body) in a_body(),
    ) {
        let key = assemble(&prefix, format, &body);
        let head = format!("{}{body}", prefix.as_str());
        prop_assert_eq!(&key, &format!("{head}{}", spec_checksum(format, &head)));
        let parsed = parse(&key);
        prop_assert!(parsed.is_ok(), "{} refused: {:?}", key, parsed);
        if let Ok(parsed) = parsed {
            prop_assert_eq!(
                (parsed.prefix, parsed.body, parsed.format),
                (prefix.as_str(), body.as_str(), format)
            );
        }
    }

    /// One character of a key replaced by any other character: `parse` refuses it, by the
    /// checksum when the change keeps the key's shape and as a shape error otherwise.
    #[test]
    fn every_single_character_change_of_a_key_is_refused(
        prefix in a_prefix(),
        (format, body) in a_body(),
        at in any::<prop::sample::Index>(),
        with in prop_oneof![
            any::<char>(),
            prop::sample::select(BASE62.iter().map(|&b| char::from(b)).collect::<Vec<_>>()),
            Just('_'),
        ],
    ) {
        let key = assemble(&prefix, format, &body);
        let mut chars: Vec<char> = key.chars().collect();
        let at = at.index(chars.len());
        // A "change" to the same character is no change: take another one instead.
        let with = match with {
            same if same == chars[at] && same == 'a' => 'b',
            same if same == chars[at] => 'a',
            other => other,
        };
        chars[at] = with;
        let changed: String = chars.into_iter().collect();
        prop_assert_eq!(
            parse(&changed).err(),
            Some(expected_refusal(&changed, prefix.as_str().len(), format, at, with)),
            "{} changed at {} to {:?}", key, at, with
        );
    }
}

/// Why `parse` must refuse a key whose character at `at` became `with`: the checksum, if
/// the change left a key of the same shape (same length, a valid prefix, digits of the
/// format after it), or else the shape.
fn expected_refusal(
    changed: &str,
    prefix_len: usize,
    format: KeyFormat,
    at: usize,
    with: char,
) -> Malformed {
    let shape_kept = with.is_ascii()
        && if at < prefix_len {
            valid_prefix(&changed[..prefix_len])
        } else {
            format.digit(with as u8).is_some()
        };
    if shape_kept {
        Malformed::Checksum
    } else {
        Malformed::Shape
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// A minted key parses back to its prefix and format, and its display form is the
    /// prefix and the body's first characters. Fewer cases than above: each mint asks the
    /// operating system for randomness once a character, and the writing it ends in is
    /// `assemble`, checked a hundred thousand times above.
    #[test]
    fn a_minted_key_parses_back_to_its_prefix_and_format(
        prefix in a_prefix(),
        hex in any::<bool>(),
    ) {
        let format = if hex { KeyFormat::Hex64 } else { KeyFormat::Base62 };
        let minted = generate(&prefix, format);
        let secret = minted.secret.expose_secret();
        let parsed = parse(secret);
        prop_assert!(parsed.is_ok(), "generated {} refused: {:?}", secret, parsed);
        if let Ok(parsed) = parsed {
            prop_assert_eq!((parsed.prefix, parsed.format), (prefix.as_str(), format));
            prop_assert_eq!(
                &minted.display_prefix,
                &format!("{}{}", prefix.as_str(), &parsed.body[..DISPLAY_BODY_LEN])
            );
            prop_assert_eq!(secret, &assemble(&prefix, format, parsed.body));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// The byte-by-byte check accepts exactly what the documented pattern does.
    #[test]
    fn the_prefix_check_agrees_with_the_documented_regex(
        raw in "[a-z0-9_A-Z-]{0,30}|([a-z0-9]{0,18}_){0,3}[a-zA-Z0-9_]{0,2}"
    ) {
        prop_assert_eq!(valid_prefix(&raw), PREFIX_RE.is_match(&raw), "{}", raw);
    }
}

/// The documented pattern, compiled once rather than once a case.
static PREFIX_RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$").unwrap_or_else(|e| panic!("{e}"))
});

/// The same, exhaustively for one key of each format: every position, every ASCII character
/// and a few multi-byte ones.
#[test]
fn every_single_character_change_fails_the_checksum_or_the_shape() {
    let prefix = KeyPrefix::parse("sk_live_").unwrap_or_else(|| panic!("prefix"));
    let replacements = (0u8..=127).map(char::from).chain(['é', '€', '😀', '\u{0}']);
    let replacements: Vec<char> = replacements.collect();
    for format in [KeyFormat::Base62, KeyFormat::Hex64] {
        let key = generate(&prefix, format);
        let key = key.secret.expose_secret();
        for (at, original) in key.char_indices() {
            for &with in &replacements {
                if with == original {
                    continue;
                }
                let mut changed = key.to_owned();
                changed.replace_range(at..at + 1, &with.to_string());
                let expected = expected_refusal(&changed, prefix.as_str().len(), format, at, with);
                assert_eq!(
                    parse(&changed).err(),
                    Some(expected),
                    "{format}: {with:?} at {at}"
                );
            }
        }
    }
}
