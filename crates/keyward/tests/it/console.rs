//! PRODUCT.md §10 over HTTP: the console's pages and form posts enforce the same rules as
//! the API, because they call the same service. (The browser suite in `tests/browser/`
//! drives the same pages in Chromium.)

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{redirect, Client, StatusCode};

use crate::support::accounts::{session_cookie, Session, PASSWORD};
use crate::support::{keys_path, TestApp};

/// A browser-like client that does not follow redirects, so tests see them.
fn browser() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
    content_type: String,
    headers: reqwest::header::HeaderMap,
}

async fn get(app: &TestApp, s: Option<&Session>, path: &str) -> Page {
    let mut req = browser().get(app.url(path));
    if let Some(s) = s {
        req = req.header("cookie", format!("keyward_session={}", s.cookie));
    }
    page(req.send().await.unwrap()).await
}

async fn post(app: &TestApp, s: Option<&Session>, path: &str, form: &[(&str, &str)]) -> Page {
    let mut req = browser().post(app.url(path)).form(form);
    if let Some(s) = s {
        req = req.header("cookie", format!("keyward_session={}", s.cookie));
    }
    page(req.send().await.unwrap()).await
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status();
    let headers = r.headers().clone();
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    Page {
        status,
        location,
        html: r.text().await.unwrap(),
        content_type,
        headers,
    }
}

/// An owner who signed up and verified, logged in, with a full-access key for checks.
async fn verified_owner(app: &TestApp, email: &str) -> (Session, uuid::Uuid, String) {
    app.signup(email, "Owner").await;
    let token = crate::support::accounts::token_of(&app.last_link("/verify-email"));
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(serde_json::json!({ "token": token })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = app.logged_in(email).await;
    let user = app.service.find_user(email).await.unwrap();
    let ws = app
        .service
        .list_workspaces(&keyward_core::service::Caller::system(user.clone()))
        .await
        .unwrap()[0]
        .0
        .id;
    let key = app.key_for(&user, ws, None).await;
    (s, ws, key)
}

async fn key_count(app: &TestApp, ws: uuid::Uuid, key: &str) -> usize {
    app.get(&keys_path(ws), key)
        .await
        .body
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn signed_in_pages_send_visitors_without_a_session_to_log_in() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/platform/api-keys",
        "/platform/members",
        "/platform/audit-log",
        "/platform/settings",
    ] {
        let p = get(&app, None, path).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(p.location.as_deref(), Some("/login"), "{path}");
    }
    let login = get(&app, None, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.content_type.starts_with("text/html"));
}

#[tokio::test]
async fn pages_forbid_framing_caching_inline_scripts_and_referrers() {
    let app = TestApp::spawn().await;
    let p = get(&app, None, "/login").await;
    let csp = p.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(p.headers["cache-control"], "no-store");
    assert_eq!(p.headers["x-frame-options"], "DENY");
    assert_eq!(p.headers["referrer-policy"], "no-referrer");
    assert!(!p.html.contains("<script>"), "no inline script");
    let css = get(&app, None, "/assets/console.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
}

#[tokio::test]
async fn the_log_in_form_sets_the_session_and_says_what_went_wrong_in_words() {
    let app = TestApp::spawn().await;
    app.signup("ada@example.com", "Ada").await;
    let wrong = post(
        &app,
        None,
        "/login",
        &[
            ("email", "ada@example.com"),
            ("password", "wrong password!!"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.html.contains("The email or password is not right."),
        "{}",
        wrong.html
    );
    assert!(!wrong.html.contains("\"error\""), "never raw JSON");
    let ok = browser()
        .post(app.url("/login"))
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let set_cookie = ok.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn a_form_post_without_the_sessions_csrf_token_changes_nothing() {
    let app = TestApp::spawn().await;
    let (s, ws, key) = verified_owner(&app, "owner@example.com").await;
    let (other, _, _) = verified_owner(&app, "other@example.com").await;

    let none = post(
        &app,
        Some(&s),
        "/platform/api-keys/create",
        &[("name", "forged"), ("access", "full")],
    )
    .await;
    assert_eq!(none.status, StatusCode::FORBIDDEN, "{}", none.html);
    assert!(
        none.html.contains("expired or came from another site"),
        "{}",
        none.html
    );
    let foreign = post(
        &app,
        Some(&s),
        "/platform/api-keys/create",
        &[
            ("name", "forged"),
            ("access", "full"),
            ("csrf_token", &other.csrf),
        ],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(
        key_count(&app, ws, &key).await,
        1,
        "only the checking key exists"
    );

    let real = post(
        &app,
        Some(&s),
        "/platform/api-keys/create",
        &[
            ("name", "real"),
            ("access", "full"),
            ("csrf_token", &s.csrf),
        ],
    )
    .await;
    assert_eq!(real.status, StatusCode::CREATED, "{}", real.html);
    assert_eq!(key_count(&app, ws, &key).await, 2);
}

#[tokio::test]
async fn the_new_secret_is_in_the_create_answer_only() {
    let app = TestApp::spawn().await;
    let (s, ws, key) = verified_owner(&app, "owner@example.com").await;
    let created = post(
        &app,
        Some(&s),
        "/platform/api-keys/create",
        &[
            ("name", "ci"),
            ("access", "custom"),
            ("scopes", "apps:read"),
            ("scopes", "apps:deploy"),
            ("expires_on", "2030-01-01"),
            ("csrf_token", &s.csrf),
        ],
    )
    .await;
    let secret = created
        .html
        .split("id=\"new-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("kw_"), "{secret}");
    let listing = app.get(&keys_path(ws), &key).await;
    let made = listing
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ci")
        .cloned()
        .unwrap();
    assert_eq!(
        made["scopes"],
        serde_json::json!(["apps:deploy", "apps:read"])
    );
    assert_eq!(made["expires_at"], "2030-01-01T23:59:59Z");
    let again = get(&app, Some(&s), "/platform/api-keys").await;
    assert!(again.html.contains(made["key_prefix"].as_str().unwrap()));
    assert!(!again.html.contains(&secret), "shown once");
    let me = app.get("/api/v1/users/current", &secret).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn members_get_a_read_only_page_and_their_forms_are_refused_anyway() {
    let app = TestApp::spawn().await;
    let (_, ws, owner_key) = verified_owner(&app, "owner@example.com").await;
    let (member, _) = app
        .member(ws, keyward_core::model::Role::Member, true)
        .await;
    let (cookie, _) = app.session(&member).await;
    let s = Session {
        csrf: app
            .service
            .csrf_token(&keyward_core::secret::SecretString::new(cookie.clone()))
            .expose_secret()
            .to_owned(),
        cookie,
    };
    let page = get(&app, Some(&s), "/platform/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    for control in [
        "Create API key",
        ">Edit<",
        ">Rotate<",
        ">Revoke<",
        "aria-label=\"Delete\"",
    ] {
        assert!(!page.html.contains(control), "{control} shown to a member");
    }
    assert!(page.html.contains("data-key-id"), "but they see the keys");
    let key_id = app.key_id(&owner_key).await;
    let revoke = post(
        &app,
        Some(&s),
        &format!("/platform/api-keys/{key_id}/revoke"),
        &[("csrf_token", &s.csrf)],
    )
    .await;
    assert_eq!(revoke.status, StatusCode::FORBIDDEN, "{}", revoke.html);
    assert!(
        revoke.html.contains("api_keys:write"),
        "said in words: {}",
        revoke.html
    );
    assert_eq!(
        app.get("/api/v1/users/current", &owner_key).await.status,
        StatusCode::OK,
        "still works"
    );
    let members = get(&app, Some(&s), "/platform/members").await;
    assert!(!members.html.contains(">Invite<"));
}

/// The form fields of the create dialog as the page renders them: the checked access
/// radio and the ticked scope boxes, in the order a browser would send them.
fn create_dialog_defaults(html: &str) -> Vec<(String, String)> {
    let dialog = html
        .split("action=\"/platform/api-keys/create\"")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .expect("the page has the create dialog");
    let mut fields = Vec::new();
    for input in dialog.split("<input").skip(1) {
        let tag = input.split('>').next().unwrap_or("");
        let attr = |name: &str| {
            tag.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .map(str::to_owned)
        };
        let (Some(name), Some(value)) = (attr("name"), attr("value")) else {
            continue;
        };
        let kind = attr("type").unwrap_or_default();
        if (kind == "radio" || kind == "checkbox") && !tag.contains(" checked") {
            continue;
        }
        fields.push((name, value));
    }
    fields
}

#[tokio::test]
async fn a_member_who_may_create_keys_is_offered_custom_access_and_its_defaults_make_a_key() {
    let app = TestApp::spawn().await;
    let (owner_session, ws, owner_key) = verified_owner(&app, "owner@example.com").await;
    let on = app
        .patch(
            &format!("/api/v1/workspaces/{ws}"),
            &owner_key,
            serde_json::json!({ "members_can_create_keys": true }),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let (member, _) = app
        .member(ws, keyward_core::model::Role::Member, true)
        .await;
    let (cookie, csrf) = app.session(&member).await;
    let s = Session { cookie, csrf };

    // The owner holds `*`: Full access is offered, and chosen by default.
    let theirs = get(&app, Some(&owner_session), "/platform/api-keys").await;
    let defaults = create_dialog_defaults(&theirs.html);
    assert!(
        defaults.contains(&("access".into(), "full".into())),
        "{defaults:?}"
    );

    // A member cannot give `*` (PRODUCT.md §3): no Full access, and every scope it holds
    // ticked, so the dialog as it opens makes a key it may make.
    let page = get(&app, Some(&s), "/platform/api-keys").await;
    assert!(!page.html.contains("value=\"full\""), "Full access offered");
    let defaults = create_dialog_defaults(&page.html);
    assert!(
        defaults.contains(&("access".into(), "custom".into())),
        "{defaults:?}"
    );
    let ticked: Vec<&str> = defaults
        .iter()
        .filter(|(n, _)| n == "scopes")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        ticked.contains(&"api_keys:read") && ticked.contains(&"apps:deploy"),
        "{ticked:?}"
    );
    let mut form: Vec<(&str, &str)> = defaults
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .filter(|(n, _)| *n != "name")
        .collect();
    form.push(("name", "member default"));
    let created = post(&app, Some(&s), "/platform/api-keys/create", &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.html);

    // Asking for `*` anyway is refused, and makes nothing.
    let before = key_count(&app, ws, &owner_key).await;
    let full = post(
        &app,
        Some(&s),
        "/platform/api-keys/create",
        &[
            ("name", "full"),
            ("access", "full"),
            ("csrf_token", &s.csrf),
        ],
    )
    .await;
    assert_eq!(full.status, StatusCode::FORBIDDEN, "{}", full.html);
    assert_eq!(key_count(&app, ws, &owner_key).await, before);
}

#[tokio::test]
async fn unverified_users_see_the_banner_and_cannot_create_keys_from_the_console() {
    let app = TestApp::spawn().await;
    app.signup("new@example.com", "New").await;
    let s = app.logged_in("new@example.com").await;
    let page = get(&app, Some(&s), "/platform/api-keys").await;
    assert!(page.html.contains("Verify your email"));
    assert!(!page.html.contains("Create API key"));
    let refused = post(
        &app,
        Some(&s),
        "/platform/api-keys/create",
        &[("name", "x"), ("access", "full"), ("csrf_token", &s.csrf)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.html.contains("Verify your email address first"),
        "{}",
        refused.html
    );
}

#[tokio::test]
async fn sign_up_closed_says_so_on_the_page() {
    let app = TestApp::spawn_with(|c| c.allow_signup = false).await;
    let p = get(&app, None, "/signup").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("Sign-up is closed"));
    let login = get(&app, None, "/login").await;
    assert!(!login.html.contains("Create an account"));
}

#[tokio::test]
async fn the_verification_link_page_verifies_once() {
    let app = TestApp::spawn().await;
    app.signup("v@example.com", "V").await;
    let link = app.last_link("/verify-email");
    let path = &link[app.config.public_base_url().len()..];
    let first = get(&app, None, path).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.html.contains("Email verified"));
    let second = get(&app, None, path).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(second.html.contains("This link is not valid"));
    let r = app.login("v@example.com", PASSWORD).await;
    assert_eq!(r.body["user"]["email_verified"], true);
    assert!(session_cookie(&r).is_some());
}
