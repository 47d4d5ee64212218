//! GitHub's signature on a secret-scanning report: `Github-Public-Key-Signature` is the
//! base64 of an ASN.1 DER ECDSA signature, over NIST P-256 with SHA-256, of the raw request
//! body, by the key `Github-Public-Key-Identifier` names among `secret_scanning_public_keys`.
//!
//! The signature is the endpoint's only authentication: whoever can post a valid one can
//! revoke any key whose secret they hold, so nothing is looked up or revoked before it
//! checks, and the body is checked as received, never re-serialised.

use std::collections::BTreeMap;

use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

use crate::config::SecretScanningKey;

/// The request header naming the key a report is signed with.
pub const KEY_IDENTIFIER_HEADER: &str = "github-public-key-identifier";
/// The request header holding the signature.
pub const SIGNATURE_HEADER: &str = "github-public-key-signature";

/// The configured keys, parsed once at start-up, by identifier.
#[derive(Debug, Clone, Default)]
pub struct GitHubKeys(BTreeMap<String, VerifyingKey>);

impl GitHubKeys {
    /// Parses `secret_scanning_public_keys`. The problem names the entry by its place and
    /// identifier, which are the operator's own and public, and never quotes the key.
    pub fn parse(entries: &[SecretScanningKey]) -> Result<Self, String> {
        let mut keys = BTreeMap::new();
        for (n, entry) in entries.iter().enumerate() {
            let which = format!("entry {} ({:?})", n + 1, entry.key_identifier);
            let id = entry.key_identifier.trim();
            if id.is_empty() {
                return Err(format!("entry {}: key_identifier is empty", n + 1));
            }
            let key =
                VerifyingKey::from_public_key_pem(&normalise_pem(&entry.key)).map_err(|_| {
                    format!(
                        "{which}: key is not a PEM ECDSA P-256 public key \
                         (-----BEGIN PUBLIC KEY-----)"
                    )
                })?;
            if keys.insert(id.to_owned(), key).is_some() {
                return Err(format!("{which}: the key_identifier is listed twice"));
            }
        }
        Ok(Self(keys))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `signature` (the header's base64) is the named key's signature of `body`.
    /// Every way to fail is the same `false`: the caller answers one 401 for all of them.
    pub fn verify(&self, key_identifier: &str, signature: &str, body: &[u8]) -> bool {
        let Some(key) = self.0.get(key_identifier.trim()) else {
            return false;
        };
        let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
            return false;
        };
        let Ok(signature) = Signature::from_der(&der) else {
            return false;
        };
        // GitHub signs with Go's crypto/ecdsa, which does not normalise S to its low form;
        // p256 accepts either, as a test below holds it to.
        key.verify(body, &signature).is_ok()
    }
}

/// The PEM with each line trimmed and blank lines dropped: a key pasted into an indented
/// TOML string, or with Windows line ends, is still the same key, while the strict PEM
/// parser would refuse it.
fn normalise_pem(pem: &str) -> String {
    let mut out = String::with_capacity(pem.len());
    for line in pem.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// The sample request of GitHub's partner-program documentation, signed by the key
    /// GitHub publishes under this identifier at api.github.com/meta/public_keys/secret_scanning.
    pub(crate) const GITHUB_ID: &str =
        "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c";
    pub(crate) const GITHUB_KEY: &str = "-----BEGIN PUBLIC KEY-----\n\
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd\n\
        AjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==\n\
        -----END PUBLIC KEY-----\n";
    const SAMPLE_BODY: &str = r#"[{"source":"commit","token":"some_token","type":"some_type","url":"https://example.com/base-repo-url/"}]"#;
    const SAMPLE_SIGNATURE: &str = "MEQCIQDaMKqrGnE27S0kgMrEK0eYBmyG0LeZismAEz/BgZyt7AIfXt9fErtRS4XaeSt/AO1RtBY66YcAdjxji410VQV4xg==";

    fn github() -> GitHubKeys {
        GitHubKeys::parse(&[SecretScanningKey {
            key_identifier: GITHUB_ID.into(),
            key: GITHUB_KEY.into(),
        }])
        .unwrap()
    }

    #[test]
    fn githubs_documented_sample_verifies_and_any_change_to_it_does_not() {
        let keys = github();
        assert!(keys.verify(GITHUB_ID, SAMPLE_SIGNATURE, SAMPLE_BODY.as_bytes()));
        let spaced = SAMPLE_BODY.replace(',', ", ");
        assert!(!keys.verify(GITHUB_ID, SAMPLE_SIGNATURE, spaced.as_bytes()));
        let other_id = GITHUB_ID.replace('b', "c");
        assert!(!keys.verify(&other_id, SAMPLE_SIGNATURE, SAMPLE_BODY.as_bytes()));
        let flipped = SAMPLE_SIGNATURE.replacen('M', "N", 1);
        assert!(!keys.verify(GITHUB_ID, &flipped, SAMPLE_BODY.as_bytes()));
        for garbage in ["", "not base64!", "AAAA"] {
            assert!(!keys.verify(GITHUB_ID, garbage, SAMPLE_BODY.as_bytes()));
        }
    }

    #[test]
    fn a_signature_verifies_with_its_s_high_or_low() {
        use p256::ecdsa::signature::Signer;
        use p256::ecdsa::SigningKey;
        use p256::pkcs8::{EncodePublicKey, LineEnding};

        let signer = SigningKey::random(&mut rand::rngs::OsRng);
        let pem = signer
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let keys = GitHubKeys::parse(&[SecretScanningKey {
            key_identifier: "k".into(),
            key: pem,
        }])
        .unwrap();
        let body = b"[]";
        let low: Signature = signer.sign(body);
        let (r, s) = low.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        for signature in [low, high] {
            let der = base64::engine::general_purpose::STANDARD.encode(signature.to_der());
            assert!(keys.verify("k", &der, body));
        }
    }

    #[test]
    fn an_indented_pem_is_the_same_key() {
        let indented: String = GITHUB_KEY.lines().map(|l| format!("    {l}\r\n")).collect();
        let keys = GitHubKeys::parse(&[SecretScanningKey {
            key_identifier: GITHUB_ID.into(),
            key: indented,
        }])
        .unwrap();
        assert!(keys.verify(GITHUB_ID, SAMPLE_SIGNATURE, SAMPLE_BODY.as_bytes()));
    }

    #[test]
    fn bad_entries_are_refused_naming_the_entry_not_the_key() {
        let entry = |id: &str, key: &str| SecretScanningKey {
            key_identifier: id.into(),
            key: key.into(),
        };
        let not_a_key = GitHubKeys::parse(&[entry("a", "zqxmarker")]).unwrap_err();
        assert!(not_a_key.contains("entry 1") && !not_a_key.contains("zqxmarker"));
        let empty = GitHubKeys::parse(&[entry(" ", GITHUB_KEY)]).unwrap_err();
        assert!(empty.contains("key_identifier is empty"), "{empty}");
        let twice = GitHubKeys::parse(&[entry("a", GITHUB_KEY), entry("a", GITHUB_KEY)]);
        assert!(twice.unwrap_err().contains("twice"));
        assert!(GitHubKeys::parse(&[]).unwrap().is_empty());
    }
}
