//! Extractors that turn a request into domain input, failing with the one error envelope:
//! query strings, path ids and the authenticated caller (JSON bodies are in `body.rs`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method};
use keyward_core::service::{Caller, RequestMeta, Via};
use keyward_core::Error;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::access_log::{Credential, CredentialSlot};
use super::client_ip::ClientIp;
use super::error::ApiError;
use super::session_cookie;
use super::AppState;

pub use super::body::{JsonBody, OptionalJsonBody, MAX_BODY_BYTES};

pub use super::session_cookie::SESSION_COOKIE;

/// A query string; unknown or ill-typed parameters are `400 bad_request`, said in fixed
/// words: serde's messages would repeat the parameter's name or value.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str::<T>(parts.uri.query().unwrap_or_default())
            .map(QueryParams)
            .map_err(|e| {
                let message = if e.to_string().starts_with("unknown field") {
                    "the query string has a parameter this endpoint does not take; see /api/v1/openapi.json"
                } else {
                    "a query parameter has a value of the wrong type"
                };
                ApiError(Error::BadRequest(message.into()))
            })
    }
}

/// Path parameters. A path axum cannot even decode (bad percent-encoding, invalid UTF-8)
/// names nothing that exists, so it is the same `404` as a missing id, in the envelope.
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathParams(p.0))
            .map_err(|_| ApiError(Error::NotFound))
    }
}

/// Path ids: anything that is not a UUID cannot exist, so it is `404`, like a missing id.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    parse_id(raw).map_err(ApiError)
}

/// [`path_id`] for callers that answer in their own way, e.g. the console's pages.
pub fn parse_id(raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound)
}

/// The client's address: as resolved through `trusted_proxies` ([`super::client_ip`]), else
/// the peer's. An IPv4 client of a dual-stack listener (`::ffff:a.b.c.d`) is shown as the
/// IPv4 address it is, in audit events as in the failure limit.
pub fn client_ip(parts: &Parts) -> IpAddr {
    if let Some(ClientIp(ip)) = parts.extensions.get::<ClientIp>() {
        return *ip;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

pub fn meta(parts: &Parts, ip: IpAddr) -> RequestMeta {
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect());
    RequestMeta {
        ip: Some(ip.to_string()),
        user_agent,
    }
}

/// The `Bearer` token of the Authorization header, or an error if the header is not one.
pub fn bearer(parts: &Parts) -> Option<Result<&str, ()>> {
    let value = parts.headers.get(header::AUTHORIZATION)?;
    let value = value.to_str().map_err(|_| ());
    Some(value.and_then(|v| {
        let (scheme, token) = v.split_once(' ').ok_or(())?;
        let token = token.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
            Ok(token)
        } else {
            Err(())
        }
    }))
}

/// The authenticated caller of the management API: a Bearer API key or the console session.
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        if let Some(retry_after_secs) = state.limiter.blocked(ip) {
            return Err(ApiError(Error::RateLimited { retry_after_secs }));
        }
        let meta = meta(parts, ip);
        let result = match (bearer(parts), session_cookie::from_parts(parts)) {
            (Some(Ok(token)), _) => state.service.authenticate_key(token, meta).await,
            (Some(Err(())), _) => Err(Error::Unauthorized { token_sent: true }),
            (None, Some(cookie)) => {
                let csrf = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok());
                let state_changing =
                    !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                state
                    .service
                    .authenticate_session(cookie, csrf, state_changing, meta)
                    .await
            }
            (None, None) => Err(Error::Unauthorized { token_sent: false }),
        };
        if matches!(result, Err(Error::Unauthorized { token_sent: true })) {
            state.limiter.record_failure(ip);
        }
        let caller = result.map_err(ApiError)?;
        let credential = match &caller.via {
            Via::ApiKey(key) => Some(Credential::ApiKey(key.id)),
            Via::Session(_) => Some(Credential::Session {
                user_id: caller.user.id,
            }),
            Via::System | Via::Account => None,
        };
        if let Some(credential) = credential {
            CredentialSlot::record(parts, credential);
        }
        Ok(Auth(caller))
    }
}

/// The `X-Workspace-ID` header, for the `/api/v1/api-keys` alias with a session.
pub fn workspace_hint(headers: &axum::http::HeaderMap) -> Result<Option<Uuid>, ApiError> {
    match headers.get("x-workspace-id") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError(Error::BadRequest(
                    "X-Workspace-ID must be a workspace id".into(),
                ))
            }),
    }
}

/// Where an unauthenticated request comes from: its IP (for limits) and its request
/// metadata (for audit events), for the `/auth` endpoints and the console's forms.
pub struct Origin {
    pub ip: IpAddr,
    pub meta: RequestMeta,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        Ok(Origin {
            ip,
            meta: meta(parts, ip),
        })
    }
}
