//! The authorization matrix (issue 17): every management endpoint of the native API × every
//! kind of caller, each cell's status taken from one table ([`expected`]) that PRODUCT.md §3
//! justifies, run against a fresh target for each cell so no cell depends on another. All
//! mismatches are reported at once. And another workspace's objects answer the very bytes a
//! missing object does, but for the request id.

use keyward_core::model::Role;
use keyward_core::service::{Caller, NewKey, NewMember};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{reply, Owner, Reply, TestApp};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    UnknownKey,
    RevokedKey,
    ExpiredKey,
    Owner,
    Admin,
    Member,
    /// A member of a workspace with `members_can_create_keys`, acting on others' keys.
    OwnKeysMember,
    /// The owner's key narrowed to `["api_keys:read"]`.
    CustomScopeKey,
    /// The owner's console session, without `X-CSRF-Token`.
    SessionWithoutCsrf,
    /// The owner of another workspace, on this workspace's objects.
    OtherWorkspace,
}

const EVERYONE: [Who; 11] = [
    Who::Anonymous,
    Who::UnknownKey,
    Who::RevokedKey,
    Who::ExpiredKey,
    Who::Owner,
    Who::Admin,
    Who::Member,
    Who::OwnKeysMember,
    Who::CustomScopeKey,
    Who::SessionWithoutCsrf,
    Who::OtherWorkspace,
];

/// An endpoint with a body that works for an owner. `{ws}` is the workspace, `{key}` a key
/// of the workspace's owner, `{user}` a member, `{inv}` a pending invitation: fresh ones
/// for every cell.
struct Endpoint {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// What it needs (`None`: any authenticated caller; `Some(scope)`: PRODUCT.md §3).
    needs: Needs,
}

#[derive(Clone, Copy)]
enum Needs {
    /// Any valid credential: `users/current`.
    Anyone,
    /// A scope that the member roles hold (reads).
    Read(&'static str),
    /// `api_keys:write` on a key that is not the caller's own.
    KeyWrite,
    /// Creating a key: `api_keys:write`, which an own-keys member holds.
    KeyCreate,
    /// `members:write` or `workspace:write`, which only `*` holders have by default.
    AdminWrite,
}

fn endpoints() -> Vec<Endpoint> {
    use Needs::*;
    let e = |method: Method, path: &'static str, body: Option<Value>, needs: Needs| Endpoint {
        method,
        path,
        body,
        needs,
    };
    let name = || Some(json!({"name": "matrix"}));
    vec![
        e(Method::GET, "/api/v1/users/current", None, Anyone),
        e(
            Method::GET,
            "/api/v1/workspaces",
            None,
            Read("workspace:read"),
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}",
            None,
            Read("workspace:read"),
        ),
        e(Method::PATCH, "/api/v1/workspaces/{ws}", name(), AdminWrite),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/api-keys",
            None,
            Read("api_keys:read"),
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/api-keys",
            name(),
            KeyCreate,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            None,
            Read("api_keys:read"),
        ),
        e(
            Method::PATCH,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            name(),
            KeyWrite,
        ),
        e(
            Method::PUT,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            name(),
            KeyWrite,
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/api-keys/{key}/revoke",
            Some(json!({})),
            KeyWrite,
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/api-keys/{key}/rotate",
            Some(json!({})),
            KeyWrite,
        ),
        e(
            Method::DELETE,
            "/api/v1/workspaces/{ws}/api-keys/{key}",
            None,
            KeyWrite,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/members",
            None,
            Read("members:read"),
        ),
        e(
            Method::POST,
            "/api/v1/workspaces/{ws}/members",
            Some(json!({"email": "new-{n}@example.com", "role": "member"})),
            AdminWrite,
        ),
        e(
            Method::PATCH,
            "/api/v1/workspaces/{ws}/members/{user}",
            Some(json!({"role": "admin"})),
            AdminWrite,
        ),
        e(
            Method::DELETE,
            "/api/v1/workspaces/{ws}/members/{user}",
            None,
            AdminWrite,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/invitations",
            None,
            Read("members:read"),
        ),
        e(
            Method::DELETE,
            "/api/v1/workspaces/{ws}/invitations/{inv}",
            None,
            AdminWrite,
        ),
        e(
            Method::GET,
            "/api/v1/workspaces/{ws}/audit-events",
            None,
            Read("audit:read"),
        ),
    ]
}

/// The status each caller gets, with PRODUCT.md's reasons.
fn expected(who: Who, endpoint: &Endpoint) -> StatusCode {
    use Who::*;
    let writes = endpoint.method != Method::GET;
    let ok = match endpoint.method {
        Method::POST if endpoint.path.ends_with("/revoke") => StatusCode::OK,
        // §4: adding an email that has no account invites it: 202.
        Method::POST if endpoint.path.ends_with("/members") => StatusCode::ACCEPTED,
        Method::POST => StatusCode::CREATED,
        Method::DELETE => StatusCode::NO_CONTENT,
        _ => StatusCode::OK,
    };
    // Workspace-less endpoints answer about the caller itself.
    let scoped = endpoint.path.contains("{ws}");
    match who {
        // §7: no credential, or an unknown, revoked, expired one: 401, whichever it was.
        Anonymous | UnknownKey | RevokedKey | ExpiredKey => StatusCode::UNAUTHORIZED,
        // §7: another workspace's objects are 404, like missing ones.
        OtherWorkspace if scoped => StatusCode::NOT_FOUND,
        OtherWorkspace => ok,
        // §4: a session's state-changing request needs X-CSRF-Token.
        SessionWithoutCsrf if writes => StatusCode::FORBIDDEN,
        SessionWithoutCsrf => ok,
        // §3: owners hold `*`.
        Owner => ok,
        // §3 Rank: the target keys are the owner's; an admin may revoke one (a safety
        // action) but not edit, rotate or delete it. The members it changes are members.
        Admin => match endpoint.needs {
            Needs::KeyWrite if !endpoint.path.ends_with("/revoke") => StatusCode::FORBIDDEN,
            _ => ok,
        },
        // §3: a member holds the read scopes; no api_keys:write without the policy.
        Member => match endpoint.needs {
            Needs::Anyone | Needs::Read(_) => ok,
            Needs::KeyWrite | Needs::KeyCreate | Needs::AdminWrite => StatusCode::FORBIDDEN,
        },
        // §3: with members_can_create_keys a member creates keys and sees only its own:
        // every other key is 404.
        OwnKeysMember => match endpoint.needs {
            Needs::Anyone | Needs::KeyCreate => ok,
            Needs::Read(_) if endpoint.path.contains("{key}") => StatusCode::NOT_FOUND,
            Needs::Read(_) => ok,
            Needs::KeyWrite => StatusCode::NOT_FOUND,
            Needs::AdminWrite => StatusCode::FORBIDDEN,
        },
        // §3: a custom-scope key holds only what it lists.
        CustomScopeKey => match endpoint.needs {
            Needs::Anyone => ok,
            Needs::Read("api_keys:read") => ok,
            Needs::Read(_) | Needs::KeyWrite | Needs::KeyCreate | Needs::AdminWrite => {
                StatusCode::FORBIDDEN
            }
        },
    }
}

/// A workspace and its owner, where a caller's targets live.
struct Place {
    owner: Owner,
}

impl Place {
    fn ws(&self) -> Uuid {
        self.owner.workspace_id
    }
}

struct Credential {
    bearer: Option<String>,
    /// (cookie, no CSRF token): a session.
    cookie: Option<String>,
}

struct World {
    a: Place,
    own_keys: Place,
    callers: Vec<(Who, Credential, bool)>,
}

async fn world(app: &TestApp) -> World {
    let a = Place {
        owner: app.owner().await,
    };
    let b = app.owner().await;
    let own_keys = Place {
        owner: app.owner().await,
    };
    app.set_members_can_create_keys(&own_keys.owner, true).await;
    let (_, admin) = app.member(a.ws(), Role::Admin, true).await;
    let (_, member) = app.member(a.ws(), Role::Member, true).await;
    let (_, own_keys_member) = app.member(own_keys.ws(), Role::Member, true).await;
    let custom = app.scoped_key(&a.owner, &["api_keys:read"]).await;
    let revoked = app.scoped_key(&a.owner, &["api_keys:read"]).await;
    let id = app.key_id(&revoked).await;
    let r = app
        .post(
            &format!("/api/v1/workspaces/{}/api-keys/{id}/revoke", a.ws()),
            &a.owner.key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let expiring = app
        .create_key(
            &a.owner,
            json!({"name": "brief", "expires_at": crate::support::soon()}),
        )
        .await;
    assert_eq!(expiring.status, StatusCode::CREATED, "{}", expiring.text);
    let expired = expiring.body["key"].as_str().unwrap().to_owned();
    let (cookie, _csrf) = app.session(&a.owner.user).await;
    crate::support::sleep_past(&expiring.body["expires_at"]).await;

    let bearer = |k: &str| Credential {
        bearer: Some(k.to_owned()),
        cookie: None,
    };
    let callers = vec![
        (
            Who::Anonymous,
            Credential {
                bearer: None,
                cookie: None,
            },
            false,
        ),
        (
            Who::UnknownKey,
            bearer(&format!("kw_{}", "x".repeat(40))),
            false,
        ),
        (Who::RevokedKey, bearer(&revoked), false),
        (Who::ExpiredKey, bearer(&expired), false),
        (Who::Owner, bearer(&a.owner.key), false),
        (Who::Admin, bearer(&admin), false),
        (Who::Member, bearer(&member), false),
        (Who::OwnKeysMember, bearer(&own_keys_member), true),
        (Who::CustomScopeKey, bearer(&custom), false),
        (
            Who::SessionWithoutCsrf,
            Credential {
                bearer: None,
                cookie: Some(cookie),
            },
            false,
        ),
        (Who::OtherWorkspace, bearer(&b.key), false),
    ];
    assert_eq!(callers.len(), EVERYONE.len());
    World {
        a,
        own_keys,
        callers,
    }
}

/// Fresh targets in `place` for one cell: a key of the owner's, a member, an invitation.
async fn targets(app: &TestApp, place: &Place, n: usize) -> [(&'static str, String); 4] {
    let svc = &app.service;
    let p = svc
        .principal(&Caller::system(place.owner.user.clone()), place.ws())
        .await
        .unwrap();
    let key = svc
        .create_key(
            &p,
            NewKey {
                name: format!("target {n}"),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .key
        .id;
    let (user, _) = app.member(place.ws(), Role::Member, true).await;
    let invited = svc
        .add_member(
            &p,
            NewMember {
                email: format!("invited-{n}-{}@example.com", Uuid::now_v7().simple()),
                role: "member".into(),
                scopes: None,
            },
        )
        .await
        .unwrap();
    let inv = match invited {
        keyward_core::service::Added::Invited(i) => i.id,
        keyward_core::service::Added::Member(_) => panic!("the invitee had an account"),
    };
    [
        ("{ws}", place.ws().to_string()),
        ("{key}", key.to_string()),
        ("{user}", user.id.to_string()),
        ("{inv}", inv.to_string()),
    ]
}

async fn call(app: &TestApp, credential: &Credential, e: &Endpoint, path: &str, n: usize) -> Reply {
    let mut req = app.client.request(e.method.clone(), app.url(path));
    if let Some(token) = &credential.bearer {
        req = req.bearer_auth(token);
    }
    if let Some(cookie) = &credential.cookie {
        req = req.header("cookie", format!("keyward_session={cookie}"));
    }
    if let Some(body) = &e.body {
        let text = body.to_string().replace("{n}", &n.to_string());
        req = req.header("content-type", "application/json").body(text);
    }
    reply(req.send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_every_kind_of_caller_as_the_table_says() {
    let app = TestApp::spawn_with(|c| c.max_keys_per_workspace = 10_000).await;
    let world = world(&app).await;
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for (i, e) in endpoints().iter().enumerate() {
        for (j, (who, credential, in_own_keys)) in world.callers.iter().enumerate() {
            let n = i * 100 + j;
            let place = if *in_own_keys {
                &world.own_keys
            } else {
                &world.a
            };
            let mut path = e.path.to_owned();
            for (name, value) in targets(&app, place, n).await {
                path = path.replace(name, &value);
            }
            let got = call(&app, credential, e, &path, n).await;
            let want = expected(*who, e);
            cells += 1;
            if got.status != want {
                mismatches.push(format!(
                    "{:?} {} {}: expected {want}, got {} {}",
                    who,
                    e.method,
                    e.path,
                    got.status,
                    got.code()
                ));
            }
        }
    }
    println!(
        "auth matrix: {cells} cells, {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn another_workspaces_key_is_the_same_bytes_as_a_missing_one_but_for_the_request_id() {
    let app = TestApp::spawn().await;
    let mine = app.owner().await;
    let theirs = app.owner().await;
    let their_key = app.key_id(&theirs.key).await;
    let strip = |r: &Reply| {
        let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        (r.status, r.text.replace(&id, "<request id>"))
    };
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"name": "x"}))),
        (Method::POST, "/revoke", Some(json!({}))),
        (Method::POST, "/rotate", Some(json!({}))),
        (Method::DELETE, "", None),
    ] {
        let path = |ws: Uuid, id: &str| format!("/api/v1/workspaces/{ws}/api-keys/{id}{suffix}");
        let missing = Uuid::now_v7().to_string();
        // Their key through my workspace, their key through theirs, and a key nobody has.
        let mut answers = Vec::new();
        for p in [
            path(mine.workspace_id, &their_key),
            path(theirs.workspace_id, &their_key),
            path(mine.workspace_id, &missing),
        ] {
            let r = app
                .call(method.clone(), &p, Some(&mine.key), body.clone())
                .await;
            answers.push(strip(&r));
        }
        assert_eq!(answers[0].0, StatusCode::NOT_FOUND, "{method} {suffix}");
        assert!(
            answers.iter().all(|a| a == &answers[0]),
            "{method} {suffix}: {answers:?}"
        );
    }
}
