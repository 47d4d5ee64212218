//! No error message echoes a client's input (PRODUCT.md §7): a marker sent in every place a
//! request can carry one (field names and values, query keys and values, path segments,
//! headers, the method) never comes back in the response.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{key_path, keys_path, reply, Reply, TestApp};

const MARKER: &str = "zqxmarker";

/// One request that must fail without repeating the marker it carries. In JSON bodies,
/// `MARK` stands for the marker.
struct Probe {
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    /// `(content type, raw body)`.
    body: Option<(&'static str, String)>,
}

fn probe(method: Method, path: impl Into<String>) -> Probe {
    Probe {
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
    }
}

impl Probe {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    fn json(mut self, body: &str) -> Self {
        self.body = Some(("application/json", body.replace("MARK", MARKER)));
        self
    }
}

async fn send(app: &TestApp, p: &Probe) -> Reply {
    let mut req = app.client.request(p.method.clone(), app.url(&p.path));
    for (name, value) in &p.headers {
        req = req.header(*name, value);
    }
    if let Some((content_type, body)) = &p.body {
        req = req.header("content-type", *content_type).body(body.clone());
    }
    reply(req.send().await.unwrap()).await
}

fn assert_not_echoed(p: &Probe, r: &Reply) {
    let what = format!("{} {} {:?} {:?}", p.method, p.path, p.headers, p.body);
    assert!(
        !r.text.to_lowercase().contains(MARKER),
        "{what} -> {}: {}",
        r.status,
        r.text
    );
    for (name, value) in &r.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).to_lowercase();
        assert!(!value.contains(MARKER), "{what} -> header {name}: {value}");
    }
}

#[tokio::test]
async fn no_error_echoes_the_client_input_in_a_body_field_name_or_value() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let key = app.create_key(&owner, json!({"name": "target"})).await;
    let one = key_path(owner.workspace_id, key.body["id"].as_str().unwrap());
    let keys = keys_path(owner.workspace_id);
    let ws = format!("/api/v1/workspaces/{}", owner.workspace_id);
    let (member, _) = app
        .member(owner.workspace_id, keyward_core::model::Role::Member, true)
        .await;
    let token = app.service_token().await;
    let k = owner.key.as_str();
    let probes = [
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "x", "MARK": 1}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": ["MARK"]}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": MARK}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "MARK"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "MARK\u0007"}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "x", "expires_at": "MARK"}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "x", "scopes": ["MARK:read"]}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "x", "scopes": ["MARK"]}"#),
        probe(Method::POST, &keys)
            .bearer(k)
            .json(r#"{"name": "x", "metadata": "MARK"}"#),
        probe(Method::PATCH, &one)
            .bearer(k)
            .json(r#"{"scopes": ["apps:read", "MARK:x"]}"#),
        probe(Method::PUT, &one).bearer(k).json(r#"{"MARK": true}"#),
        probe(Method::POST, format!("{one}/rotate"))
            .bearer(k)
            .json(r#"{"grace_period_seconds": "MARK"}"#),
        probe(Method::POST, format!("{one}/rotate"))
            .bearer(k)
            .json(r#"{"expires_at": "MARK"}"#),
        probe(Method::POST, format!("{one}/revoke"))
            .bearer(k)
            .json(r#"{"reason": "MARK\u0000"}"#),
        probe(Method::PATCH, &ws)
            .bearer(k)
            .json(r#"{"key_prefix": "MARK"}"#),
        probe(Method::PATCH, &ws)
            .bearer(k)
            .json(r#"{"members_can_create_keys": "MARK"}"#),
        probe(Method::POST, "/api/v1/workspaces")
            .bearer(k)
            .json(r#"{"name": 5, "MARK": 1}"#),
        probe(Method::POST, format!("{ws}/members"))
            .bearer(k)
            .json(r#"{"email": "MARK", "role": "member"}"#),
        probe(Method::POST, format!("{ws}/members"))
            .bearer(k)
            .json(r#"{"email": "MARK@example.com", "role": "member", "scopes": ["MARK"]}"#),
        probe(Method::POST, format!("{ws}/members"))
            .bearer(k)
            .json(r#"{"email": "a@example.com", "role": "MARK"}"#),
        probe(Method::PATCH, format!("{ws}/members/{}", member.id))
            .bearer(k)
            .json(r#"{"role": "MARK"}"#),
        probe(Method::PATCH, format!("{ws}/members/{}", member.id))
            .bearer(k)
            .json(r#"{"scopes": ["MARK:x"]}"#),
        probe(Method::POST, "/api/v1/keys/verify")
            .bearer(&token)
            .json(r#"{"key": "x", "scopes": "MARK"}"#),
        probe(Method::POST, "/api/v1/keys/verify")
            .bearer(&token)
            .json(r#"{"MARK": "x"}"#),
    ];
    for p in &probes {
        let r = send(&app, p).await;
        assert!(
            r.status.is_client_error(),
            "{} {}: {}",
            p.method,
            p.path,
            r.text
        );
        assert_not_echoed(p, &r);
    }
    // Not an error, but the verdict on a string that is not a key does not repeat it either.
    let verdict = probe(Method::POST, "/api/v1/keys/verify")
        .bearer(&token)
        .json(r#"{"key": "MARK"}"#);
    let r = send(&app, &verdict).await;
    assert_eq!(r.body["code"], "MALFORMED", "{}", r.text);
    assert_not_echoed(&verdict, &r);
}

#[tokio::test]
async fn no_error_echoes_the_client_input_in_a_query_path_header_or_method() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (cookie, _csrf) = app.session(&owner.user).await;
    let keys = keys_path(owner.workspace_id);
    let ws = format!("/api/v1/workspaces/{}", owner.workspace_id);
    let audit = format!("{ws}/audit-events");
    let k = owner.key.as_str();
    let get = |path: String| probe(Method::GET, path).bearer(k);
    let m = MARKER;
    let odd = Method::from_bytes(b"ZQXMARKER").unwrap();
    let probes = [
        get(format!("{keys}?{m}=1")),
        get(format!("{keys}?status={m}")),
        get(format!("{keys}?limit={m}")),
        get(format!("{keys}?cursor={m}")),
        get(format!("{keys}?created_by={m}")),
        get(format!("{audit}?action={m}")),
        get(format!("{audit}?action=api_key.{m}")),
        get(format!("{audit}?target_id={m}")),
        get(format!("{audit}?{m}=api_key.created")),
        probe(
            Method::DELETE,
            format!("{ws}/members/{}?{m}=1", owner.user.id),
        )
        .bearer(k),
        get(format!("/api/v1/workspaces/{m}")),
        get(format!("/api/v1/workspaces/{m}/api-keys")),
        get(format!("{keys}/{m}")),
        get(format!("{keys}/%FF{m}")),
        get(format!("/api/v1/api-keys/{m}")),
        get(format!("/api/v1/{m}")),
        get(format!("/{m}")),
        probe(Method::POST, format!("{keys}/{m}/revoke")).bearer(k),
        probe(Method::PATCH, format!("{ws}/members/{m}"))
            .bearer(k)
            .json("{}"),
        get("/api/v1/api-keys".into()).header("x-workspace-id", m),
        probe(Method::GET, "/api/v1/users/current").bearer(m),
        probe(Method::GET, "/api/v1/users/current").bearer(&format!("kwsvc_{m}")),
        probe(Method::GET, "/api/v1/users/current").header("authorization", m),
        probe(Method::GET, "/api/v1/users/current").header("authorization", format!("Basic {m}")),
        probe(Method::GET, "/api/v1/users/current")
            .header("cookie", format!("keyward_session={m}")),
        probe(Method::POST, &keys)
            .header("cookie", format!("keyward_session={cookie}"))
            .header("x-csrf-token", m)
            .json(r#"{"name": "x"}"#),
        probe(Method::POST, "/api/v1/keys/verify")
            .bearer(m)
            .json(r#"{"key": "x"}"#),
        probe(Method::GET, "/api/v1/users/current")
            .bearer(k)
            .header("x-request-id", m),
        probe(odd.clone(), "/api/v1/scopes").bearer(k),
        probe(odd, format!("/{m}")),
    ];
    for p in &probes {
        let r = send(&app, p).await;
        let expected_success = p.path.ends_with("/users/current") && r.status == StatusCode::OK;
        assert!(
            r.status.is_client_error() || expected_success,
            "{} {}: {}",
            p.method,
            p.path,
            r.text
        );
        assert_not_echoed(p, &r);
    }
    let mut typed = probe(Method::POST, &keys).bearer(k);
    typed.body = Some(("text/zqxmarker", MARKER.to_owned()));
    let r = send(&app, &typed).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_not_echoed(&typed, &r);
}
