//! `POST /api/v1/secret-scanning/github`: GitHub's secret scanning reports keys it found in
//! public places (its partner program's format), and keyward revokes them at once.
//!
//! It takes no keyward credential: GitHub's signature over the raw body is the request's
//! authentication (`http::github_signature`), checked before anything in the body is read.
//! The answer is GitHub's feedback format, which repeats each token as sent (`token_raw`)
//! to the one caller that sent it, signed. A token is never logged or stored: the request
//! log has no bodies, and the audit events name the key and the report's URL, never the
//! token.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request, State};
use axum::Json;
use keyward_core::secret::SecretString;
use keyward_core::service::{LeakReport, ReportedLeak, RequestMeta};
use keyward_core::Error;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::body::{parse_json, read_body, BodyRejection};
use crate::http::error::ApiError;
use crate::http::extract::{client_ip, meta};
use crate::http::github_signature::{KEY_IDENTIFIER_HEADER, SIGNATURE_HEADER};
use crate::http::openapi::{AuthErrors, BodyErrors};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// The largest report taken. GitHub batches its matches, and asks that a large batch not
/// time out: a thousand keyward keys with their URLs come to about 200 KB, over the 64 KiB
/// of every other body, so this endpoint alone allows 1 MiB (some 5,000 matches).
pub const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// What the audit events name as the reporter.
const REPORTER: &str = "github_secret_scanning";

/// One match GitHub found. Fields GitHub may add later are ignored, not refused: a report
/// refused for a new field would leave leaked keys working.
#[derive(Deserialize, ToSchema)]
pub struct ReportedToken {
    /// The string that matched the pattern registered with GitHub.
    token: String,
    /// The name of that pattern, as registered with GitHub.
    #[serde(rename = "type", default)]
    token_type: String,
    /// The public URL where the token was found; may be empty.
    #[serde(default)]
    url: String,
    /// Where on GitHub it was found, e.g. `content`, `commit`, `issue_comment` or `npm`.
    #[serde(default)]
    source: String,
}

/// GitHub's feedback on one reported token.
#[derive(Serialize, ToSchema)]
pub struct TokenFeedback {
    /// The token exactly as reported: GitHub's format names a token by its raw value or
    /// its SHA-256, and keyward answers the one who sent it.
    token_raw: String,
    /// The reported `type`.
    token_type: String,
    label: Label,
}

/// `true_positive`: the token is a keyward key (revoked now, or before); `false_positive`:
/// no key here has it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    TruePositive,
    FalsePositive,
}

/// What the endpoint answers, besides its success and [`BodyErrors`], when the report is
/// not GitHub's or cannot be acted on: [`AuthErrors`] without `403`, since no keyward
/// credential is involved, and with the signature's reasons for `401`.
pub struct SignatureErrors;

impl IntoResponses for SignatureErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = AuthErrors::responses();
        responses.remove("403");
        if let Some(RefOr::T(unauthorized)) = responses.get_mut("401") {
            unauthorized.description = "`unauthorized`: a `Github-Public-Key-*` header \
                missing, an unknown key identifier, a signature that does not verify over the \
                body as sent, or no `secret_scanning_public_keys` configured. Nothing is \
                revoked."
                .into();
        }
        responses
    }
}

/// A report whose signature verified, as the bytes GitHub signed, with the request's IP and
/// user agent for the audit events. Failures count toward the client's failure limit, like
/// any failed authentication.
pub struct SignedReport {
    body: axum::body::Bytes,
    meta: RequestMeta,
}

impl FromRequest<AppState> for SignedReport {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let ip = client_ip(&parts);
        if let Some(retry_after_secs) = state.limiter.blocked(ip) {
            return Err(ApiError(Error::RateLimited { retry_after_secs }).into());
        }
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let refuse = |token_sent| {
            state.limiter.record_failure(ip);
            BodyRejection::from(ApiError(Error::Unauthorized { token_sent }))
        };
        // Unsigned requests are turned away before their body is read.
        let (Some(key_identifier), Some(signature)) =
            (header(KEY_IDENTIFIER_HEADER), header(SIGNATURE_HEADER))
        else {
            return Err(refuse(false));
        };
        let (key_identifier, signature) = (key_identifier.to_owned(), signature.to_owned());
        let meta = meta(&parts, ip);
        let body = read_body(Request::from_parts(parts, body), MAX_REPORT_BYTES)
            .await?
            .unwrap_or_default();
        if !state.github_keys.verify(&key_identifier, &signature, &body) {
            return Err(refuse(true));
        }
        Ok(SignedReport { body, meta })
    }
}

/// Report leaked keys (GitHub secret scanning).
///
/// GitHub's secret-scanning partner endpoint. The body is a JSON array of matches, signed by
/// GitHub: `Github-Public-Key-Signature` is the base64 of an ECDSA P-256 SHA-256 signature
/// (ASN.1 DER) of the raw body, by the key that `Github-Public-Key-Identifier` names among
/// the configured `secret_scanning_public_keys`. Every token that is a keyward key, native
/// or imported, is revoked at once and recorded as `api_key.leaked` with the report's
/// `url`, `source` and `type`; a token that is no key is not an error. The answer gives each
/// token's label in GitHub's feedback format, in the order reported.
#[utoipa::path(post, path = "/api/v1/secret-scanning/github", tag = "secret-scanning",
    operation_id = "report_github_secret_scanning",
    request_body(content = Vec<ReportedToken>, description = "GitHub's matches, signed"),
    params(
        ("Github-Public-Key-Identifier" = String, Header, description = "Which of GitHub's keys signed the body"),
        ("Github-Public-Key-Signature" = String, Header, description = "Base64 of the DER ECDSA P-256 SHA-256 signature of the raw body"),
    ),
    responses((status = 200, body = Vec<TokenFeedback>), BodyErrors, SignatureErrors),
    security(()))]
async fn report(
    State(s): State<AppState>,
    signed: SignedReport,
) -> Result<Json<Vec<TokenFeedback>>, BodyRejection> {
    if signed.body.is_empty() {
        return Err(ApiError(Error::BadRequest("a JSON body is required".into())).into());
    }
    let tokens: Vec<ReportedToken> = parse_json(&signed.body)?;
    let leaks: Vec<ReportedLeak> = tokens
        .iter()
        .map(|t| ReportedLeak {
            secret: SecretString::new(t.token.clone()),
            report: LeakReport {
                reporter: REPORTER,
                url: t.url.clone(),
                source: t.source.clone(),
                token_type: t.token_type.clone(),
            },
        })
        .collect();
    let matched = s
        .service
        .revoke_reported_leaks(&leaks, &signed.meta)
        .await
        .map_err(ApiError)?;
    let feedback = tokens
        .into_iter()
        .zip(matched)
        .map(|(t, matched)| TokenFeedback {
            token_raw: t.token,
            token_type: t.token_type,
            label: if matched {
                Label::TruePositive
            } else {
                Label::FalsePositive
            },
        })
        .collect();
    Ok(Json(feedback))
}
