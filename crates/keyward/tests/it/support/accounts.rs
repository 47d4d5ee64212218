//! Accounts over HTTP, as the console and its users see them: sign-up, the emailed links in
//! the outbox, log-in, and requests made with the session cookie.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{reply, Reply, TestApp};

/// A logged-in console session: the cookie value and its CSRF token.
#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// `POST /auth/signup` with the test password.
    pub async fn signup(&self, email: &str, name: &str) -> Reply {
        let body = json!({"email": email, "password": PASSWORD, "name": name});
        self.call(Method::POST, "/api/v1/auth/signup", None, Some(body))
            .await
    }

    /// `POST /auth/login`; the reply carries `Set-Cookie` and `csrf_token`.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let body = json!({"email": email, "password": password});
        self.call(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
    }

    /// Logs in and returns the session, failing the test if log-in fails.
    pub async fn logged_in(&self, email: &str) -> Session {
        let r = self.login(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        Session {
            cookie: session_cookie(&r).expect("log-in sets the session cookie"),
            csrf: r.body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A request with the session's cookie, and its CSRF token when `csrf` is set.
    pub async fn as_session(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("cookie", format!("keyward_session={}", session.cookie));
        if csrf {
            req = req.header("x-csrf-token", &session.csrf);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.unwrap()).await
    }

    /// Every link in the outbox whose path is `path`, oldest message first.
    pub fn outbox_links(&self, path: &str) -> Vec<String> {
        outbox_links(self.dir.path(), path)
    }

    /// The newest outbox link to `path`, failing the test if there is none.
    pub fn last_link(&self, path: &str) -> String {
        self.outbox_links(path)
            .pop()
            .unwrap_or_else(|| panic!("no email with a {path} link in the outbox"))
    }
}

/// The value of `keyward_session` in a reply's `Set-Cookie`.
pub fn session_cookie(r: &Reply) -> Option<String> {
    session_cookie_of(&r.headers)
}

/// [`session_cookie`] from the headers alone.
pub fn session_cookie_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("keyward_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

/// The `token` query parameter of a link.
pub fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap_or("").to_owned()
}

/// The links to `path` in every outbox message under `data_dir`, oldest first.
pub fn outbox_links(data_dir: &Path, path: &str) -> Vec<String> {
    let needle = format!("{path}?token=");
    super::eml::outbox(data_dir)
        .iter()
        .filter_map(|m| m.link_containing(&needle))
        .collect()
}
