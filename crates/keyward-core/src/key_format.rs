//! The key formats (PRODUCT.md §2): `<prefix><32 base62 body><6 base62 CRC32 checksum>`, or,
//! for systems that documented hex keys, `<prefix><56 hex body><8 hex CRC32 checksum>`.
//!
//! The checksum lets the verifier reject typos and random strings without touching the store
//! or the cache, so garbage costs a CRC, not a database round trip. The two shapes differ in
//! length (38 and 64 characters after the prefix), so a presented string parses one way only.

use rand::Rng;

use crate::secret::SecretString;

/// Length of the random body: 32 base62 characters are about 190 bits from the CSPRNG.
pub const BODY_LEN: usize = 32;
/// Length of the checksum: CRC32 (< 2^32) always fits in 6 base62 digits (62^6 > 5.6e10).
pub const CHECKSUM_LEN: usize = 6;
/// Length of a `hex64` body: 56 lowercase hex characters, 224 bits from the CSPRNG.
pub const HEX_BODY_LEN: usize = 56;
/// Length of a `hex64` checksum: the CRC32 as 8 lowercase hex characters, so that body and
/// checksum together read as the 64 hex characters such systems documented.
pub const HEX_CHECKSUM_LEN: usize = 8;
/// Characters of the body shown in the display form (`key_prefix`).
pub const DISPLAY_BODY_LEN: usize = 8;
/// The prefix of service tokens. Never change it: tokens already issued carry it.
pub const SERVICE_TOKEN_PREFIX: &str = "kwsvc_";

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The shape of a workspace's new keys. Changing it affects new keys only: both shapes parse
/// whatever the setting is now.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum KeyFormat {
    /// 32 base62 characters and a 6-character base62 checksum.
    #[default]
    Base62,
    /// 56 lowercase hex characters and an 8-character hex checksum: 64 hex characters.
    Hex64,
}

impl KeyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFormat::Base62 => "base62",
            KeyFormat::Hex64 => "hex64",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "base62" => Some(Self::Base62),
            "hex64" => Some(Self::Hex64),
            _ => None,
        }
    }

    fn alphabet(self) -> &'static [u8] {
        match self {
            KeyFormat::Base62 => BASE62,
            KeyFormat::Hex64 => HEX,
        }
    }

    fn body_len(self) -> usize {
        match self {
            KeyFormat::Base62 => BODY_LEN,
            KeyFormat::Hex64 => HEX_BODY_LEN,
        }
    }

    fn checksum_len(self) -> usize {
        match self {
            KeyFormat::Base62 => CHECKSUM_LEN,
            KeyFormat::Hex64 => HEX_CHECKSUM_LEN,
        }
    }

    /// The value of one digit of this format's alphabet, if it is one. Computed, not looked
    /// up in the alphabet: a search per character was a third of a cached verification.
    fn digit(self, b: u8) -> Option<u8> {
        match (self, b) {
            (_, b'0'..=b'9') => Some(b - b'0'),
            (KeyFormat::Base62, b'A'..=b'Z') => Some(b - b'A' + 10),
            (KeyFormat::Base62, b'a'..=b'z') => Some(b - b'a' + 36),
            (KeyFormat::Hex64, b'a'..=b'f') => Some(b - b'a' + 10),
            _ => None,
        }
    }

    /// The format whose body and checksum together are `len` characters long.
    fn of_len(len: usize) -> Option<Self> {
        [KeyFormat::Base62, KeyFormat::Hex64]
            .into_iter()
            .find(|f| f.body_len() + f.checksum_len() == len)
    }
}

impl std::fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$`, checked byte by byte. It runs on every
/// verification: with a regex, the prefix check was the largest single cost of a cached
/// verification (BENCHMARKS.md, "Profile"). A property test holds it to the regex.
fn valid_prefix(raw: &str) -> bool {
    let word = |w: &[u8], max: usize| {
        (1..=max).contains(&w.len())
            && w.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    let Some(body) = raw.as_bytes().strip_suffix(b"_") else {
        return false;
    };
    let (first, second) = match body.iter().position(|&c| c == b'_') {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    first.first().is_some_and(u8::is_ascii_lowercase)
        && word(first, 16)
        && second.is_none_or(|w| word(w, 8))
}

/// A workspace's key prefix, such as `kw_` or `sk_live_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub fn parse(raw: &str) -> Option<Self> {
        valid_prefix(raw).then(|| Self(raw.to_owned()))
    }

    /// A prefix a workspace may use: any valid prefix except the service tokens' own, so a
    /// customer's key can never be mistaken for an operator credential.
    pub fn parse_for_workspace(raw: &str) -> Option<Self> {
        Self::parse(raw).filter(|p| !p.0.starts_with(SERVICE_TOKEN_PREFIX))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A freshly minted key: the secret (shown once) and its display form.
#[derive(Debug)]
pub struct MintedKey {
    pub secret: SecretString,
    pub display_prefix: String,
}

/// Mints a new key under `prefix` in `format`, with a body from the operating system's CSPRNG.
pub fn generate(prefix: &KeyPrefix, format: KeyFormat) -> MintedKey {
    let mut rng = rand::rngs::OsRng;
    let alphabet = format.alphabet();
    let body: String = (0..format.body_len())
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect();
    MintedKey {
        display_prefix: format!("{}{}", prefix.0, &body[..DISPLAY_BODY_LEN]),
        secret: SecretString::new(assemble(prefix, format, &body)),
    }
}

/// The key written out: prefix, body, and the checksum of the two. Apart from `generate` so
/// that the property tests can write keys with bodies of their choosing.
fn assemble(prefix: &KeyPrefix, format: KeyFormat, body: &str) -> String {
    let mut secret = String::with_capacity(prefix.0.len() + body.len() + format.checksum_len());
    secret.push_str(&prefix.0);
    secret.push_str(body);
    let checksum = checksum(format, &secret);
    secret.push_str(&checksum);
    secret
}

/// The CRC32 of `prefix + body` in the format's alphabet, left-padded to its length.
fn checksum(format: KeyFormat, prefix_and_body: &str) -> String {
    let alphabet = format.alphabet();
    let base = alphabet.len() as u64;
    let mut n = crc32fast::hash(prefix_and_body.as_bytes()) as u64;
    let mut out = vec![alphabet[0]; format.checksum_len()];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(n % base) as usize];
        n /= base;
    }
    out.iter().map(|&b| b as char).collect()
}

/// Why a presented string is not a keyward key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Wrong length, characters or prefix: it cannot be a key at all.
    Shape,
    /// It has the shape of a key, but the checksum does not match.
    Checksum,
}

/// A presented string that has the shape of a keyward key and a valid checksum.
#[derive(Debug, Clone, Copy)]
pub struct ParsedKey<'a> {
    pub prefix: &'a str,
    pub body: &'a str,
    pub format: KeyFormat,
}

/// Checks shape and checksum without allocating; no store or cache is consulted.
pub fn parse(presented: &str) -> Result<ParsedKey<'_>, Malformed> {
    // Body and checksum are base62 or hex, neither of which has `_`, so the prefix ends at
    // the last `_`.
    let split = presented.rfind('_').ok_or(Malformed::Shape)? + 1;
    let (prefix, rest) = presented.split_at(split);
    let format = KeyFormat::of_len(rest.len()).ok_or(Malformed::Shape)?;
    if !rest.bytes().all(|b| format.digit(b).is_some()) {
        return Err(Malformed::Shape);
    }
    if !valid_prefix(prefix) {
        return Err(Malformed::Shape);
    }
    let (body, sum) = rest.split_at(format.body_len());
    let expected = crc32fast::hash(&presented.as_bytes()[..split + format.body_len()]) as u64;
    if decode(format, sum) != Some(expected) {
        return Err(Malformed::Checksum);
    }
    Ok(ParsedKey {
        prefix,
        body,
        format,
    })
}

fn decode(format: KeyFormat, digits: &str) -> Option<u64> {
    let base = format.alphabet().len() as u64;
    digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(base)?
            .checked_add(u64::from(format.digit(b)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(p: &str) -> KeyPrefix {
        KeyPrefix::parse(p).unwrap_or_else(|| panic!("bad test prefix {p}"))
    }

    #[test]
    fn a_generated_key_is_prefix_body_and_checksum() {
        let key = generate(&prefix("sk_live_"), KeyFormat::Base62);
        let s = key.secret.expose_secret();
        assert!(s.starts_with("sk_live_"));
        assert_eq!(s.len(), "sk_live_".len() + BODY_LEN + CHECKSUM_LEN);
        let parsed = parse(s).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(parsed.prefix, "sk_live_");
        assert_eq!(key.display_prefix, format!("sk_live_{}", &parsed.body[..8]));
    }

    #[test]
    fn prefixes_follow_the_documented_pattern() {
        for ok in [
            "kw_",
            "sk_live_",
            "sk_api_",
            "sd_",
            "a_",
            "abcdefghijklmnop_x1234567_",
        ] {
            assert!(KeyPrefix::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "kw",
            "Kw_",
            "1kw_",
            "kw__",
            "kw_live",
            "abcdefghijklmnopq_",
            "sk_abcdefghi_",
            "k-w_",
        ] {
            assert!(KeyPrefix::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn workspaces_cannot_take_the_service_token_prefix() {
        assert!(KeyPrefix::parse_for_workspace("kwsvc_").is_none());
        assert!(KeyPrefix::parse_for_workspace("kwsvc_live_").is_none());
        assert!(KeyPrefix::parse_for_workspace("kw_").is_some());
    }

    #[test]
    fn strings_that_cannot_be_keys_are_shape_errors() {
        for s in [
            "",
            "kw_",
            "kw_short",
            "no-underscore-at-all",
            "kw_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            assert_eq!(parse(s).err(), Some(Malformed::Shape), "{s}");
        }
    }

    #[test]
    fn a_well_shaped_string_with_a_wrong_checksum_is_a_checksum_error() {
        let s = format!("kw_{}{}", "A".repeat(BODY_LEN), "000000");
        assert_eq!(parse(&s).err(), Some(Malformed::Checksum));
    }

    #[test]
    fn the_checksum_is_six_base62_characters_even_for_small_crcs() {
        assert_eq!(checksum(KeyFormat::Base62, "").len(), CHECKSUM_LEN);
        assert_eq!(
            decode(KeyFormat::Base62, &checksum(KeyFormat::Base62, "kw_abc")),
            Some(crc32fast::hash(b"kw_abc") as u64)
        );
    }

    #[test]
    fn each_digit_is_its_place_in_the_alphabet() {
        for format in [KeyFormat::Base62, KeyFormat::Hex64] {
            for b in 0..=u8::MAX {
                let place = format.alphabet().iter().position(|&c| c == b);
                assert_eq!(format.digit(b).map(usize::from), place, "{format} {b}");
            }
        }
    }

    #[test]
    fn a_hex64_key_is_the_prefix_and_64_lowercase_hex_characters() {
        let key = generate(&prefix("sd_"), KeyFormat::Hex64);
        let s = key.secret.expose_secret();
        let rest = s.strip_prefix("sd_").unwrap_or_else(|| panic!("{s}"));
        assert_eq!(rest.len(), 64);
        assert!(
            rest.bytes().all(|b| b"0123456789abcdef".contains(&b)),
            "{s}"
        );
        let parsed = parse(s).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(parsed.format, KeyFormat::Hex64);
        assert_eq!(parsed.body.len(), HEX_BODY_LEN);
        assert_eq!(key.display_prefix, format!("sd_{}", &rest[..8]));
        // The checksum is the CRC32 of prefix and body, as 8 hex digits.
        let crc = crc32fast::hash(&s.as_bytes()[..3 + HEX_BODY_LEN]);
        assert_eq!(&rest[HEX_BODY_LEN..], format!("{crc:08x}"));
    }

    #[test]
    fn hex64_keys_are_lowercase_and_checksummed() {
        let key = generate(&prefix("sd_"), KeyFormat::Hex64);
        let s = key.secret.expose_secret();
        assert_eq!(
            parse(&s.to_ascii_uppercase().replacen("SD_", "sd_", 1)).err(),
            Some(Malformed::Shape)
        );
        let bad = format!("sd_{}{}", "a".repeat(HEX_BODY_LEN), "00000000");
        assert_eq!(parse(&bad).err(), Some(Malformed::Checksum));
    }
}

#[cfg(test)]
mod properties;
