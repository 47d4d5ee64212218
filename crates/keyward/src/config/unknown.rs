//! Reporting what keyward does not know (PRODUCT.md §8): keys in the config file, nested
//! ones included (`[plans.free] max_active_key = 3`), and `KEYWARD_*` environment variables.
//! A typo is a warning, not an error, but never silent: the warning says where the key was
//! and which known key it was probably meant to be.

use std::collections::BTreeMap;
use std::ffi::OsString;

use figment::value::Value;
use figment::Figment;

use super::check::written;
use super::KEYS;

/// The keys of a `[plans.NAME]` table.
const PLAN_KEYS: [&str; 1] = ["max_active_keys"];

/// Variables of the client CLI (PRODUCT.md §9) that share the prefix: they are not the
/// server's business, so they are neither read nor reported.
const CLIENT_VARIABLES: [&str; 4] = [
    "KEYWARD_URL",
    "KEYWARD_API_KEY",
    "KEYWARD_SERVICE_TOKEN",
    "KEYWARD_CONTEXT",
];

/// Unknown keys among the merged config: top-level ones, and the fields of each plan.
pub(super) fn config_keys(figment: &Figment) -> Vec<String> {
    let Ok(all) = figment.extract::<BTreeMap<String, Value>>() else {
        // A shape figment cannot read at all is reported by the extraction that follows.
        return Vec::new();
    };
    let mut warnings = Vec::new();
    let mut unknown = |path: String, last: &str, known: &[&str]| {
        let hint = match closest(last, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => format!("known keys here: {}", known.join(", ")),
        };
        warnings.push(format!(
            "unknown config key {} ignored; {hint}",
            written(figment.find_metadata(&path), &path)
        ));
    };
    for (key, value) in &all {
        if !KEYS.contains(&key.as_str()) {
            unknown(key.clone(), key, &KEYS);
        } else if key == "plans" {
            for (plan, fields) in value.as_dict().into_iter().flatten() {
                for field in fields.as_dict().into_iter().flatten().map(|(f, _)| f) {
                    if !PLAN_KEYS.contains(&field.as_str()) {
                        unknown(format!("plans.{plan}.{field}"), field, &PLAN_KEYS);
                    }
                }
            }
        }
    }
    warnings
}

/// Whether `KEYWARD_<KEY>` is a config key the environment may set.
pub(super) fn is_config_variable(key: &str) -> bool {
    KEYS.contains(&key.to_lowercase().as_str())
}

/// Unknown `KEYWARD_*` variables, by name only: a value may be a secret.
pub(super) fn variables(vars: impl Iterator<Item = (OsString, OsString)>) -> Vec<String> {
    let known: Vec<String> = KEYS
        .iter()
        .map(|k| format!("KEYWARD_{}", k.to_uppercase()))
        .collect();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut warnings = Vec::new();
    for (name, _) in vars {
        let Some(name) = name.to_str() else { continue };
        let upper = name.to_uppercase();
        let Some(key) = upper.strip_prefix("KEYWARD_") else {
            continue;
        };
        if is_config_variable(key) || CLIENT_VARIABLES.contains(&upper.as_str()) {
            continue;
        }
        let hint = match closest(&upper, &known) {
            Some(k) => format!("did you mean {k}?"),
            None => "keyward reads KEYWARD_ plus a config key in upper case, e.g. KEYWARD_LISTEN"
                .to_owned(),
        };
        warnings.push(format!(
            "unknown environment variable {name} ignored; {hint}"
        ));
    }
    warnings.sort();
    warnings
}

/// The known key closest to a typo, if one is close enough to be what was meant.
fn closest<'a>(typo: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(typo, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 5))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance, for "did you mean" hints on short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> impl Iterator<Item = (OsString, OsString)> {
        names
            .iter()
            .map(|n| (OsString::from(n), OsString::from("secret value")))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn unknown_variables_are_named_with_a_hint_and_client_variables_are_skipped() {
        let warnings = variables(vars(&[
            "KEYWARD_LISEN",
            "KEYWARD_LISTEN",
            "KEYWARD_PEPPER",
            "KEYWARD_URL",
            "KEYWARD_API_KEY",
            "KEYWARD_SERVICE_TOKEN",
            "KEYWARD_CONTEXT",
            "KEYWARD_SOMETHING_ELSE_ENTIRELY",
            "PATH",
        ]));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("KEYWARD_LISEN") && warnings[0].contains("KEYWARD_LISTEN"));
        assert!(warnings[1].contains("KEYWARD_SOMETHING_ELSE_ENTIRELY"));
        assert!(warnings.iter().all(|w| !w.contains("secret value")));
    }

    #[test]
    fn hints_suggest_only_close_keys() {
        assert_eq!(
            closest("max_active_key", &PLAN_KEYS),
            Some("max_active_keys")
        );
        assert_eq!(closest("lisen", &KEYS), Some("listen"));
        assert_eq!(closest("colour", &KEYS), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
