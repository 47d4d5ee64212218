//! The properties every answer to a fuzzed request must have, whatever the endpoint:
//! no 5xx, a request id, an error body in the shape the surface promises with a code that
//! fits its status (PRODUCT.md §7, and §11 for the wire profiles), and no error that
//! repeats what the client sent.

use axum::http::StatusCode;
use serde_json::Value;

use crate::app::Reply;

/// The error shapes: the native envelope, and the two profiles that say errors their way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Native,
    /// `{"errors": [{"status", "code", "title", "detail", ...}]}`
    JsonApi,
    /// `{"error": "code", "message": "..."}`
    Skillett,
}

/// Checks what holds for every answer, then returns the error code when it is an error.
/// `allowed` is the statuses the caller expects from this endpoint for any input at all.
pub fn answer(reply: &Reply, shape: Shape, allowed: &[u16], sent: &[u8]) -> Option<String> {
    let status = reply.status;
    assert!(
        !status.is_server_error(),
        "a fuzzed request got {status}: {}",
        reply.text()
    );
    assert!(
        allowed.contains(&status.as_u16()),
        "status {status} is not one this endpoint answers: {}",
        reply.text()
    );
    let request_id = reply
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no X-Request-Id on a {status}"));
    if status.is_success() {
        return None;
    }
    let body = reply
        .json
        .as_ref()
        .unwrap_or_else(|| panic!("a {status} without a JSON body: {}", reply.text()));
    let code = match shape {
        Shape::Native => native(body, status, request_id),
        Shape::JsonApi => json_api(body, status, request_id),
        Shape::Skillett => skillett(body),
    };
    assert!(
        code_fits(&code, status),
        "code {code} does not go with {status}"
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(
            reply.headers.contains_key("retry-after"),
            "429 without Retry-After"
        );
    }
    no_echo(sent, body);
    Some(code)
}

/// The fields a 422 names, in each shape: the native `details`, JSON:API's
/// `source.pointer`, or Skillett's message (`...: name must not be empty; scopes ...`).
pub fn invalid_fields(reply: &Reply, shape: Shape) -> Vec<String> {
    if reply.status != StatusCode::UNPROCESSABLE_ENTITY {
        return Vec::new();
    }
    let Some(body) = reply.json.as_ref() else {
        return Vec::new();
    };
    let words = |v: &Value| v.as_str().map(str::to_owned);
    match shape {
        Shape::Native => body["error"]["details"]
            .as_array()
            .map(|d| d.iter().filter_map(|x| words(&x["field"])).collect())
            .unwrap_or_default(),
        Shape::JsonApi => body["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|x| x["source"]["pointer"].as_str())
                    .filter_map(|p| p.rsplit('/').next().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        Shape::Skillett => body["message"]
            .as_str()
            .and_then(|m| m.split_once(": "))
            .map(|(_, list)| {
                list.split("; ")
                    .filter_map(|f| f.split(' ').next().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn native(body: &Value, status: StatusCode, request_id: &str) -> String {
    let error = &body["error"];
    let code = string(&error["code"], "error.code", body);
    string(&error["message"], "error.message", body);
    assert_eq!(
        error["request_id"].as_str(),
        Some(request_id),
        "the body's request id is the header's"
    );
    match &error["details"] {
        Value::Null => assert_ne!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "422 without details"
        ),
        Value::Array(details) => {
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "details on a {status}"
            );
            assert!(!details.is_empty(), "empty details");
            for d in details {
                string(&d["field"], "details[].field", body);
                string(&d["message"], "details[].message", body);
            }
        }
        other => panic!("details is {other}"),
    }
    code
}

fn json_api(body: &Value, status: StatusCode, request_id: &str) -> String {
    let errors = body["errors"]
        .as_array()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| panic!("no errors array: {body}"));
    let mut codes: Vec<String> = Vec::new();
    for e in errors {
        assert_eq!(e["status"].as_str(), Some(status.as_str()), "{body}");
        assert_eq!(e["id"].as_str(), Some(request_id), "{body}");
        string(&e["title"], "title", body);
        string(&e["detail"], "detail", body);
        codes.push(string(&e["code"], "code", body));
    }
    codes.dedup();
    assert_eq!(codes.len(), 1, "one error, one code: {body}");
    codes.remove(0)
}

fn skillett(body: &Value) -> String {
    string(&body["message"], "message", body);
    string(&body["error"], "error", body)
}

fn string(v: &Value, what: &str, body: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {body}"))
        .to_owned()
}

/// PRODUCT.md §7's table: which codes each status carries.
fn code_fits(code: &str, status: StatusCode) -> bool {
    let codes: &[&str] = match status.as_u16() {
        400 => &["bad_request"],
        401 => &["unauthorized"],
        403 => &[
            "forbidden",
            "insufficient_scope",
            "email_unverified",
            "plan_limit_reached",
            "csrf_failed",
        ],
        404 => &["not_found"],
        405 => &["method_not_allowed"],
        409 => &["key_limit_reached", "conflict"],
        413 => &["payload_too_large"],
        415 => &["unsupported_media_type"],
        422 => &["validation_failed"],
        429 => &["rate_limited"],
        _ => &[],
    };
    codes.contains(&code)
}

/// PRODUCT.md §7: no error message ever echoes a client's input. Every string the client
/// sent in its JSON (values and member names) that is a probe must appear in no string of
/// the error body.
///
/// A probe is a string of 8 characters or more with a character outside ASCII. Every fixed
/// text of keyward's errors is ASCII, so a probe found in an error can only have come from
/// the request; a plain ASCII string might be a fixed phrase the client happened to send
/// (`2027-01-01T00:00:00Z` is the example in the timestamp message). An echo is a bug of
/// the code that copies input into a message, whatever the input, so probes find it.
pub fn no_echo(sent: &[u8], error_body: &Value) {
    let Ok(sent) = serde_json::from_slice::<Value>(sent) else {
        return;
    };
    let mut probes = Vec::new();
    strings(&sent, &mut probes, true);
    probes.retain(|s| s.chars().count() >= 8 && !s.is_ascii());
    if probes.is_empty() {
        return;
    }
    let mut said = Vec::new();
    strings(error_body, &mut said, false);
    for probe in &probes {
        for s in &said {
            assert!(
                !s.contains(probe.as_str()),
                "the error repeats the client's {probe:?}: {error_body}"
            );
        }
    }
}

fn strings(v: &Value, out: &mut Vec<String>, with_keys: bool) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out, with_keys)),
        Value::Object(map) => {
            for (k, v) in map {
                if with_keys {
                    out.push(k.clone());
                }
                strings(v, out, with_keys);
            }
        }
        _ => {}
    }
}
