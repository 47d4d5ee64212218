//! `POST /api/v1/keys/verify`: the operator's services ask whether a key is good.
//! Only service tokens may call it; every answer about the key is a 200.

use axum::extract::State;
use axum::http::request::Parts;
use axum::Json;
use keyward_core::verify::VerifyCode;
use keyward_core::Error;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::access_log::{Credential, CredentialSlot};
use crate::http::dto::{VerifiedKey, VerifyIn, VerifyOut};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{bearer, client_ip, JsonBody};
use crate::http::metrics::CodeLabels;
use crate::http::openapi::{AuthErrors, BodyErrors};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
}

/// The service token of the caller; failures count toward the per-IP limit like any other.
pub struct ServiceAuth;

impl axum::extract::FromRequestParts<AppState> for ServiceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        if let Some(retry_after_secs) = state.limiter.blocked(ip) {
            return Err(ApiError(Error::RateLimited { retry_after_secs }));
        }
        let result = match bearer(parts) {
            Some(Ok(token)) => state.service.authenticate_service(token).await.map(|t| {
                CredentialSlot::record(parts, Credential::ServiceToken(t.id));
                ServiceAuth
            }),
            Some(Err(())) => Err(Error::Unauthorized { token_sent: true }),
            None => Err(Error::Unauthorized { token_sent: false }),
        };
        if matches!(result, Err(Error::Unauthorized { token_sent: true })) {
            state.limiter.record_failure(ip);
        }
        result.map_err(ApiError)
    }
}

/// Verify a key.
///
/// Checks a presented key, and that it holds every scope in `scopes`. Every answer about
/// the key is a 200 with a `code`: `VALID` and `INSUFFICIENT_SCOPE` carry the key, every
/// other code carries nothing. Only service tokens (`kwsvc_…`) may call it; an API key is
/// `403`.
#[utoipa::path(post, path = "/api/v1/keys/verify", tag = "verify", operation_id = "verify_key", request_body = VerifyIn,
    responses((status = 200, body = VerifyOut), BodyErrors, AuthErrors),
    security(("service_token" = [])))]
async fn verify(
    State(s): State<AppState>,
    _auth: ServiceAuth,
    JsonBody(body): JsonBody<VerifyIn>,
) -> ApiResult<Json<VerifyOut>> {
    let required = body.scopes.unwrap_or_default();
    let verdict = s.service.verifier().verify(&body.key, &required).await?;
    s.metrics
        .verifications
        .get_or_create(&CodeLabels {
            code: verdict.code.as_str().to_owned(),
        })
        .inc();
    let scopes = verdict.scopes();
    let missing_scopes =
        (verdict.code == VerifyCode::InsufficientScope).then_some(verdict.missing_scopes);
    Ok(Json(VerifyOut {
        valid: verdict.code == VerifyCode::Valid,
        code: verdict.code,
        key: verdict
            .key
            .zip(scopes)
            .map(|(k, s)| VerifiedKey::new(&k, s)),
        missing_scopes,
    }))
}
