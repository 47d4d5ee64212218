//! Form posts from console pages: at most 64 KiB of `application/x-www-form-urlencoded`,
//! parsed with repeated fields (one `scopes` per ticked checkbox) into a form type.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::page;
use crate::http::body::MAX_BODY_BYTES;

pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(page::problem(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "This address takes the console's forms only.",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                page::problem(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "That form was too large to accept.",
                )
                .into_response()
            })?;
        serde_html_form::from_bytes(&bytes).map(Form).map_err(|_| {
            page::problem(
                axum::http::StatusCode::BAD_REQUEST,
                "That form was not complete. Go back, reload the page and try again.",
            )
        })
    }
}

/// Every form of a signed-in page carries the session's CSRF token.
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf_token: String,
}
