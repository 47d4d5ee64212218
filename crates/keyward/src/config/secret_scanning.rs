//! `secret_scanning_public_keys`: the keys GitHub signs its secret-scanning reports with, as
//! a list of `{key_identifier, key}` tables in the file, or as the JSON GitHub itself serves
//! at `https://api.github.com/meta/public_keys/secret_scanning` (in the file or in
//! `KEYWARD_SECRET_SCANNING_PUBLIC_KEYS`), so an operator can paste or pipe that document
//! in unchanged.

use serde::{Deserialize, Deserializer, Serialize};

/// One of GitHub's secret-scanning public keys. GitHub's own `is_current` is accepted and
/// ignored: a report signed by any listed key is GitHub's, and GitHub lists a key it is
/// retiring until it stops signing with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretScanningKey {
    /// What GitHub sends in `Github-Public-Key-Identifier` for reports signed by this key.
    pub key_identifier: String,
    /// The key as PEM (`-----BEGIN PUBLIC KEY-----`): an ECDSA NIST P-256 public key.
    pub key: String,
}

/// The list as tables, or as text holding GitHub's JSON: the whole
/// `{"public_keys": [...]}` document or just its array.
pub(super) fn keys_or_github_json<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<SecretScanningKey>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<SecretScanningKey>),
        Text(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum GitHubJson {
        Document { public_keys: Vec<SecretScanningKey> },
        List(Vec<SecretScanningKey>),
    }
    match Raw::deserialize(d)? {
        Raw::List(list) => Ok(list),
        Raw::Text(text) if text.trim().is_empty() => Ok(Vec::new()),
        // serde_json's message would quote the text; the keys are public, but a mistake
        // here is as likely to be something else pasted in the wrong place.
        Raw::Text(text) => match serde_json::from_str::<GitHubJson>(&text) {
            Ok(GitHubJson::Document { public_keys }) => Ok(public_keys),
            Ok(GitHubJson::List(list)) => Ok(list),
            Err(_) => Err(serde::de::Error::custom(
                "expected a list of {key_identifier, key} entries, or the JSON served at \
                 https://api.github.com/meta/public_keys/secret_scanning",
            )),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "keys_or_github_json")]
        keys: Vec<SecretScanningKey>,
    }

    fn parse(json: serde_json::Value) -> Result<Vec<SecretScanningKey>, String> {
        serde_json::from_value::<Holder>(serde_json::json!({ "keys": json }))
            .map(|h| h.keys)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tables_github_documents_and_bare_arrays_all_read_as_keys() {
        let one = SecretScanningKey {
            key_identifier: "abc".into(),
            key: "PEM".into(),
        };
        let entry = serde_json::json!({"key_identifier": "abc", "key": "PEM", "is_current": true});
        let document = serde_json::json!({ "public_keys": [entry] }).to_string();
        assert_eq!(parse(serde_json::json!([entry])), Ok(vec![one.clone()]));
        assert_eq!(parse(document.into()), Ok(vec![one.clone()]));
        assert_eq!(
            parse(serde_json::json!([entry]).to_string().into()),
            Ok(vec![one])
        );
        assert_eq!(parse("  ".into()), Ok(vec![]));
    }

    #[test]
    fn text_that_is_not_githubs_json_is_refused_without_being_quoted() {
        let err = parse("zqxmarker {".into()).unwrap_err();
        assert!(err.contains("meta/public_keys"), "{err}");
        assert!(!err.contains("zqxmarker"), "{err}");
    }
}
