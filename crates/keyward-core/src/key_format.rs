//! The key format: `<prefix><32 base62 body><6 base62 CRC32 checksum>`.
//!
//! The checksum lets the verifier reject typos and random strings without touching the store
//! or the cache, so garbage costs a CRC, not a database round trip.

use std::sync::LazyLock;

use rand::Rng;
use regex::Regex;

use crate::secret::SecretString;

/// Length of the random body: 32 base62 characters are about 190 bits from the CSPRNG.
pub const BODY_LEN: usize = 32;
/// Length of the checksum: CRC32 (< 2^32) always fits in 6 base62 digits (62^6 > 5.6e10).
pub const CHECKSUM_LEN: usize = 6;
/// Characters of the body shown in the display form (`key_prefix`).
pub const DISPLAY_BODY_LEN: usize = 8;
/// The prefix of service tokens. Never change it: tokens already issued carry it.
pub const SERVICE_TOKEN_PREFIX: &str = "kwsvc_";

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static PREFIX_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$").ok());

/// A workspace's key prefix, such as `kw_` or `sk_live_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub fn parse(raw: &str) -> Option<Self> {
        let re = PREFIX_RE.as_ref()?;
        re.is_match(raw).then(|| Self(raw.to_owned()))
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

/// Mints a new key under `prefix`, with a body from the operating system's CSPRNG.
pub fn generate(prefix: &KeyPrefix) -> MintedKey {
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..BODY_LEN)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect();
    let mut secret = String::with_capacity(prefix.0.len() + BODY_LEN + CHECKSUM_LEN);
    secret.push_str(&prefix.0);
    secret.push_str(&body);
    let checksum = checksum(&secret);
    secret.push_str(&checksum);
    MintedKey {
        display_prefix: format!("{}{}", prefix.0, &body[..DISPLAY_BODY_LEN]),
        secret: SecretString::new(secret),
    }
}

/// The base62 CRC32 of `prefix + body`, left-padded to 6 characters.
fn checksum(prefix_and_body: &str) -> String {
    let mut n = crc32fast::hash(prefix_and_body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
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
}

/// Checks shape and checksum without allocating; no store or cache is consulted.
pub fn parse(presented: &str) -> Result<ParsedKey<'_>, Malformed> {
    // The body and checksum are base62, which has no `_`, so the prefix ends at the last `_`.
    let split = presented.rfind('_').ok_or(Malformed::Shape)? + 1;
    let (prefix, rest) = presented.split_at(split);
    if rest.len() != BODY_LEN + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Malformed::Shape);
    }
    if prefix.len() > 26 || KeyPrefix::parse(prefix).is_none() {
        return Err(Malformed::Shape);
    }
    let (body, sum) = rest.split_at(BODY_LEN);
    let expected = crc32fast::hash(&presented.as_bytes()[..split + BODY_LEN]) as u64;
    if decode_base62(sum) != Some(expected) {
        return Err(Malformed::Checksum);
    }
    Ok(ParsedKey { prefix, body })
}

fn decode_base62(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| {
        let d = BASE62.iter().position(|&c| c == b)? as u64;
        acc.checked_mul(62)?.checked_add(d)
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
        let key = generate(&prefix("sk_live_"));
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
    fn every_single_character_change_fails_the_checksum_or_the_shape() {
        let key = generate(&prefix("kw_"));
        let s = key.secret.expose_secret().to_owned();
        for i in 3..s.len() {
            let mut bytes = s.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap_or_default();
            assert!(parse(&changed).is_err(), "change at {i} was accepted");
        }
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
        assert_eq!(checksum("").len(), CHECKSUM_LEN);
        assert_eq!(
            decode_base62(&checksum("kw_abc")),
            Some(crc32fast::hash(b"kw_abc") as u64)
        );
    }
}
