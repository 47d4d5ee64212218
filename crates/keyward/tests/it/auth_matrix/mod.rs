//! The authorization matrix (issue 17): every endpoint that acts on a workspace — the native
//! API and the verify API ([`native`]), the console's form posts ([`console`]) and every wire
//! profile ([`wire`]) — × every kind of caller. Each cell's status comes from one table,
//! [`expected`], whose arms cite PRODUCT.md §3, §6, §7, §10 and §11; every cell runs against
//! fresh targets, so no cell depends on another, and all mismatches are reported at once.

mod console;
mod native;
mod wire;

use keyward_core::model::Role;
use keyward_core::service::{Added, Caller, NewKey, NewMember};
use reqwest::{redirect, Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{reply, Owner, Reply, TestApp};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
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
    /// The owner's console session, without its CSRF token.
    SessionWithoutCsrf,
    /// The owner of another workspace, on this workspace's objects.
    OtherWorkspace,
}

/// Where an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The native API, the verify API, and the wire profiles that act on every key of the
    /// workspace like it (smplkit, Signalsmith).
    Api,
    /// The console's form posts: a session and the form's `csrf_token` field (§10).
    Console,
    /// The wire profiles that show each user only the keys they made (simpledeploy and
    /// Skillett, §11): another user's key is `404`, whoever asks.
    OwnKeys,
}

/// What an endpoint needs (PRODUCT.md §3).
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// Any valid credential: `users/current`, switching or creating one's own workspace.
    Anyone,
    /// A scope that the member roles hold (reads).
    Read(&'static str),
    /// `api_keys:write` on a key that is not the caller's own: edit, rotate, delete.
    KeyWrite,
    /// Revoking a key that is not the caller's own: like [`Needs::KeyWrite`], but an admin
    /// may revoke an owner's key (§3 Rank: a safety action).
    KeyRevoke,
    /// Creating a key: `api_keys:write`, which an own-keys member holds.
    KeyCreate,
    /// `members:write` or `workspace:write`, which only `*` holders have by default (and
    /// `*` itself, for creating a workspace with a key).
    AdminWrite,
    /// The verify API's service token (§6): every other credential is of the wrong kind.
    ServiceToken,
}

/// A request body, with placeholders (`{n}`, `{ws}`, `{key}`, …) filled in per cell.
pub enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, &'static str)>),
}

/// An endpoint, with a body that works for the workspace's owner, and what the owner gets.
/// Path placeholders: `{ws}` the workspace, `{key}` a key of its owner (`{seq}` its number,
/// `{kid}` its Skillett id), `{user}` a member, `{inv}` a pending invitation; fresh ones for
/// every cell. A path with a placeholder names an object of that workspace.
pub struct Endpoint {
    pub surface: Surface,
    pub method: Method,
    pub path: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Body,
    pub needs: Needs,
    pub ok: StatusCode,
}

impl Endpoint {
    /// An endpoint that takes JSON (or no body) and no extra header.
    pub fn json(
        surface: Surface,
        method: Method,
        path: &'static str,
        body: Option<Value>,
        needs: Needs,
        ok: StatusCode,
    ) -> Endpoint {
        Endpoint {
            surface,
            method,
            path,
            headers: &[],
            body: body.map_or(Body::None, Body::Json),
            needs,
            ok,
        }
    }
}

/// The status each caller gets, with PRODUCT.md's reasons.
pub fn expected(who: Who, e: &Endpoint) -> StatusCode {
    use Who::*;
    let ok = e.ok;
    let writes = e.method != Method::GET;
    // A path that names one of the workspace's objects (the workspace itself included).
    let names_an_object = e.path.contains('{');
    let own_keys = e.surface == Surface::OwnKeys;
    // §10: the console sends a visitor without a valid session to log in; §7: the API
    // answers 401, whichever of these it was.
    let unauthenticated = if e.surface == Surface::Console {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::UNAUTHORIZED
    };
    // §10: the console's credential is a session; a key, however scoped, is none.
    let no_credential = match e.surface {
        Surface::Console => expected_without_a_session(who),
        _ => matches!(who, Anonymous | UnknownKey | RevokedKey | ExpiredKey),
    };
    if no_credential {
        return unauthenticated;
    }
    // §6: the verify API reads only `Authorization: Bearer`, so a session cookie is no
    // credential there (401); §7: a valid key is a credential of the wrong kind (403).
    if let Needs::ServiceToken = e.needs {
        return if who == SessionWithoutCsrf {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
    }
    match who {
        Anonymous | UnknownKey | RevokedKey | ExpiredKey => unauthenticated,
        // §7: another workspace's objects are 404, like missing ones.
        OtherWorkspace if names_an_object => StatusCode::NOT_FOUND,
        OtherWorkspace => ok,
        // §4: a session's state-changing request needs its CSRF token.
        SessionWithoutCsrf if writes => StatusCode::FORBIDDEN,
        SessionWithoutCsrf => ok,
        // §3: owners hold `*`; the target keys are the owner's own.
        Owner => ok,
        // §3 Rank: the target keys are the owner's; an admin may revoke one (a safety
        // action) but not edit, rotate or delete it. §11: the own-keys profiles show it
        // only its own keys. The members it changes are members.
        Admin => match e.needs {
            Needs::KeyWrite | Needs::KeyRevoke if own_keys => StatusCode::NOT_FOUND,
            Needs::KeyWrite => StatusCode::FORBIDDEN,
            _ => ok,
        },
        // §3: a member holds the read scopes; no api_keys:write without the policy. §11:
        // another user's key is 404 on the own-keys profiles, before any scope is asked.
        Member => match e.needs {
            Needs::Anyone | Needs::Read(_) => ok,
            Needs::KeyWrite | Needs::KeyRevoke if own_keys => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        },
        // §3: with members_can_create_keys a member creates keys and sees only its own:
        // every other key is 404.
        OwnKeysMember => match e.needs {
            Needs::Anyone | Needs::KeyCreate => ok,
            Needs::Read(_) if e.path.contains("{key}") => StatusCode::NOT_FOUND,
            Needs::Read(_) => ok,
            Needs::KeyWrite | Needs::KeyRevoke => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        },
        // §3: a custom-scope key holds only what it lists. It acts as the owner, so the
        // owner's keys are its own, and a write is refused for want of api_keys:write.
        CustomScopeKey => match e.needs {
            Needs::Anyone | Needs::Read("api_keys:read") => ok,
            _ => StatusCode::FORBIDDEN,
        },
    }
}

/// Whether the console treats this caller as having no session (§10).
fn expected_without_a_session(who: Who) -> bool {
    use Who::*;
    matches!(
        who,
        Anonymous | UnknownKey | RevokedKey | ExpiredKey | CustomScopeKey
    )
}

/// A credential, as one surface takes it.
#[derive(Clone, Default)]
pub struct Credential {
    pub bearer: Option<String>,
    /// A console session's cookie.
    pub cookie: Option<String>,
    /// The session's CSRF token, when the caller sends it.
    pub csrf: Option<String>,
}

impl Credential {
    fn bearer(key: &str) -> Credential {
        Credential {
            bearer: Some(key.to_owned()),
            ..Credential::default()
        }
    }

    fn session(cookie: &str, csrf: Option<&str>) -> Credential {
        Credential {
            bearer: None,
            cookie: Some(cookie.to_owned()),
            csrf: csrf.map(str::to_owned),
        }
    }
}

/// One kind of caller: what it presents to the API (and the wire profiles), what it
/// presents to the console, and whether its targets live in the own-keys workspace.
pub struct Calling {
    pub who: Who,
    pub api: Credential,
    pub console: Credential,
    pub in_own_keys: bool,
}

/// A workspace and its owner, where a caller's targets live.
pub struct Place {
    pub owner: Owner,
}

impl Place {
    fn ws(&self) -> Uuid {
        self.owner.workspace_id
    }
}

pub struct World {
    pub a: Place,
    pub own_keys: Place,
    pub callers: Vec<Calling>,
}

/// Everyone who calls: workspace A with its owner, an admin and a member; a workspace
/// whose members may create keys, with such a member; and workspace B's owner.
pub async fn world(app: &TestApp) -> World {
    let a = Place {
        owner: app.owner().await,
    };
    let b = app.owner().await;
    let own_keys = Place {
        owner: app.owner().await,
    };
    app.set_members_can_create_keys(&own_keys.owner, true).await;
    let (admin_user, admin) = app.member(a.ws(), Role::Admin, true).await;
    let (member_user, member) = app.member(a.ws(), Role::Member, true).await;
    let (own_keys_user, own_keys_member) = app.member(own_keys.ws(), Role::Member, true).await;
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

    let (owner_cookie, owner_csrf) = app.session(&a.owner.user).await;
    let (b_cookie, b_csrf) = app.session(&b.user).await;
    let (admin_cookie, admin_csrf) = app.session(&admin_user).await;
    let (member_cookie, member_csrf) = app.session(&member_user).await;
    let (own_cookie, own_csrf) = app.session(&own_keys_user).await;
    // The console's revoked and expired credentials are sessions: one logged out, one past
    // session_max_hours. Each belongs to an admin of A, who could do everything were it valid.
    let (ended_user, _) = app.member(a.ws(), Role::Admin, true).await;
    let (ended_cookie, ended_csrf) = app.session(&ended_user).await;
    let out = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", format!("keyward_session={ended_cookie}"))
        .header("x-csrf-token", &ended_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let (old_user, _) = app.member(a.ws(), Role::Admin, true).await;
    let (old_cookie, old_csrf) = app.session(&old_user).await;
    sqlx::query(&format!(
        "UPDATE sessions SET created_at = 0, last_seen_at = 0 WHERE user_id = '{}'",
        old_user.id
    ))
    .execute(&app.db().await)
    .await
    .unwrap();
    crate::support::sleep_past(&expiring.body["expires_at"]).await;

    let unknown_key = format!("kw_{}", "x".repeat(40));
    let unknown_cookie = "x".repeat(43);
    let calling = |who, api, console, in_own_keys| Calling {
        who,
        api,
        console,
        in_own_keys,
    };
    use Credential as C;
    let callers = vec![
        calling(Who::Anonymous, C::default(), C::default(), false),
        calling(
            Who::UnknownKey,
            C::bearer(&unknown_key),
            C::session(&unknown_cookie, Some(&owner_csrf)),
            false,
        ),
        calling(
            Who::RevokedKey,
            C::bearer(&revoked),
            C::session(&ended_cookie, Some(&ended_csrf)),
            false,
        ),
        calling(
            Who::ExpiredKey,
            C::bearer(&expired),
            C::session(&old_cookie, Some(&old_csrf)),
            false,
        ),
        calling(
            Who::Owner,
            C::bearer(&a.owner.key),
            C::session(&owner_cookie, Some(&owner_csrf)),
            false,
        ),
        calling(
            Who::Admin,
            C::bearer(&admin),
            C::session(&admin_cookie, Some(&admin_csrf)),
            false,
        ),
        calling(
            Who::Member,
            C::bearer(&member),
            C::session(&member_cookie, Some(&member_csrf)),
            false,
        ),
        calling(
            Who::OwnKeysMember,
            C::bearer(&own_keys_member),
            C::session(&own_cookie, Some(&own_csrf)),
            true,
        ),
        calling(
            Who::CustomScopeKey,
            C::bearer(&custom),
            C::bearer(&custom),
            false,
        ),
        calling(
            Who::SessionWithoutCsrf,
            C::session(&owner_cookie, None),
            C::session(&owner_cookie, None),
            false,
        ),
        calling(
            Who::OtherWorkspace,
            C::bearer(&b.key),
            C::session(&b_cookie, Some(&b_csrf)),
            false,
        ),
    ];
    World {
        a,
        own_keys,
        callers,
    }
}

/// Fresh targets in `place` for one cell: a key of the owner's, a member, an invitation.
async fn targets(app: &TestApp, place: &Place, n: usize) -> Vec<(&'static str, String)> {
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
        .key;
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
        Added::Invited(i) => i.id,
        Added::Member(_) => panic!("the invitee had an account"),
    };
    vec![
        ("{ws}", place.ws().to_string()),
        ("{key}", key.id.to_string()),
        ("{seq}", key.seq.to_string()),
        ("{kid}", format!("key_{}", key.id.simple())),
        ("{user}", user.id.to_string()),
        ("{inv}", inv.to_string()),
        // Every workspace here has the default prefix; the settings form sends it back.
        ("{prefix}", app.config.default_key_prefix.clone()),
        ("{n}", n.to_string()),
    ]
}

fn fill(text: &str, values: &[(&'static str, String)]) -> String {
    values
        .iter()
        .fold(text.to_owned(), |t, (name, value)| t.replace(name, value))
}

async fn call(
    app: &TestApp,
    caller: &Calling,
    e: &Endpoint,
    values: &[(&'static str, String)],
) -> Reply {
    let credential = match e.surface {
        Surface::Console => &caller.console,
        Surface::Api | Surface::OwnKeys => &caller.api,
    };
    // Redirects are answers here: the console's way to the log-in page is a 303.
    let client = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.request(e.method.clone(), app.url(&fill(e.path, values)));
    for (name, value) in e.headers {
        req = req.header(*name, fill(value, values));
    }
    if let Some(token) = &credential.bearer {
        req = req.bearer_auth(token);
    }
    if let Some(cookie) = &credential.cookie {
        req = req.header("cookie", format!("keyward_session={cookie}"));
    }
    match &e.body {
        Body::None => {
            if let (Some(csrf), Surface::Api | Surface::OwnKeys) = (&credential.csrf, e.surface) {
                req = req.header("x-csrf-token", csrf);
            }
        }
        Body::Json(body) => {
            if let Some(csrf) = &credential.csrf {
                req = req.header("x-csrf-token", csrf);
            }
            req = req
                .header("content-type", "application/json")
                .body(fill(&body.to_string(), values));
        }
        Body::Form(fields) => {
            let mut form: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), fill(v, values)))
                .collect();
            if let Some(csrf) = &credential.csrf {
                form.push(("csrf_token".into(), csrf.clone()));
            }
            req = req.form(&form);
        }
    }
    reply(req.send().await.unwrap()).await
}

/// Runs every endpoint against every caller and reports every cell that differs from
/// [`expected`]. Returns the number of cells.
pub async fn run(app: &TestApp, world: &World, endpoints: &[Endpoint]) -> usize {
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for (i, e) in endpoints.iter().enumerate() {
        for (j, caller) in world.callers.iter().enumerate() {
            let n = i * 100 + j;
            let place = if caller.in_own_keys {
                &world.own_keys
            } else {
                &world.a
            };
            let values = targets(app, place, n).await;
            let got = call(app, caller, e, &values).await;
            let want = expected(caller.who, e);
            cells += 1;
            if got.status != want {
                mismatches.push(format!(
                    "{:?} {} {}: expected {want}, got {} {}",
                    caller.who,
                    e.method,
                    e.path,
                    got.status,
                    got.text.chars().take(160).collect::<String>()
                ));
            } else if want == StatusCode::SEE_OTHER {
                // The way to the log-in page only for those without a session: a signed-in
                // visitor's 303 is a success, which goes anywhere else.
                let to = got.headers.get("location").and_then(|v| v.to_str().ok());
                let to_login = expected_without_a_session(caller.who);
                if (to == Some("/login")) != to_login {
                    mismatches.push(format!(
                        "{:?} {} {}: redirected to {to:?}",
                        caller.who, e.method, e.path
                    ));
                }
            }
        }
    }
    println!(
        "auth matrix: {cells} cells, {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    cells
}
