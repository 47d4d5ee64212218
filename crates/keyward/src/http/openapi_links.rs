//! The OpenAPI document's links: which answer names the resource other operations take
//! (create a key, then get, edit, revoke, rotate or delete it; add a member, then change
//! or remove it). Clients and stateful fuzzers such as schemathesis follow them, so a
//! chain of calls reaches resources that exist instead of ids that never did.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

use super::openapi::operations;

/// One answer's links: from `from`'s `status` to each operation of `to`, with `params`
/// (runtime expressions) for each; a parameter an operation does not take is left out.
struct Links {
    from: &'static [&'static str],
    status: &'static str,
    to: &'static [&'static str],
    params: &'static [(&'static str, &'static str)],
}

const KEY_OPERATIONS: &[&str] = &[
    "get_key",
    "update_key",
    "update_key_put",
    "revoke_key",
    "rotate_key",
    "delete_key",
];

const CURRENT_WORKSPACE_KEY_OPERATIONS: &[&str] = &[
    "get_current_workspace_key",
    "update_current_workspace_key",
    "update_current_workspace_key_put",
    "revoke_current_workspace_key",
    "rotate_current_workspace_key",
    "delete_current_workspace_key",
];

const LINKS: &[Links] = &[
    // A created or rotated key (rotation answers with the new one) is the key to act on.
    Links {
        from: &["create_key", "rotate_key"],
        status: "201",
        to: KEY_OPERATIONS,
        params: &[
            ("workspace_id", "$response.body#/workspace_id"),
            ("id", "$response.body#/id"),
        ],
    },
    Links {
        from: &[
            "create_current_workspace_key",
            "rotate_current_workspace_key",
        ],
        status: "201",
        to: CURRENT_WORKSPACE_KEY_OPERATIONS,
        params: &[("id", "$response.body#/id")],
    },
    Links {
        from: &["create_workspace"],
        status: "201",
        to: &[
            "get_workspace",
            "update_workspace",
            "list_members",
            "add_member",
            "list_invitations",
            "list_keys",
            "create_key",
            "list_audit_events",
        ],
        params: &[("workspace_id", "$response.body#/id")],
    },
    Links {
        from: &["add_member"],
        status: "201",
        to: &["update_member", "remove_member"],
        params: &[
            ("workspace_id", "$request.path.workspace_id"),
            ("user_id", "$response.body#/user_id"),
        ],
    },
    // An email without an account is invited instead (202).
    Links {
        from: &["add_member"],
        status: "202",
        to: &["withdraw_invitation"],
        params: &[
            ("workspace_id", "$request.path.workspace_id"),
            ("invitation_id", "$response.body#/id"),
        ],
    },
];

/// The path parameters each operation takes, by operation id.
fn path_parameters(doc: &mut OpenApi) -> Vec<(String, Vec<String>)> {
    operations(doc)
        .filter_map(|op| {
            let id = op.operation_id.clone()?;
            let names = op
                .parameters
                .iter()
                .flatten()
                .filter(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path)
                .map(|p| p.name.clone())
                .collect();
            Some((id, names))
        })
        .collect()
}

/// Adds [`LINKS`] to the answers they start from. Operations absent from this document
/// (a wire profile may replace one) get no link.
pub fn add(doc: &mut OpenApi) {
    let takes = path_parameters(doc);
    for op in operations(doc) {
        let Some(id) = op.operation_id.clone() else {
            continue;
        };
        for links in LINKS.iter().filter(|l| l.from.contains(&id.as_str())) {
            let Some(RefOr::T(response)) = op.responses.responses.get_mut(links.status) else {
                continue;
            };
            for target in links.to {
                let Some((_, params)) = takes.iter().find(|(op_id, _)| op_id == target) else {
                    continue;
                };
                let mut link = LinkBuilder::new().operation_id(*target);
                for (name, expression) in links.params {
                    if params.iter().any(|p| p == name) {
                        link = link.parameter(*name, *expression);
                    }
                }
                response
                    .links
                    .insert((*target).to_owned(), link.build().into());
            }
        }
    }
}
