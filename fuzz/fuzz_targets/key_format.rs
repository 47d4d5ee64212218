//! Fuzz target: the key parser and checksum (`keyward_core::key_format`), both formats.
//!
//! The input is read two ways, and each way has its properties:
//!
//! 1. As a presented key. `parse` must not panic; whatever it accepts must re-format to the
//!    same string under the reference model (prefix the spec allows, body in the format's
//!    alphabet, checksum the CRC32 of prefix and body), and every single-character change
//!    of an accepted key must be refused.
//! 2. As `prefix` `\n` `body`. The reference model writes the key for them; `parse` must
//!    accept it exactly when the prefix and body are valid, and `KeyPrefix::parse` must
//!    agree with the spec's regex. For a valid prefix, `generate` in both formats must make
//!    keys that parse back to that prefix and format, with the right display form.
#![no_main]

use keyward_core::key_format::{self, KeyFormat, KeyPrefix, DISPLAY_BODY_LEN};
use keyward_fuzz::key_model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        // `parse` takes `&str`: a request's bytes reach it only as UTF-8.
        return;
    };
    as_presented_key(input);
    if let Some((prefix, body)) = input.split_once('\n') {
        as_prefix_and_body(prefix, body);
    }
});

fn as_presented_key(input: &str) {
    let Ok(parsed) = key_format::parse(input) else {
        return;
    };
    assert!(key_model::prefix_ok(parsed.prefix), "{input:?}");
    assert!(key_model::body_ok(parsed.format, parsed.body), "{input:?}");
    assert_eq!(
        key_model::key(parsed.format, parsed.prefix, parsed.body),
        input,
        "an accepted key must re-format to itself"
    );
    every_single_change_is_refused(input);
}

/// Replaces each character in turn with a handful of others (a neighbouring digit of each
/// alphabet, the separator, a multi-byte character) and requires each result to be refused.
fn every_single_change_is_refused(key: &str) {
    let chars: Vec<char> = key.chars().collect();
    for at in 0..chars.len() {
        for with in ['0', 'a', 'Z', 'f', '_', 'é', shifted(chars[at])] {
            if with == chars[at] {
                continue;
            }
            let mut changed = chars.clone();
            changed[at] = with;
            let changed: String = changed.into_iter().collect();
            assert!(
                key_format::parse(&changed).is_err(),
                "{key:?} changed at {at} to {with:?} was accepted"
            );
        }
    }
}

/// The next character of the ASCII range, so that a digit becomes the neighbouring digit.
fn shifted(c: char) -> char {
    char::from_u32(u32::from(c) + 1).unwrap_or('0')
}

fn as_prefix_and_body(prefix: &str, body: &str) {
    let allowed = key_model::prefix_ok(prefix);
    assert_eq!(
        KeyPrefix::parse(prefix).is_some(),
        allowed,
        "prefix {prefix:?}"
    );
    if let Some(format) = key_model::format_of_body(body.len()) {
        let key = key_model::key(format, prefix, body);
        let expected = allowed && key_model::body_ok(format, body);
        match key_format::parse(&key) {
            Ok(parsed) if expected => assert_eq!(
                (parsed.prefix, parsed.body, parsed.format),
                (prefix, body, format)
            ),
            Err(e) if expected => panic!("{key:?}: a valid key refused: {e:?}"),
            // An invalid prefix glued to a body can, by a CRC coincidence, read as another
            // valid key split at a later `_`; it must then be that other key, and valid.
            Ok(parsed) => {
                assert_ne!((parsed.prefix, parsed.body), (prefix, body), "{key:?}");
                as_presented_key(&key);
            }
            Err(_) => {}
        }
    }
    if let Some(valid) = KeyPrefix::parse(prefix) {
        for format in [KeyFormat::Base62, KeyFormat::Hex64] {
            let minted = key_format::generate(&valid, format);
            let secret = minted.secret.expose_secret();
            let parsed = key_format::parse(secret)
                .unwrap_or_else(|e| panic!("generated {format} key refused: {e:?}"));
            assert_eq!((parsed.prefix, parsed.format), (prefix, format));
            assert_eq!(
                minted.display_prefix,
                format!("{prefix}{}", &parsed.body[..DISPLAY_BODY_LEN])
            );
            assert_eq!(key_model::key(format, prefix, parsed.body), secret);
        }
    }
}
