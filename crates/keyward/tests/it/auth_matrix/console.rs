//! The console's form posts in the authorization matrix. §10: the console enforces the same
//! rules as the API because it calls the same code; what differs is the credential (a
//! session, and the form's `csrf_token` field) and the answers (a page, or a 303).

use reqwest::{Method, StatusCode};

use super::{run, world, Body, Endpoint, Needs, Surface};
use crate::support::TestApp;

fn endpoints() -> Vec<Endpoint> {
    use Needs::*;
    let e = |path: &'static str, form: Vec<(&'static str, &'static str)>, needs, ok| Endpoint {
        surface: Surface::Console,
        method: Method::POST,
        path,
        headers: &[],
        body: Body::Form(form),
        needs,
        ok,
    };
    // A page that shows the new secret is 201; an action that succeeds goes back to its
    // page with a 303.
    let shown = StatusCode::CREATED;
    let done = StatusCode::SEE_OTHER;
    vec![
        // Custom access with a scope every role holds: full access is `*`, which only its
        // holders may give (§3), and the console offers it to no one else.
        e(
            "/platform/api-keys/create",
            vec![
                ("name", "matrix {n}"),
                ("access", "custom"),
                ("scopes", "api_keys:read"),
            ],
            KeyCreate,
            shown,
        ),
        e(
            "/platform/api-keys/{key}/edit",
            vec![
                ("name", "matrix {n}"),
                ("access", "custom"),
                ("scopes", "api_keys:read"),
            ],
            KeyWrite,
            done,
        ),
        e(
            "/platform/api-keys/{key}/rotate",
            vec![("grace", "0")],
            KeyWrite,
            shown,
        ),
        e("/platform/api-keys/{key}/revoke", vec![], KeyRevoke, done),
        e("/platform/api-keys/{key}/delete", vec![], KeyWrite, done),
        e(
            "/platform/members/invite",
            vec![("email", "console-{n}@example.com"), ("role", "member")],
            AdminWrite,
            done,
        ),
        e(
            "/platform/members/{user}/role",
            vec![("role", "admin")],
            AdminWrite,
            done,
        ),
        e("/platform/members/{user}/remove", vec![], AdminWrite, done),
        e(
            "/platform/invitations/{inv}/withdraw",
            vec![],
            AdminWrite,
            done,
        ),
        // Renaming the visitor's current workspace (the prefix and policy as they are).
        e(
            "/platform/settings",
            vec![("name", "renamed {n}"), ("key_prefix", "{prefix}")],
            AdminWrite,
            done,
        ),
        // Choosing a workspace: one the visitor is not in is ignored (still a 303).
        e(
            "/platform/workspace",
            vec![("workspace_id", "{ws}")],
            Anyone,
            done,
        ),
        // Last, so that no earlier cell sees a visitor with a second workspace.
        e(
            "/platform/workspaces",
            vec![("name", "another {n}")],
            Anyone,
            done,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_form_answers_every_kind_of_caller_as_the_table_says() {
    let app = TestApp::spawn_with(|c| c.max_keys_per_workspace = 10_000).await;
    let world = world(&app).await;
    let cells = run(&app, &world, &endpoints()).await;
    assert_eq!(cells, 12 * 11);
}
