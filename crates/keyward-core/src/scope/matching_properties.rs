//! Scope matching (PRODUCT.md §3) checked against the plain reference model, over generated
//! scopes and lists: the string rule, `Scope::grants`, `ScopeSet::grants` and `covers`.

use proptest::prelude::*;

use super::reference::reference_grants;
use super::*;

/// A well-formed scope: `*`, or one to four parts over a small alphabet chosen so that parts
/// are often prefixes of each other (`a`, `ab`), which is where a plain `starts_with` would
/// go wrong.
fn a_scope() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_owned()),
        12 => proptest::collection::vec(
            prop::sample::select(vec!["a", "b", "ab", "a-b", "a.b", "b_a"]),
            1..=4,
        )
        .prop_map(|parts| parts.join(":")),
    ]
}

/// Any short string over the characters that matter to matching: empty parts, stray colons
/// and stars included.
fn a_string() -> impl Strategy<Value = String> {
    "[ab:*.]{0,8}"
}

fn a_list() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(a_scope(), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100_000))]

    /// The rule on plain strings is the reference, well-formed or not.
    #[test]
    fn the_string_rule_is_the_reference(
        held in prop_oneof![a_scope(), a_string()],
        required in prop_oneof![a_scope(), a_string()],
    ) {
        prop_assert_eq!(
            held_grants(&held, &required),
            reference_grants(std::slice::from_ref(&held), &required),
            "{} grants {}?", held, required
        );
        if let Some(scope) = Scope::parse(&held) {
            prop_assert_eq!(scope.grants(&required), held_grants(&held, &required));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// A set grants what any of its scopes grants, and covers a request when it grants each
    /// scope of it, `*` being covered only by `*`.
    #[test]
    fn a_set_grants_and_covers_as_the_reference_says(
        held in a_list(),
        requested in a_list(),
        required in prop_oneof![a_scope(), a_string()],
    ) {
        let set = ScopeSet::from_trusted(held.clone());
        prop_assert_eq!(set.grants(&required), reference_grants(&held, &required));
        let covered = requested.iter().all(|r| {
            if r == WILDCARD {
                held.iter().any(|h| h == WILDCARD)
            } else {
                reference_grants(&held, r)
            }
        });
        prop_assert_eq!(
            set.covers(&ScopeSet::from_trusted(requested.clone())),
            covered,
            "{:?} covers {:?}?", held, requested
        );
    }
}
