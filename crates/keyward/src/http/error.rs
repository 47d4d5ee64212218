//! The one error envelope on the wire (PRODUCT.md §7), and the request id every response
//! carries.
//!
//! Handlers return `Result<_, ApiError>`; `ApiError` wraps the domain [`Error`] and is the
//! only place an error body is built. A 5xx is logged with the request id, and its detail
//! never reaches the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keyward_core::Error;
use serde::Serialize;

tokio::task_local! {
    /// The id of the request being served, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    #[schema(value_type = ErrorCode)]
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Vec<FieldDetail>>,
    request_id: String,
}

/// A stable, machine-readable error code (PRODUCT.md §7). The wire takes the code from
/// the error itself; this enum gives the document the full list, and a test keeps the two
/// in step.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    InsufficientScope,
    EmailUnverified,
    PlanLimitReached,
    CsrfFailed,
    NotFound,
    MethodNotAllowed,
    KeyLimitReached,
    Conflict,
    PayloadTooLarge,
    UriTooLong,
    HeadersTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    RateLimited,
    Internal,
    ServiceUnavailable,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldDetail {
    field: String,
    message: String,
}

/// The status of each domain error; the console answers with the same.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        Error::Unauthorized { .. } | Error::LoginFailed => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_)
        | Error::InsufficientScope(_)
        | Error::EmailUnverified
        | Error::PlanLimitReached(_)
        | Error::CsrfFailed => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::KeyLimitReached(_) | Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable | Error::Contended => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Extra error kinds that exist only at the HTTP edge. `max_bytes` is the endpoint's limit
/// (64 KiB, or 1 MiB for a batch), said in KiB or MiB.
pub fn payload_too_large(max_bytes: usize) -> Response {
    let limit = if max_bytes >= 1024 * 1024 {
        format!("{} MiB", max_bytes / (1024 * 1024))
    } else {
        format!("{} KiB", max_bytes / 1024)
    };
    envelope(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {limit}"),
        None,
    )
}

/// A path and query longer than [`super::limits::MAX_URI_BYTES`].
pub fn uri_too_long() -> Response {
    envelope(
        StatusCode::URI_TOO_LONG,
        "uri_too_long",
        "the path and query are longer than 8 KiB".into(),
        None,
    )
}

/// Headers over [`super::limits::MAX_HEADER_BYTES`] in all.
pub fn headers_too_large() -> Response {
    envelope(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        "the request's headers are larger than 32 KiB in all".into(),
        None,
    )
}

/// A known path with a method it does not take. The method is not named: it is the
/// client's input, and may be anything.
pub fn method_not_allowed() -> Response {
    envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take this method; the Allow header lists those it takes".into(),
        None,
    )
}

pub fn unsupported_media_type() -> Response {
    envelope(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with Content-Type: application/json".into(),
        None,
    )
}

fn envelope(
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Vec<FieldDetail>>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message,
            details,
            request_id: current_request_id(),
        },
    };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(&e);
        let message = match &e {
            // The detail of a 5xx stays in the log; the client learns only that it failed.
            Error::Internal(detail) => {
                tracing::error!(request_id = %current_request_id(), error = %detail, "internal error");
                "internal error; quote the request id when reporting it".to_owned()
            }
            Error::Unavailable => {
                tracing::warn!(request_id = %current_request_id(), "database unavailable");
                e.to_string()
            }
            Error::Contended => {
                tracing::warn!(request_id = %current_request_id(), "write lost to conflicting writes on every attempt");
                e.to_string()
            }
            Error::NotFound => "not found".to_owned(),
            other => other.to_string(),
        };
        let details = match &e {
            Error::Validation(fields) => Some(
                fields
                    .iter()
                    .map(|f| FieldDetail {
                        field: f.field.clone(),
                        message: f.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        let mut response = envelope(status, e.code(), message, details);
        let headers = response.headers_mut();
        match &e {
            Error::Unauthorized { token_sent } => {
                let value = if *token_sent {
                    "Bearer error=\"invalid_token\""
                } else {
                    "Bearer"
                };
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
            }
            Error::RateLimited { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_code_on_the_wire_is_listed_in_the_documents_error_code_enum() {
        let listed: Vec<String> = match <ErrorCode as utoipa::PartialSchema>::schema() {
            utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o)) => o
                .enum_values
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => panic!("ErrorCode is not an inline string enum"),
        };
        let domain = [
            Error::BadRequest(String::new()),
            Error::Unauthorized { token_sent: false },
            Error::Forbidden(String::new()),
            Error::InsufficientScope(String::new()),
            Error::EmailUnverified,
            Error::PlanLimitReached(String::new()),
            Error::CsrfFailed,
            Error::NotFound,
            Error::KeyLimitReached(String::new()),
            Error::Conflict(String::new()),
            Error::Validation(vec![]),
            Error::RateLimited {
                retry_after_secs: 1,
            },
            Error::Unavailable,
            Error::Contended,
            Error::Internal(String::new()),
        ];
        let mut codes: Vec<String> = domain.iter().map(|e| e.code().to_owned()).collect();
        for edge in [
            payload_too_large(64 * 1024),
            uri_too_long(),
            headers_too_large(),
            unsupported_media_type(),
            method_not_allowed(),
        ] {
            let bytes = axum::body::to_bytes(edge.into_body(), 4096).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            codes.push(body["error"]["code"].as_str().unwrap().to_owned());
        }
        // Two domain errors may share a wire code (an outage and lost write races are both
        // `service_unavailable`).
        codes.sort();
        codes.dedup();
        for code in &codes {
            assert!(listed.contains(code), "{code} is not in {listed:?}");
        }
        assert_eq!(
            listed.len(),
            codes.len(),
            "{listed:?} lists codes nothing sends"
        );
    }

    #[tokio::test]
    async fn a_500_says_internal_and_hides_its_detail() {
        let response = REQUEST_ID
            .scope("req-1".into(), async {
                ApiError(Error::Internal("disk /dev/sda1 on fire".into())).into_response()
            })
            .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["request_id"], "req-1");
        assert!(
            !String::from_utf8_lossy(&bytes).contains("sda1"),
            "the detail leaked"
        );
    }
}
