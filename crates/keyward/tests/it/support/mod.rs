//! The test harness: [`TestApp`] starts the real server on port 0 over a fresh SQLite
//! database, and makes users, workspaces and keys in one line through the same service
//! layer the admin CLI uses.

#![allow(
    dead_code,
    reason = "shared by every test module; each uses a different subset"
)]

pub mod accounts;
pub mod binary;
pub mod cli;
pub mod doc;
pub mod eml;
pub mod github;
pub mod leaks;
pub mod legacy;
pub mod pgproxy;
pub mod postgres;
pub mod smtp;

use keyward::app::Server;
use keyward::config::Config;
use keyward_core::model::{Role, User};
use keyward_core::service::{Caller, NewKey, NewMember, NewUser, UserWorkspace};
use keyward_core::Service;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

/// Every file of the data directory (database, WAL, shared memory), as bytes.
pub fn data_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "pepper"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The product scopes every test server's catalog holds.
pub const PRODUCT_SCOPES: [&str; 3] = ["apps:read", "apps:deploy", "billing:read"];

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub service: Service,
    pub config: Config,
    server: Option<Server>,
    pub dir: tempfile::TempDir,
    /// In a PostgreSQL run, the test's database, dropped after the server stops.
    database: Option<postgres::TestDatabase>,
}

/// With the leak scan on, a server's data outlives its test, for the scan to read.
impl Drop for TestApp {
    fn drop(&mut self) {
        if leaks::dir().is_some() {
            let metrics = self.server.as_ref().map(|s| s.metrics.render());
            leaks::keep_data(self.dir.path(), metrics);
        }
    }
}

/// A verified owner with a workspace and a full-access key.
pub struct Owner {
    pub user: User,
    pub workspace_id: Uuid,
    pub key: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            scopes: PRODUCT_SCOPES.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        };
        adjust(&mut config);
        leaks::capture_logs();
        // In a PostgreSQL run the data directory names the database, as it names the SQLite
        // file otherwise: the admin CLI run on `dir`, or a second server on the same
        // directory, finds the same data.
        let database = if postgres::enabled() && config.database_url.is_none() {
            let (url, database) = postgres::database_for_guarded(&config.data_dir);
            config.database_url = Some(keyward::config::DatabaseUrl(url));
            Some(database)
        } else {
            None
        };
        let server = Server::start(&config).await.unwrap();
        TestApp {
            base: format!("http://{}", server.addr),
            client: reqwest::Client::new(),
            service: server.service.clone(),
            config,
            server: Some(server),
            dir,
            database,
        }
    }

    /// A connection pool to this server's database, whichever backend it is: for tests that
    /// age rows by hand. Plain SQL only (integers, text and blobs), which both backends
    /// store alike.
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.config.database_url())
            .await
            .unwrap()
    }

    /// What the database holds, as bytes to search: on SQLite its files (with the WAL and
    /// shared memory), on PostgreSQL every row of every table as text (a hash is shown as hex
    /// there, so a secret would appear as itself).
    pub async fn stored(&self) -> Vec<(String, Vec<u8>)> {
        let url = self.config.database_url();
        if !keyward::app::is_postgres_url(&url) {
            let files = data_files(self.dir.path());
            assert!(files.iter().any(|(name, _)| name.ends_with("keyward.db")));
            return files;
        }
        use sqlx::Connection;
        let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        assert!(tables.iter().any(|t| t == "api_keys"), "{tables:?}");
        let mut dumps = Vec::new();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!(r#"SELECT t::text FROM "{table}" t"#))
                    .fetch_all(&mut db)
                    .await
                    .unwrap();
            dumps.push((table, rows.join("\n").into_bytes()));
        }
        dumps
    }

    /// Stops the server gracefully (flushing last_used_at), as SIGTERM does.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    pub async fn user(&self, email: &str, verified: bool) -> User {
        let input = NewUser {
            email: email.into(),
            name: None,
            password: None,
            verified,
            workspace: None,
            role: Role::Owner,
        };
        self.service.create_user(input).await.unwrap().0
    }

    pub async fn owner(&self) -> Owner {
        self.owner_with(true).await
    }

    pub async fn owner_with(&self, verified: bool) -> Owner {
        let input = NewUser {
            email: format!("owner-{}@example.com", Uuid::now_v7().simple()),
            name: Some("Owner".into()),
            password: None,
            verified,
            workspace: Some(UserWorkspace::New("Acme".into())),
            role: Role::Owner,
        };
        let (user, ws) = self.service.create_user(input).await.unwrap();
        let workspace_id = ws.unwrap().id;
        let key = self.key_for(&user, workspace_id, None).await;
        Owner {
            user,
            workspace_id,
            key,
        }
    }

    /// Adds a new user to a workspace with `role`, and gives it a key of everything it holds.
    pub async fn member(&self, workspace_id: Uuid, role: Role, verified: bool) -> (User, String) {
        let email = format!("{}-{}@example.com", role.as_str(), Uuid::now_v7().simple());
        let user = self.user(&email, verified).await;
        let op = self.service.operator(workspace_id).await.unwrap();
        let input = NewMember {
            email: user.email.clone(),
            role: role.as_str().into(),
            scopes: None,
        };
        self.service.add_member(&op, input).await.unwrap();
        let key = self.key_for(&user, workspace_id, None).await;
        (user, key)
    }

    /// A key minted for `user` as the admin CLI does it; `None` scopes give what the user holds.
    pub async fn key_for(
        &self,
        user: &User,
        workspace_id: Uuid,
        scopes: Option<&[&str]>,
    ) -> String {
        let p = self
            .service
            .principal(&Caller::system(user.clone()), workspace_id)
            .await
            .unwrap();
        let input = NewKey {
            name: "test key".into(),
            scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
            ..Default::default()
        };
        let secret = self
            .service
            .create_key(&p, input)
            .await
            .unwrap()
            .secret
            .expose_secret()
            .to_owned();
        leaks::issued(&secret);
        secret
    }

    pub async fn service_token(&self) -> String {
        let token = self
            .service
            .create_service_token("test service")
            .await
            .unwrap()
            .1
            .expose_secret()
            .to_owned();
        leaks::issued(&token);
        token
    }

    /// A console session for `user`: (cookie value, csrf token).
    pub async fn session(&self, user: &User) -> (String, String) {
        let (token, csrf) = self.service.create_session(user.id).await.unwrap();
        leaks::issued(token.expose_secret());
        (
            token.expose_secret().to_owned(),
            csrf.expose_secret().to_owned(),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional Bearer credential and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Reply {
        self.call(Method::GET, path, Some(bearer), None).await
    }

    pub async fn post(&self, path: &str, bearer: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(bearer), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, bearer: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(bearer), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, bearer: &str) -> Reply {
        self.call(Method::DELETE, path, Some(bearer), None).await
    }

    /// Creates a key over HTTP as `owner`; a 201 carries the secret in `key`.
    pub async fn create_key(&self, owner: &Owner, body: Value) -> Reply {
        self.post(&keys_path(owner.workspace_id), &owner.key, body)
            .await
    }

    /// The verify API's `code` for `key`, e.g. `VALID` or `REVOKED`.
    pub async fn verify_code(&self, token: &str, key: &str, scopes: Option<&[&str]>) -> String {
        let reply = self.verify(token, key, scopes).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body["code"].as_str().unwrap_or_default().to_owned()
    }

    /// Asks the verify API about `key`.
    pub async fn verify(&self, token: &str, key: &str, scopes: Option<&[&str]>) -> Reply {
        let mut body = serde_json::json!({ "key": key });
        if let Some(s) = scopes {
            body["scopes"] = serde_json::json!(s);
        }
        self.post("/api/v1/keys/verify", token, body).await
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    leaks::issued_in_json(&body);
    if let Some(session) = accounts::session_cookie_of(&headers) {
        leaks::issued(&session);
    }
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// An `expires_at` 1.5 s from now: long enough that a slow create on a busy machine still
/// lands before it, short enough to wait for.
pub fn soon() -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339()
}

/// Sleeps until just after the RFC 3339 time in `expires_at` (as returned by the server).
pub async fn sleep_past(expires_at: &Value) {
    let at = chrono::DateTime::parse_from_rfc3339(expires_at.as_str().unwrap()).unwrap();
    let left = (at.to_utc() - chrono::Utc::now()).num_milliseconds().max(0) as u64;
    tokio::time::sleep(std::time::Duration::from_millis(left + 50)).await;
}

pub fn keys_path(workspace_id: Uuid) -> String {
    format!("/api/v1/workspaces/{workspace_id}/api-keys")
}

pub fn key_path(workspace_id: Uuid, key_id: &str) -> String {
    format!("/api/v1/workspaces/{workspace_id}/api-keys/{key_id}")
}

pub fn members_path(workspace_id: Uuid) -> String {
    format!("/api/v1/workspaces/{workspace_id}/members")
}

pub fn member_path(workspace_id: Uuid, user_id: Uuid) -> String {
    format!("/api/v1/workspaces/{workspace_id}/members/{user_id}")
}

impl TestApp {
    /// The id of the key a secret belongs to, as `users/current` reports it.
    pub async fn key_id(&self, secret: &str) -> String {
        let me = self.get("/api/v1/users/current", secret).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text);
        me.body["auth"]["key_id"].as_str().unwrap().to_owned()
    }

    /// The actions of the audit events about `target_id`, newest first, as the owner reads them.
    pub async fn audit_actions(&self, owner: &Owner, target_id: &str) -> Vec<String> {
        let events = self
            .get(
                &format!(
                    "/api/v1/workspaces/{}/audit-events?target_id={target_id}",
                    owner.workspace_id
                ),
                &owner.key,
            )
            .await;
        assert_eq!(events.status, StatusCode::OK, "{}", events.text);
        events
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Turns `members_can_create_keys` on or off through the owner's full-access key.
    pub async fn set_members_can_create_keys(&self, owner: &Owner, on: bool) {
        let r = self
            .patch(
                &format!("/api/v1/workspaces/{}", owner.workspace_id),
                &owner.key,
                serde_json::json!({ "members_can_create_keys": on }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    /// A key minted over HTTP by the owner with exactly `scopes`; returns its secret.
    pub async fn scoped_key(&self, owner: &Owner, scopes: &[&str]) -> String {
        let r = self
            .create_key(
                owner,
                serde_json::json!({"name": "scoped", "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["key"].as_str().unwrap().to_owned()
    }
}

/// One request of a table-driven attack: method, path and optional JSON body.
pub type Attempt = (Method, String, Option<Value>);

impl TestApp {
    /// Sends every attempt with `bearer` and asserts each one gets `status` with `code`.
    pub async fn assert_each_refused(
        &self,
        bearer: &str,
        attempts: impl IntoIterator<Item = Attempt>,
        (status, code): (StatusCode, &str),
    ) {
        for (method, path, body) in attempts {
            let r = self.call(method.clone(), &path, Some(bearer), body).await;
            assert_eq!(
                (r.status, r.code()),
                (status, code),
                "{method} {path}: {}",
                r.text
            );
        }
    }
}
