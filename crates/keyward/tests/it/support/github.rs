//! A stand-in for GitHub's secret scanning: a P-256 key pair made per test, its public half
//! configured as one of `secret_scanning_public_keys`, and reports signed the way GitHub
//! signs them (base64 of the DER ECDSA SHA-256 signature of the raw body).

use base64::Engine;
use keyward::config::SecretScanningKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{json, Value};

use super::{reply, Reply, TestApp};

pub const REPORT_PATH: &str = "/api/v1/secret-scanning/github";

pub struct GitHub {
    pub key_identifier: String,
    key: SigningKey,
}

impl GitHub {
    pub fn new(key_identifier: &str) -> Self {
        Self {
            key_identifier: key_identifier.to_owned(),
            key: SigningKey::random(&mut rand::rngs::OsRng),
        }
    }

    /// The entry of `secret_scanning_public_keys` for this key, as GitHub publishes it.
    pub fn public_key(&self) -> SecretScanningKey {
        SecretScanningKey {
            key_identifier: self.key_identifier.clone(),
            key: self
                .key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        }
    }

    /// The `Github-Public-Key-Signature` of `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        let signature: Signature = self.key.sign(body);
        base64::engine::general_purpose::STANDARD.encode(signature.to_der())
    }

    /// The `Github-Public-Key-*` headers of `body` signed by this key.
    pub fn headers(&self, body: &str) -> Vec<(&'static str, String)> {
        vec![
            ("github-public-key-identifier", self.key_identifier.clone()),
            ("github-public-key-signature", self.sign(body.as_bytes())),
        ]
    }
}

/// One match as GitHub reports it.
pub fn reported(token: &str, url: &str) -> Value {
    json!({"token": token, "type": "keyward_api_key", "url": url, "source": "commit"})
}

impl TestApp {
    /// Posts `body` as JSON to the secret-scanning endpoint with exactly `headers`.
    pub async fn report_leaks(&self, body: &str, headers: &[(&str, String)]) -> Reply {
        let mut req = self
            .client
            .post(self.url(REPORT_PATH))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        reply(req.send().await.unwrap()).await
    }
}
