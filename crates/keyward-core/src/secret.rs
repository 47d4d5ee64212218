//! Types that hold secrets or their hashes; they redact themselves in `Debug` and `Display`.
//!
//! Nothing secret may reach a log, an error message or an audit event by accident, so the
//! only way to read one of these is the explicit `expose_secret()`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A plaintext credential presented by a client or minted for one: an API key, a service
/// token, a session id or a CSRF token.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl std::fmt::Display for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The server-side key for every credential hash. Keys are hashed with HMAC under it rather
/// than plain SHA-256, so a stolen database alone cannot be used to test guesses offline.
///
/// It holds the HMAC already keyed: keying hashes the pepper into the inner and outer pads,
/// two of the four SHA-256 blocks of every verification, so it is done once, not per hash.
#[derive(Clone)]
pub struct Pepper(std::sync::Arc<Option<Hmac<Sha256>>>);

impl Pepper {
    pub fn new(bytes: Vec<u8>) -> Self {
        // HMAC accepts keys of any length, so keying cannot fail; `None` would only come from
        // a broken hmac crate, and then every hash is a fixed digest rather than a panic.
        Self(std::sync::Arc::new(
            Hmac::<Sha256>::new_from_slice(&bytes).ok(),
        ))
    }

    fn mac(&self) -> Option<Hmac<Sha256>> {
        self.0.as_ref().clone()
    }

    /// Hashes a credential for storage and lookup.
    pub fn hash(&self, secret: &str) -> CredentialHash {
        let Some(mut mac) = self.mac() else {
            return CredentialHash(Sha256::digest(b"keyward-unreachable").into());
        };
        mac.update(secret.as_bytes());
        CredentialHash(mac.finalize().into_bytes().into())
    }
}

/// What an imported key's hash is an HMAC of, before the SHA-256. Never change it: every
/// imported key is stored under it.
const IMPORTED_LABEL: &[u8] = b"keyward imported sha256 v1:";

impl Pepper {
    /// The stored hash of an imported key: `HMAC(pepper, label || SHA-256(secret))`.
    ///
    /// An import file may hold only the SHA-256 another system kept, so the SHA-256 is what
    /// keyward must be able to match. The pepper still goes over it, as over every other
    /// credential hash: a stolen database alone cannot be used to test guesses offline. The
    /// label keeps these hashes apart from native ones, whatever the inputs.
    pub fn hash_imported(&self, digest: &Sha256Digest) -> CredentialHash {
        let Some(mut mac) = self.mac() else {
            return CredentialHash(Sha256::digest(b"keyward-unreachable").into());
        };
        mac.update(IMPORTED_LABEL);
        mac.update(&digest.0);
        CredentialHash(mac.finalize().into_bytes().into())
    }
}

/// The SHA-256 of an imported key's secret: computed from a plaintext `key`, or read from an
/// import file's `sha256` column. Unpeppered, it is enough to test guesses against, so it
/// redacts itself like the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// 64 hexadecimal digits, in either case.
    pub fn parse_hex(raw: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(raw, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256Digest(<redacted>)")
    }
}

/// What the pepper fingerprint is an HMAC of. Never change it: every database records the
/// fingerprint under this label, and a new label would make every node refuse to start.
const PEPPER_FINGERPRINT_LABEL: &str = "keyward pepper fingerprint v1";

impl Pepper {
    /// `HMAC-SHA256(pepper, fixed label)`: recorded in the database, so that a node started
    /// with another instance's pepper is told so instead of answering 401 to every key. It
    /// reveals nothing usable about the pepper, which is at least 16 random bytes.
    pub fn fingerprint(&self) -> CredentialHash {
        self.hash(PEPPER_FINGERPRINT_LABEL)
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

/// `HMAC-SHA256(pepper, secret)`: what the store keeps instead of a credential.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialHash([u8; 32]);

impl CredentialHash {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Rebuilds a hash read back from storage; `None` when the stored value is not 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality: the store finds a row through an index on the hash, and this
    /// second comparison makes sure the final decision never depends on an early-exit compare.
    pub fn ct_eq(&self, other: &CredentialHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for CredentialHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialHash(<redacted>)")
    }
}

/// An argon2id password hash in PHC string form.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pre_keyed_pepper_hashes_exactly_as_hmac_sha256_does() {
        // RFC 4231, test case 2: stored hashes must not change with how the HMAC is keyed.
        let pepper = Pepper::new(b"Jefe".to_vec());
        let hash = pepper.hash("what do ya want for nothing?");
        assert_eq!(
            hex::encode(hash.expose_secret()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Cloned state is reused, never consumed: the same input hashes the same twice.
        assert!(pepper.hash("x").ct_eq(&pepper.hash("x")));
    }

    #[test]
    fn secrets_and_hashes_redact_themselves_in_debug_and_display() {
        let secret = SecretString::new("kw_supersecret".into());
        let pepper = Pepper::new(b"pepper-bytes".to_vec());
        let hash = pepper.hash("kw_supersecret");
        for printed in [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{pepper:?}"),
            format!("{hash:?}"),
            format!("{:?}", PasswordHash::from_phc("$argon2id$v=19$abc".into())),
        ] {
            assert!(!printed.contains("supersecret"), "{printed}");
            assert!(!printed.contains("pepper-bytes"), "{printed}");
            assert!(!printed.contains("argon2id"), "{printed}");
            assert!(printed.contains("redacted"), "{printed}");
        }
    }

    #[test]
    fn the_fingerprint_tells_peppers_apart_and_is_stable() {
        let one = Pepper::new(b"one pepper, 16 bytes".to_vec());
        let two = Pepper::new(b"two pepper, 16 bytes".to_vec());
        assert!(one.fingerprint().ct_eq(&one.clone().fingerprint()));
        assert!(!one.fingerprint().ct_eq(&two.fingerprint()));
        // The label is part of every recorded fingerprint: this pins it.
        assert!(one
            .fingerprint()
            .ct_eq(&one.hash("keyward pepper fingerprint v1")));
    }

    #[test]
    fn an_imported_hash_is_the_peppered_sha256_whichever_way_the_sha256_arrived() {
        let pepper = Pepper::new(b"one".to_vec());
        let from_plaintext = pepper.hash_imported(&Sha256Digest::of("legacy-secret"));
        // echo -n legacy-secret | sha256sum
        let hex = hex::encode(Sha256::digest(b"legacy-secret"));
        let upper = hex.to_uppercase();
        for given in [hex.as_str(), upper.as_str()] {
            let digest = Sha256Digest::parse_hex(given).unwrap_or_else(|| panic!("{given}"));
            assert!(pepper.hash_imported(&digest).ct_eq(&from_plaintext));
        }
        assert!(
            !from_plaintext.ct_eq(&pepper.hash("legacy-secret")),
            "imported and native hashes of one string differ"
        );
        assert!(!from_plaintext.ct_eq(
            &Pepper::new(b"two".to_vec()).hash_imported(&Sha256Digest::of("legacy-secret"))
        ));
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"a".repeat(66)] {
            assert!(Sha256Digest::parse_hex(bad).is_none(), "{bad}");
        }
        assert!(!format!("{:?}", Sha256Digest::of("x")).contains(&hex[..8]));
    }

    #[test]
    fn the_hash_depends_on_the_pepper() {
        let a = Pepper::new(b"one".to_vec()).hash("kw_x");
        let b = Pepper::new(b"two".to_vec()).hash("kw_x");
        assert!(!a.ct_eq(&b));
        assert!(a.ct_eq(&Pepper::new(b"one".to_vec()).hash("kw_x")));
    }
}
