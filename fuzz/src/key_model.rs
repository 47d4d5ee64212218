//! A plain reference model of PRODUCT.md §2's key format, written from the spec rather than
//! from `key_format.rs`, so that a fuzz target can hold the real parser to it.
//!
//! The parser is written for speed (no regex, no allocation, digits computed rather than
//! looked up); this model is written to be obviously right: a regex for the prefix, the
//! alphabets as strings, and the checksum as repeated division.

use std::sync::LazyLock;

use keyward_core::key_format::KeyFormat;
use regex::Regex;

/// PRODUCT.md §2's prefix pattern, verbatim.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$").unwrap_or_else(|e| panic!("{e}"))
});

const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &str = "0123456789abcdef";

/// Whether `prefix` is a key prefix the spec allows.
pub fn prefix_ok(prefix: &str) -> bool {
    PREFIX.is_match(prefix)
}

/// The digits of a format, in order.
pub fn alphabet(format: KeyFormat) -> &'static str {
    match format {
        KeyFormat::Base62 => BASE62,
        KeyFormat::Hex64 => HEX,
    }
}

/// The body length (random part) of a format.
pub fn body_len(format: KeyFormat) -> usize {
    match format {
        KeyFormat::Base62 => 32,
        KeyFormat::Hex64 => 56,
    }
}

/// The checksum length of a format.
pub fn checksum_len(format: KeyFormat) -> usize {
    match format {
        KeyFormat::Base62 => 6,
        KeyFormat::Hex64 => 8,
    }
}

/// The format whose body has `len` characters, if any.
pub fn format_of_body(len: usize) -> Option<KeyFormat> {
    [KeyFormat::Base62, KeyFormat::Hex64]
        .into_iter()
        .find(|f| body_len(*f) == len)
}

/// Whether every character of `body` is a digit of `format`.
pub fn body_ok(format: KeyFormat, body: &str) -> bool {
    body.chars().count() == body_len(format) && body.chars().all(|c| alphabet(format).contains(c))
}

/// The CRC32 of `prefix_and_body`, written in the format's digits, most significant first,
/// left-padded with the zero digit to the checksum's length.
pub fn checksum(format: KeyFormat, prefix_and_body: &str) -> String {
    let digits: Vec<char> = alphabet(format).chars().collect();
    let base = digits.len() as u64;
    let mut n = u64::from(crc32fast::hash(prefix_and_body.as_bytes()));
    let mut out = Vec::new();
    for _ in 0..checksum_len(format) {
        out.push(digits[(n % base) as usize]);
        n /= base;
    }
    assert_eq!(n, 0, "a CRC32 always fits the checksum");
    out.iter().rev().collect()
}

/// The whole key the spec writes for a prefix and body.
pub fn key(format: KeyFormat, prefix: &str, body: &str) -> String {
    let head = format!("{prefix}{body}");
    let sum = checksum(format, &head);
    head + &sum
}
