//! The exact intersection checked against a plain reference model of PRODUCT.md §3's
//! matching rule, over generated scope sets.

use proptest::prelude::*;

use super::reference::reference_grants;
use super::*;

/// Every scope of up to four parts over a two-letter alphabet: deeper than any
/// generated held scope, so extensions of every held scope are checked too.
fn universe() -> Vec<String> {
    let mut all = vec![];
    let mut level = vec![String::new()];
    for _ in 0..4 {
        let next: Vec<String> = level
            .iter()
            .flat_map(|p| {
                ["a", "b"].map(|seg| {
                    if p.is_empty() {
                        seg.to_owned()
                    } else {
                        format!("{p}:{seg}")
                    }
                })
            })
            .collect();
        all.extend(next.iter().cloned());
        level = next;
    }
    all
}

fn scope_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_owned()),
        12 => proptest::collection::vec(prop_oneof![Just("a"), Just("b")], 1..=3)
            .prop_map(|parts| parts.join(":")),
    ]
}

fn set_strategy() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(scope_strategy(), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_intersection_grants_exactly_what_both_sets_grant(a in set_strategy(), b in set_strategy()) {
        let both = ScopeSet::from_trusted(a.clone()).intersect(&ScopeSet::from_trusted(b.clone()));
        for required in universe() {
            prop_assert_eq!(
                both.grants(&required),
                reference_grants(&a, &required) && reference_grants(&b, &required),
                "{:?} ∩ {:?} = {:?} on {}", a, b, both, required
            );
        }
        let full = reference_grants(&a, "*") && reference_grants(&b, "*");
        prop_assert_eq!(both.is_full(), full);
    }

    #[test]
    fn the_intersection_lists_no_scope_another_of_its_scopes_grants(a in set_strategy(), b in set_strategy()) {
        let both = ScopeSet::from_trusted(a).intersect(&ScopeSet::from_trusted(b));
        let list = both.as_strings();
        for (i, x) in list.iter().enumerate() {
            for (j, y) in list.iter().enumerate() {
                prop_assert!(i == j || !reference_grants(std::slice::from_ref(x), y), "{:?}", list);
            }
        }
    }
}

#[test]
fn a_family_narrows_to_the_members_the_other_side_holds() {
    let key = ScopeSet::from_trusted(["apps"]);
    let snapshot = ScopeSet::from_trusted(["apps:read", "apps:deploy", "audit:read"]);
    assert_eq!(
        key.intersect(&snapshot),
        ScopeSet::from_trusted(["apps:deploy", "apps:read"])
    );
    let per_app = ScopeSet::from_trusted(["apps:deploy:app-42"]);
    assert_eq!(
        per_app.intersect(&ScopeSet::from_trusted(["apps"])),
        per_app,
        "a per-resource grant survives under its family"
    );
}
