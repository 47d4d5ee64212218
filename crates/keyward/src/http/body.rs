//! JSON request bodies: at most 64 KiB (an endpoint that takes batches may allow more), sent
//! as JSON, parsed into a wire type.
//!
//! What is wrong with a body is said in fixed words, never by quoting it: serde's own
//! messages repeat the client's input (an unknown field's name, a value of the wrong type),
//! and a secret pasted into the wrong place must not come back in an error.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use keyward_core::error::FieldError;
use keyward_core::Error;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::error::{payload_too_large, unsupported_media_type, ApiError};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A required JSON body.
pub struct JsonBody<T>(pub T);

/// A JSON body that may be left out entirely (revoke, rotate).
pub struct OptionalJsonBody<T>(pub Option<T>);

/// Body errors are responses, not `ApiError`s, because 413 and 415 exist only at this edge.
pub struct BodyRejection(Box<Response>);

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<ApiError> for BodyRejection {
    fn from(e: ApiError) -> Self {
        BodyRejection(Box::new(e.into_response()))
    }
}

/// The body as sent, at most `max_bytes`, and only as JSON; `None` when it is empty. For an
/// endpoint that must see the exact bytes before parsing them (a signature over the body).
pub async fn read_body(req: Request, max_bytes: usize) -> Result<Option<Bytes>, BodyRejection> {
    let too_large = || BodyRejection(Box::new(payload_too_large(max_bytes)));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(req.into_body(), max_bytes)
        .await
        .map_err(|_| too_large())?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if !content_type.as_deref().is_some_and(is_json) {
        return Err(BodyRejection(Box::new(unsupported_media_type())));
    }
    Ok(Some(bytes))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Every body the native API takes is a JSON object. serde's derived structs would also read
/// an array as their fields in order (`[null, null]` as `{"role": null, "scopes": null}`), so
/// anything else is refused here, before serde sees it: one look at the first byte, not a
/// second parse.
fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyRejection> {
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError(Error::BadRequest("the body must be a JSON object".into())).into());
    }
    parse_json(bytes)
}

/// Parses a body read by [`read_body`], refusing it in the envelope's fixed words. Any JSON
/// value: a batch endpoint (GitHub's secret scanning) takes an array.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyRejection> {
    serde_json::from_slice(bytes).map_err(|e| BodyRejection::from(ApiError(body_error(&e))))
}

/// The error for a body serde refused. A missing required field is a validation error,
/// like an empty one (PRODUCT.md §7); malformed JSON, unknown fields and wrong types are
/// `400`. Positions are numbers the client can look up, never its text.
fn body_error(e: &serde_json::Error) -> Error {
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Data => {
            let message = e.to_string();
            if let Some(field) = missing_field(&message) {
                Error::Validation(vec![FieldError::new(field, "is required")])
            } else if message.starts_with("unknown field") {
                Error::BadRequest(format!(
                    "the body has a field this endpoint does not take ({at}); see /api/v1/openapi.json"
                ))
            } else {
                Error::BadRequest(format!("a value in the body has the wrong type ({at})"))
            }
        }
        Category::Syntax | Category::Eof | Category::Io => {
            Error::BadRequest(format!("the body is not valid JSON ({at})"))
        }
    }
}

/// The field of serde's "missing field `name`". That name comes from the wire type's
/// declaration, not from the request, so it is safe to repeat; anything that does not look
/// like one of our field names is not trusted.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    let (field, _) = rest.split_once('`')?;
    let ours = !field.is_empty()
        && field
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ours.then_some(field)
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        match read_body(req, MAX_BODY_BYTES).await? {
            Some(bytes) => Ok(JsonBody(parse_object(&bytes)?)),
            None => Err(ApiError(Error::BadRequest("a JSON body is required".into())).into()),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        match read_body(req, MAX_BODY_BYTES).await? {
            Some(bytes) => Ok(OptionalJsonBody(Some(parse_object(&bytes)?))),
            None => Ok(OptionalJsonBody(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: Option<u32>,
    }

    fn error_for(body: &str) -> Error {
        match serde_json::from_str::<Sample>(body) {
            Ok(parsed) => panic!("parsed {parsed:?}"),
            Err(e) => body_error(&e),
        }
    }

    #[test]
    fn a_missing_field_is_a_validation_error_naming_it() {
        let Error::Validation(fields) = error_for(r#"{"count": 1}"#) else {
            panic!("not a validation error");
        };
        assert_eq!(fields, [FieldError::new("name", "is required")]);
    }

    #[test]
    fn unknown_fields_wrong_types_and_bad_json_are_400_without_quoting_the_body() {
        for body in [
            r#"{"name": "x", "zqx`marker": 1}"#,
            r#"{"name": "x", "count": "zqxmarker"}"#,
            r#"{"name": zqxmarker}"#,
            r#"["zqxmarker"]"#,
            r#"{"name": "zqxmarker"#,
        ] {
            match error_for(body) {
                Error::BadRequest(message) => {
                    assert!(!message.contains("zqx"), "{body}: {message}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_400_even_where_serde_would_read_it_as_one() {
        for body in ["[\"x\", 1]", " \n[null, null]", "null", "\"x\"", "7"] {
            match parse_object::<Sample>(body.as_bytes()) {
                Err(rejection) => {
                    let status = rejection.into_response().status();
                    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST, "{body}");
                }
                Ok(parsed) => panic!("{body} was read as {parsed:?}"),
            }
        }
        assert!(parse_object::<Sample>(b" \r\n{\"name\": \"x\"}").is_ok());
    }

    #[test]
    fn only_field_shaped_names_are_taken_from_a_missing_field_message() {
        assert_eq!(
            missing_field("missing field `expires_at` at line 1"),
            Some("expires_at")
        );
        assert_eq!(missing_field("missing field `a b` at line 1"), None);
        assert_eq!(missing_field("unknown field `name`"), None);
    }
}
