//! PRODUCT.md §4 `/auth/signup`, `/auth/verify-email`, `/auth/resend-verification`: people
//! make their own accounts, prove their address with a single-use link, and start with a
//! workspace of their own and no key.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::accounts::{token_of, PASSWORD};
use crate::support::smtp::SmtpSink;
use crate::support::TestApp;

#[tokio::test]
async fn sign_up_makes_an_unverified_owner_of_a_new_workspace_with_no_key() {
    let app = TestApp::spawn().await;
    let r = app.signup("Ada@Example.com", "Ada Lovelace").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["email"], "ada@example.com");
    assert_eq!(r.body["email_verified"], false);
    assert!(!r.text.contains(PASSWORD), "the password never comes back");

    let session = app.logged_in("ada@example.com").await;
    let me = app
        .as_session(&session, Method::GET, "/api/v1/users/current", None, false)
        .await;
    assert_eq!(me.body["role"], "owner", "{}", me.text);
    assert_eq!(me.body["workspace"]["name"], "Ada Lovelace's workspace");
    let ws = me.body["workspace"]["id"].as_str().unwrap().to_owned();
    let keys = app
        .as_session(
            &session,
            Method::GET,
            &format!("/api/v1/workspaces/{ws}/api-keys"),
            None,
            false,
        )
        .await;
    assert_eq!(keys.body, json!([]), "no key is made automatically");

    // Until the address is verified, key writes are refused.
    let create = app
        .as_session(
            &session,
            Method::POST,
            &format!("/api/v1/workspaces/{ws}/api-keys"),
            Some(json!({"name": "first"})),
            true,
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN, "{}", create.text);
    assert_eq!(create.code(), "email_unverified");
}

#[tokio::test]
async fn the_emailed_link_verifies_the_address_once_and_is_audited() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "grace@example.com", "password": PASSWORD, "name": "Grace",
                      "workspace_name": "Navy"});
    let r = app
        .call(Method::POST, "/api/v1/auth/signup", None, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let link = app.last_link("/verify-email");
    assert!(link.starts_with(&app.config.public_base_url()), "{link}");
    let token = token_of(&link);
    assert_eq!(token.len(), 64, "a 256-bit token");

    let verify = |token: String| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/v1/auth/verify-email",
                None,
                Some(json!({ "token": token })),
            )
            .await
        }
    };
    let first = verify(token.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["email_verified"], true);
    let again = verify(token).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "single use");
    assert_eq!(again.code(), "validation_failed");
    let forged = verify("0".repeat(64)).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);

    let session = app.logged_in("grace@example.com").await;
    let me = app
        .as_session(&session, Method::GET, "/api/v1/users/current", None, false)
        .await;
    assert_eq!(me.body["workspace"]["name"], "Navy");
    let ws = me.body["workspace"]["id"].as_str().unwrap().to_owned();
    let events = app
        .as_session(
            &session,
            Method::GET,
            &format!("/api/v1/workspaces/{ws}/audit-events?action=user.email_verified"),
            None,
            false,
        )
        .await;
    assert_eq!(
        events.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        events.text
    );
    let create = app
        .as_session(
            &session,
            Method::POST,
            &format!("/api/v1/workspaces/{ws}/api-keys"),
            Some(json!({"name": "first"})),
            true,
        )
        .await;
    assert_eq!(create.status, StatusCode::CREATED, "{}", create.text);
}

#[tokio::test]
async fn a_verification_link_older_than_24_hours_no_longer_works() {
    let app = TestApp::spawn().await;
    app.signup("late@example.com", "Late").await;
    let token = token_of(&app.last_link("/verify-email"));
    let db = app.db().await;
    sqlx::query("UPDATE email_tokens SET expires_at = expires_at - 24 * 3600 * 1000")
        .execute(&db)
        .await
        .unwrap();
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

#[tokio::test]
async fn sign_up_refuses_short_passwords_bad_emails_and_taken_emails() {
    let app = TestApp::spawn().await;
    let short = json!({"email": "a@example.com", "password": "short", "name": "A"});
    let r = app
        .call(Method::POST, "/api/v1/auth/signup", None, Some(short))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["error"]["details"][0]["field"], "password");
    assert!(!r.text.contains("short"), "no echo: {}", r.text);

    let bad = json!({"email": "not-an-email", "password": PASSWORD, "name": "A"});
    let r = app
        .call(Method::POST, "/api/v1/auth/signup", None, Some(bad))
        .await;
    assert_eq!(
        r.body["error"]["details"][0]["field"], "email",
        "{}",
        r.text
    );

    let missing = json!({"email": "a@example.com", "password": PASSWORD});
    let r = app
        .call(Method::POST, "/api/v1/auth/signup", None, Some(missing))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    assert_eq!(
        app.signup("b@example.com", "B").await.status,
        StatusCode::CREATED
    );
    let taken = app.signup("B@example.com", "B again").await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
}

#[tokio::test]
async fn with_allow_signup_off_sign_up_is_403() {
    let app = TestApp::spawn_with(|c| c.allow_signup = false).await;
    let r = app.signup("closed@example.com", "Closed").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.code(), "forbidden");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sign-up is closed"));
    assert!(app.outbox_links("/verify-email").is_empty());
}

#[tokio::test]
async fn resending_answers_the_same_for_any_email_and_sends_at_most_one_a_minute() {
    let app = TestApp::spawn().await;
    let resend = |email: &'static str| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/v1/auth/resend-verification",
                None,
                Some(json!({ "email": email })),
            )
            .await
        }
    };
    // An unverified user the operator made: no link was sent yet.
    app.user("quiet@example.com", false).await;
    let first = resend("quiet@example.com").await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    assert_eq!(app.outbox_links("/verify-email").len(), 1);

    let unknown = resend("nobody@example.com").await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(
        unknown.body, first.body,
        "no hint whether the account exists"
    );
    assert_eq!(app.outbox_links("/verify-email").len(), 1);

    let soon = resend("quiet@example.com").await;
    assert_eq!(soon.status, StatusCode::TOO_MANY_REQUESTS, "{}", soon.text);
    assert!(soon.headers.contains_key("retry-after"));

    // A verified account gets nothing, and the answer says nothing about it.
    app.user("done@example.com", true).await;
    let verified = resend("done@example.com").await;
    assert_eq!(verified.status, StatusCode::ACCEPTED);
    assert_eq!(verified.body, first.body);
    assert_eq!(app.outbox_links("/verify-email").len(), 1);

    // Sign-up's own message counts too.
    app.signup("eager@example.com", "Eager").await;
    assert_eq!(
        resend("eager@example.com").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn with_smtp_url_the_verification_email_goes_to_the_smtp_server_not_the_outbox() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = TestApp::spawn_with(|c| c.smtp_url = Some(keyward::config::SmtpUrl(url))).await;
    let r = app.signup("mailme@example.com", "Mail Me").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].rcpt_tos, vec!["mailme@example.com".to_owned()]);
    let link = received[0]
        .eml()
        .link_containing("/verify-email?token=")
        .expect("the message carries the link");
    assert!(
        app.outbox_links("/verify-email").is_empty(),
        "nothing in the outbox"
    );
    let verified = app
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            None,
            Some(json!({ "token": token_of(&link) })),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
}
