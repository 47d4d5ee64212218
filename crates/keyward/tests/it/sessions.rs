//! PRODUCT.md §4 `/auth/login` and `/auth/logout`: console sessions, their cookie, their
//! CSRF token, their timeouts, and the limits on guessing passwords.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::accounts::{session_cookie, Session, PASSWORD};
use crate::support::TestApp;

async fn app_with_user(adjust: impl FnOnce(&mut keyward::config::Config)) -> TestApp {
    let app = TestApp::spawn_with(adjust).await;
    assert_eq!(
        app.signup("ada@example.com", "Ada").await.status,
        StatusCode::CREATED
    );
    app
}

async fn db(app: &TestApp) -> sqlx::AnyPool {
    app.db().await
}

#[tokio::test]
async fn log_in_sets_an_httponly_lax_cookie_and_returns_the_user_and_a_csrf_token() {
    let app = app_with_user(|_| {}).await;
    let r = app.login("ADA@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["user"]["email"], "ada@example.com");
    assert_eq!(r.body["csrf_token"].as_str().map(str::len), Some(64));
    let set_cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let cookie = session_cookie(&r).unwrap();
    assert!(cookie.len() >= 32, "at least 128 bits");

    // The cookie is stored only as a hash.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&db(&app).await)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], cookie.as_bytes());
    for (_, raw) in app.stored().await {
        assert!(!raw.windows(cookie.len()).any(|w| w == cookie.as_bytes()));
    }
}

#[tokio::test]
async fn each_log_in_gets_a_fresh_session_id() {
    let app = app_with_user(|_| {}).await;
    let one = app.logged_in("ada@example.com").await;
    let two = app.logged_in("ada@example.com").await;
    assert_ne!(one.cookie, two.cookie);
    assert_ne!(one.csrf, two.csrf);
}

#[tokio::test]
async fn the_cookie_is_secure_when_public_url_is_https() {
    let app = app_with_user(|c| c.public_url = Some("https://keys.example.com".into())).await;
    let r = app.login("ada@example.com", PASSWORD).await;
    let set_cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    // Emailed links start with public_url.
    assert!(app
        .last_link("/verify-email")
        .starts_with("https://keys.example.com/verify-email?token="));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = app_with_user(|_| {}).await;
    let wrong = app
        .login("ada@example.com", "not the password at all")
        .await;
    let unknown = app
        .login("nobody@example.com", "not the password at all")
        .await;
    let not_email = app.login("nobody", "not the password at all").await;
    for r in [&wrong, &unknown, &not_email] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(!r.headers.contains_key("set-cookie"));
    }
    let strip = |r: &crate::support::Reply| {
        let mut b = r.body.clone();
        b["error"]["request_id"] = json!(null);
        b
    };
    assert_eq!(strip(&wrong), strip(&unknown));
    assert_eq!(strip(&wrong), strip(&not_email));
}

#[tokio::test]
async fn failed_log_ins_are_limited_per_account() {
    let app = app_with_user(|c| c.login_failures_per_minute = 3).await;
    for _ in 0..3 {
        let r = app.login("ada@example.com", "wrong password 123").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: the limit is not an oracle.
    let r = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.code(), "rate_limited");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
}

#[tokio::test]
async fn failed_log_ins_are_limited_per_client_ip_across_accounts() {
    let app = app_with_user(|c| c.login_failures_per_minute = 3).await;
    for i in 0..3 {
        let r = app
            .login(&format!("guess{i}@example.com"), "wrong password 123")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

#[tokio::test]
async fn log_out_ends_the_session_on_the_server_and_needs_the_csrf_token() {
    let app = app_with_user(|_| {}).await;
    let s = app.logged_in("ada@example.com").await;
    let forged = app
        .as_session(&s, Method::POST, "/api/v1/auth/logout", None, false)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.code(), "csrf_failed");

    let out = app
        .as_session(&s, Method::POST, "/api/v1/auth/logout", None, true)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    let cleared = out.headers["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // A copy of the cookie kept by someone else is dead too.
    let me = app
        .as_session(&s, Method::GET, "/api/v1/users/current", None, false)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text);
}

async fn current(app: &TestApp, s: &Session) -> StatusCode {
    app.as_session(s, Method::GET, "/api/v1/users/current", None, false)
        .await
        .status
}

#[tokio::test]
async fn a_session_idle_longer_than_session_idle_minutes_is_over() {
    let app = app_with_user(|c| c.session_idle_minutes = 30).await;
    let s = app.logged_in("ada@example.com").await;
    assert_eq!(current(&app, &s).await, StatusCode::OK);
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 29 * 60 * 1000")
        .execute(&db(&app).await)
        .await
        .unwrap();
    assert_eq!(
        current(&app, &s).await,
        StatusCode::OK,
        "29 minutes idle is fine"
    );
    // That request counted as activity: the idle clock restarted.
    let seen: i64 = sqlx::query_scalar("SELECT last_seen_at FROM sessions")
        .fetch_one(&db(&app).await)
        .await
        .unwrap();
    assert!(chrono::Utc::now().timestamp_millis() - seen < 60_000);
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 31 * 60 * 1000")
        .execute(&db(&app).await)
        .await
        .unwrap();
    assert_eq!(current(&app, &s).await, StatusCode::UNAUTHORIZED);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&db(&app).await)
        .await
        .unwrap();
    assert_eq!(left, 0, "an expired session is deleted");
}

#[tokio::test]
async fn a_session_older_than_session_max_hours_is_over_however_busy() {
    let app = app_with_user(|c| c.session_max_hours = 12).await;
    let s = app.logged_in("ada@example.com").await;
    sqlx::query("UPDATE sessions SET created_at = created_at - 11 * 3600 * 1000")
        .execute(&db(&app).await)
        .await
        .unwrap();
    assert_eq!(current(&app, &s).await, StatusCode::OK);
    sqlx::query("UPDATE sessions SET created_at = created_at - 2 * 3600 * 1000")
        .execute(&db(&app).await)
        .await
        .unwrap();
    assert_eq!(current(&app, &s).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_without_a_password_cannot_log_in() {
    let app = TestApp::spawn().await;
    app.user("cli-made@example.com", true).await;
    let r = app.login("cli-made@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

#[tokio::test]
async fn log_out_ends_a_console_session_and_refuses_an_api_key() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let r = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&owner.key), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/users/current", &owner.key).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_account_whose_address_predates_the_email_rule_still_logs_in() {
    let app = app_with_user(|_| {}).await;
    // Before the rule matched what the mailer takes, an admin could make such an address.
    sqlx::query("UPDATE users SET email = 'ada@build_box.example' WHERE email = 'ada@example.com'")
        .execute(&db(&app).await)
        .await
        .unwrap();
    let r = app.login("Ada@Build_Box.example", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // New accounts cannot have one.
    let again = app.signup("bob@build_box.example", "Bob").await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
}
