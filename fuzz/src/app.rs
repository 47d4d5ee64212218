//! One keyward per fuzzing process, in-process: the real router (every middleware, extractor,
//! handler and the service layer) over a throwaway SQLite database, called with
//! `tower::ServiceExt::oneshot`, so an input costs one request and no socket.
//!
//! What a target needs from it: an owner with a verified email and a full-access key in a
//! workspace, a service token for the verify API, and a few known keys whose secrets a
//! target can name by a placeholder in its input (the fuzzer cannot guess a secret minted
//! at start-up).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use keyward::app::OpenMode;
use keyward::config::Config;
use keyward::http::compat::Profiles;
use keyward::http::metrics::Metrics;
use keyward::http::AppState;
use keyward_core::model::Role;
use keyward_core::service::{Caller, NewKey, NewUser, Principal, UserWorkspace, WorkspacePatch};
use keyward_core::Service;
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

/// The catalog the fuzzed server runs with: the product scopes the integration tests use.
pub const PRODUCT_SCOPES: [&str; 3] = ["apps:read", "apps:deploy", "billing:read"];

/// A key made at start-up that inputs can name by `placeholder`.
#[derive(Debug, Clone)]
pub struct KnownKey {
    /// What an input writes in place of the secret, e.g. `@full`.
    pub placeholder: &'static str,
    pub secret: String,
    pub id: Uuid,
    /// The key's scopes as created (its creator is the owner, who holds `*`, so these are
    /// also what it holds).
    pub scopes: Vec<String>,
    pub revoked: bool,
}

pub struct App {
    runtime: tokio::runtime::Runtime,
    router: Router,
    pub service: Service,
    /// The owner's principal, for set-up and clean-up through the service layer.
    pub owner: Principal,
    pub owner_key: String,
    pub workspace_id: Uuid,
    pub service_token: String,
    pub known: Vec<KnownKey>,
}

/// An answer, with its body read and, when it is JSON, parsed.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Option<Value>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

impl App {
    /// Starts keyward with the wire profiles named in `compat` (none for the native API).
    pub fn start(compat: &[&str]) -> App {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
        let dir = scratch_dir();
        let config = Config {
            data_dir: dir,
            scopes: PRODUCT_SCOPES.iter().map(|s| s.to_string()).collect(),
            compat: compat.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        };
        let profiles = Profiles::from_names(&config.compat).unwrap_or_else(|e| panic!("{e}"));
        let parts = runtime.block_on(set_up(&config));
        let state = AppState::from_config(parts.service.clone(), Arc::new(Metrics::new()), &config)
            .unwrap_or_else(|e| panic!("{e}"));
        App {
            runtime,
            router: keyward::http::router(state, &profiles),
            service: parts.service,
            owner: parts.owner,
            owner_key: parts.owner_key,
            workspace_id: parts.workspace_id,
            service_token: parts.service_token,
            known: parts.known,
        }
    }

    /// Sends one request through the whole router.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("a request the harness built is invalid: {e}"));
        self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|e| match e {});
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_else(|e| panic!("reading a response body: {e}"))
                .to_vec();
            Reply {
                status: parts.status,
                headers: parts.headers,
                json: serde_json::from_slice(&bytes).ok(),
                bytes,
            }
        })
    }

    /// Sends `body` as JSON with the owner's key.
    pub fn as_owner(&self, method: Method, path: &str, content_type: &str, body: &[u8]) -> Reply {
        let bearer = format!("Bearer {}", self.owner_key);
        self.call(
            method,
            path,
            &[
                ("authorization", bearer.as_bytes()),
                ("content-type", content_type.as_bytes()),
            ],
            body.to_vec(),
        )
    }

    /// Runs a future of set-up or clean-up on the harness's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// A fresh full-access key of the owner's, named `canary`, without expiry or metadata:
    /// the same starting point for every input that edits a key.
    pub fn fresh_key(&self) -> Uuid {
        let input = NewKey {
            name: "canary".into(),
            ..NewKey::default()
        };
        self.block_on(self.service.create_key(&self.owner, input))
            .unwrap_or_else(|e| panic!("creating the canary key: {e}"))
            .key
            .id
    }

    /// Deletes a key the input created or edited, so that the workspace's cap on keys (which
    /// does not count deleted keys) is never what an input runs into.
    pub fn delete_key(&self, id: Uuid) {
        self.block_on(self.service.delete_key(&self.owner, id))
            .unwrap_or_else(|e| panic!("deleting key {id}: {e}"));
    }

    /// `bytes` with every known key's placeholder replaced by its secret.
    pub fn substitute(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for k in &self.known {
            out = replace(&out, k.placeholder.as_bytes(), k.secret.as_bytes());
        }
        out
    }
}

struct SetUp {
    service: Service,
    owner: Principal,
    owner_key: String,
    workspace_id: Uuid,
    service_token: String,
    known: Vec<KnownKey>,
}

async fn set_up(config: &Config) -> SetUp {
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! { panic!("set-up: {what}: {e}") };
    let service = keyward::app::open_service(config, OpenMode::CreateIfMissing)
        .await
        .unwrap_or_else(|e| fail("open", &e));
    let (user, workspace) = service
        .create_user(NewUser {
            email: "owner@example.com".into(),
            name: Some("Owner".into()),
            password: None,
            verified: true,
            workspace: Some(UserWorkspace::New("Fuzz".into())),
            role: Role::Owner,
        })
        .await
        .unwrap_or_else(|e| fail("owner", &e));
    let workspace_id = workspace.map_or_else(|| fail("workspace", &"none"), |w| w.id);
    let owner = service
        .principal(&Caller::system(user), workspace_id)
        .await
        .unwrap_or_else(|e| fail("principal", &e));
    let mint = |name: &str, scopes: Option<&[&str]>| {
        let input = NewKey {
            name: name.into(),
            scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
            ..NewKey::default()
        };
        service.create_key(&owner, input)
    };
    let owner_created = mint("owner", None)
        .await
        .unwrap_or_else(|e| fail("owner key", &e));
    let mut known = Vec::new();
    for (placeholder, scopes, revoked) in [
        ("@full", None, false),
        ("@part", Some(&["apps:read", "billing"][..]), false),
        ("@gone", Some(&["apps"][..]), true),
    ] {
        let created = mint(placeholder, scopes)
            .await
            .unwrap_or_else(|e| fail(placeholder, &e));
        if revoked {
            service
                .revoke_key(&owner, created.key.id, None)
                .await
                .unwrap_or_else(|e| fail("revoke", &e));
        }
        known.push(KnownKey {
            placeholder,
            secret: created.secret.expose_secret().to_owned(),
            id: created.key.id,
            scopes: created.key.scopes.as_strings(),
            revoked,
        });
    }
    // A hex64 key: the workspace's format switched for one key, then back, as an operator
    // moving to simpledeploy's format would leave keys of both shapes behind.
    let set_format = |format: &str| {
        let patch = WorkspacePatch {
            key_format: Some(format.into()),
            ..WorkspacePatch::default()
        };
        let service = service.clone();
        let owner = owner.clone();
        async move { service.update_workspace(&owner, patch).await }
    };
    // A create reads the workspace's format inside its transaction, so the same principal
    // serves before and after the switch.
    set_format("hex64")
        .await
        .unwrap_or_else(|e| fail("hex64", &e));
    let hex = service
        .create_key(
            &owner,
            NewKey {
                name: "@hex".into(),
                scopes: Some(vec!["apps".into()]),
                ..NewKey::default()
            },
        )
        .await
        .unwrap_or_else(|e| fail("@hex", &e));
    known.push(KnownKey {
        placeholder: "@hex",
        secret: hex.secret.expose_secret().to_owned(),
        id: hex.key.id,
        scopes: hex.key.scopes.as_strings(),
        revoked: false,
    });
    set_format("base62")
        .await
        .unwrap_or_else(|e| fail("base62", &e));
    let (_, token) = service
        .create_service_token("fuzz")
        .await
        .unwrap_or_else(|e| fail("service token", &e));
    SetUp {
        service,
        owner,
        owner_key: owner_created.secret.expose_secret().to_owned(),
        workspace_id,
        service_token: token.expose_secret().to_owned(),
        known,
    }
}

/// A directory of this process's own for the database, on tmpfs when there is one (SQLite
/// syncs every commit, and a sync on tmpfs costs nothing). Directories that earlier runs
/// left behind are removed first: libFuzzer ends a process with `exit`, which runs no
/// destructor that could have cleaned up.
fn scratch_dir() -> PathBuf {
    let base = std::env::var_os("KEYWARD_FUZZ_TMP")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/dev/shm")).filter(|p| p.is_dir()))
        .unwrap_or_else(std::env::temp_dir);
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("keyward-fuzz-") else {
                continue;
            };
            if !PathBuf::from(format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(format!("keyward-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `haystack` with every `needle` replaced by `with`.
pub fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
