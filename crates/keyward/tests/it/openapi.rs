//! `GET /api/v1/openapi.json` (PRODUCT.md §8): a valid OpenAPI 3.1 document, checked by a
//! real validator (Python's `openapi-spec-validator`), with unique operation ids, a summary
//! and description on every operation, every status the server answers documented, and
//! enums and bounds in the schemas.

use std::path::PathBuf;
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::TestApp;

const VALIDATOR_ENV: &str = "OPENAPI_VALIDATOR";

/// The validator: `$OPENAPI_VALIDATOR`, or the one `scripts/test.sh` installs.
fn validator() -> PathBuf {
    if let Some(path) = std::env::var_os(VALIDATOR_ENV) {
        return path.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/openapi-venv/bin/openapi-spec-validator")
}

/// Runs the validator on `doc`: (passed, what it printed).
fn validate(doc: &Value) -> (bool, String) {
    let program = validator();
    assert!(
        program.exists(),
        "openapi-spec-validator is not installed at {}. Run ./scripts/test.sh, which \
         installs it into target/openapi-venv; or run `python3 -m venv target/openapi-venv && \
         target/openapi-venv/bin/pip install openapi-spec-validator`; or set {VALIDATOR_ENV} \
         to the path of an openapi-spec-validator executable.",
        program.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new(&program)
        .args(["--validation-errors", "all"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

/// The server as it is by default, and with every wire profile on (PRODUCT.md §11): the
/// document must hold in both, since each profile adds its routes to it.
async fn every_surface() -> [TestApp; 2] {
    let all = TestApp::spawn_with(|c| {
        c.compat = ["smplkit", "simpledeploy", "skillett", "signalsmith"]
            .map(String::from)
            .to_vec();
    })
    .await;
    [TestApp::spawn().await, all]
}

async fn document(app: &TestApp) -> Value {
    let r = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

/// Every operation: (method, path, operation object).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

fn documented(op: &Value, status: u16) -> bool {
    op["responses"].get(status.to_string()).is_some()
}

#[tokio::test]
async fn the_openapi_document_passes_a_real_openapi_validator() {
    for app in every_surface().await {
        let doc = document(&app).await;
        let (passed, printed) = validate(&doc);
        assert!(
            passed,
            "openapi-spec-validator refused the document:\n{printed}"
        );
    }
}

#[tokio::test]
async fn the_validator_really_checks_it_refuses_a_document_with_a_duplicate_operation_id() {
    for app in every_surface().await {
        let mut doc = document(&app).await;
        let ops = operations(&doc);
        let (method, path, _) = &ops[1];
        doc["paths"][path][method]["operationId"] = ops[0].2["operationId"].clone();
        let (passed, printed) = validate(&doc);
        assert!(!passed, "the validator accepted a duplicate id:\n{printed}");
    }
}

#[tokio::test]
async fn every_operation_has_a_unique_id_a_summary_and_a_description() {
    for app in every_surface().await {
        let doc = document(&app).await;
        let mut ids = std::collections::BTreeSet::new();
        for (method, path, op) in operations(&doc) {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: `{id}` is taken"
            );
            for field in ["summary", "description"] {
                let text = op[field].as_str().unwrap_or_default();
                assert!(!text.trim().is_empty(), "{method} {path} has no {field}");
            }
            let summary = op["summary"].as_str().unwrap_or_default();
            assert!(
                !summary.contains('\n'),
                "{method} {path}: a one-line summary"
            );
        }
    }
}

#[tokio::test]
async fn every_operation_documents_the_errors_its_inputs_can_cause() {
    for app in every_surface().await {
        let doc = document(&app).await;
        for (method, path, op) in operations(&doc) {
            let mut expected = vec![];
            // `[{}]`: no credential needed (the operations endpoints).
            let authenticated = op["security"] != json!([{}]);
            if authenticated {
                expected.extend([401, 403, 429]);
            }
            if path.contains('{') {
                expected.push(404);
            }
            if op.get("requestBody").is_some() {
                expected.extend([400, 413, 415, 422]);
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "query") {
                expected.push(400);
            }
            for status in expected {
                assert!(documented(&op, status), "{method} {path} lacks {status}");
            }
        }
    }
}

/// The operation's path with its parameters filled in: the owner's workspace and user, and
/// ids that name nothing for keys.
fn concrete(path: &str, workspace_id: &str, user_id: &str) -> String {
    path.replace("{workspace_id}", workspace_id)
        .replace("{user_id}", user_id)
        .replace("{id}", &uuid::Uuid::now_v7().to_string())
}

#[tokio::test]
async fn every_status_the_server_answers_is_documented_for_that_operation() {
    for app in every_surface().await {
        let doc = document(&app).await;
        let owner = app.owner().await;
        let (ws, user) = (owner.workspace_id.to_string(), owner.user.id.to_string());
        for (method, path, op) in operations(&doc) {
            let url = app.url(&concrete(&path, &ws, &user));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let attempts = [
                app.client.request(method.clone(), &url),
                app.client
                    .request(method.clone(), &url)
                    .bearer_auth(&owner.key)
                    .json(&json!({})),
                app.client
                    .request(method.clone(), &url)
                    .bearer_auth(&owner.key)
                    .header("content-type", "text/plain")
                    .body("not json"),
                app.client
                    .request(method.clone(), format!("{url}?no_such_parameter=1"))
                    .bearer_auth(&owner.key),
            ];
            for attempt in attempts {
                let status = attempt.send().await.unwrap().status().as_u16();
                assert!(
                    documented(&op, status),
                    "{method} {path} answered {status}, which its documentation does not list"
                );
            }
        }
    }
}

/// The schema a property or parameter points to, with a `$ref` resolved.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

fn enum_of(doc: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(doc, schema);
    let values = schema["enum"]
        .as_array()
        .or_else(|| schema["items"]["enum"].as_array());
    values
        .unwrap_or_else(|| panic!("no enum in {schema}"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
}

#[tokio::test]
async fn statuses_roles_actions_and_error_codes_are_enums_and_limits_are_bounded() {
    for app in every_surface().await {
        let doc = document(&app).await;
        let schemas = &doc["components"]["schemas"];
        let keys = "/api/v1/workspaces/{workspace_id}/api-keys";
        let audit = "/api/v1/workspaces/{workspace_id}/audit-events";

        let statuses = ["active", "revoked", "expired"];
        assert_eq!(
            enum_of(&doc, &schemas["KeyOut"]["properties"]["status"]),
            statuses
        );
        assert_eq!(
            enum_of(&doc, &param(&doc, keys, "status")["schema"]),
            statuses
        );

        let roles = ["owner", "admin", "member"];
        assert_eq!(
            enum_of(&doc, &schemas["MemberOut"]["properties"]["role"]),
            roles
        );
        assert_eq!(
            enum_of(&doc, &schemas["AddMemberIn"]["properties"]["role"]),
            roles
        );

        let actions = enum_of(&doc, &schemas["AuditEventOut"]["properties"]["action"]);
        assert_eq!(actions.len(), 14, "{actions:?}");
        assert!(actions.contains(&"api_key.rotated".to_owned()));
        assert_eq!(
            enum_of(&doc, &param(&doc, audit, "action")["schema"]),
            actions
        );

        let codes = enum_of(&doc, &schemas["ErrorDetail"]["properties"]["code"]);
        for code in [
            "bad_request",
            "unauthorized",
            "forbidden",
            "insufficient_scope",
            "email_unverified",
            "plan_limit_reached",
            "csrf_failed",
            "method_not_allowed",
            "not_found",
            "key_limit_reached",
            "conflict",
            "payload_too_large",
            "unsupported_media_type",
            "validation_failed",
            "rate_limited",
            "service_unavailable",
            "internal",
        ] {
            assert!(codes.contains(&code.to_owned()), "{code} not in {codes:?}");
        }

        for path in [keys, audit, "/api/v1/api-keys"] {
            let limit = &param(&doc, path, "limit")["schema"];
            assert_eq!(
                (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
                (Some(1), Some(200)),
                "{path}: {limit}"
            );
            assert_eq!(limit["default"], 50, "{path}: {limit}");
        }
        let grace = &schemas["RotateIn"]["properties"]["grace_period_seconds"];
        assert_eq!(grace["minimum"], 0, "{grace}");
        assert!(grace["maximum"].is_u64(), "{grace}");
    }
}
