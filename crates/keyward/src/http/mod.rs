//! The HTTP API: shared state, the router that merges every resource's routes, and the
//! middleware stack (request id, request log, metrics, panic guard).

pub mod access_log;
pub mod body;
pub mod client_ip;
pub mod compat;
pub mod dto;
pub mod error;
pub mod extract;
pub mod github_signature;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod openapi_fields;
pub mod openapi_links;
pub mod request_id;
pub mod routes;
pub mod session_cookie;

use std::sync::Arc;

use axum::response::IntoResponse;
use axum::Router;
use keyward_core::scope::Catalog;
use keyward_core::Service;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use self::compat::{Profile, Profiles};
use self::error::ApiError;
use self::metrics::Metrics;
use keyward_core::limiter::FailureLimiter;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub limiter: Arc<FailureLimiter>,
    pub metrics: Arc<Metrics>,
    /// Whether the session cookie is `Secure`: `public_url` is https.
    pub secure_cookies: bool,
    /// Whose `X-Forwarded-For` names the client.
    pub proxies: Arc<client_ip::TrustedProxies>,
    /// The keys GitHub's secret-scanning reports must be signed with.
    pub github_keys: Arc<github_signature::GitHubKeys>,
}

impl AppState {
    /// The state a server built from `config` shares among its requests. The one place it is
    /// assembled, so that the server and the in-process harnesses (the fuzz targets) cannot
    /// differ in what they check. Errors name the setting at fault.
    pub fn from_config(
        service: Service,
        metrics: Arc<Metrics>,
        config: &crate::config::Config,
    ) -> Result<AppState, String> {
        let proxies = client_ip::TrustedProxies::parse(&config.trusted_proxies)
            .map_err(|e| format!("invalid configuration: trusted_proxies {e}"))?;
        let github_keys = github_signature::GitHubKeys::parse(&config.secret_scanning_public_keys)
            .map_err(|e| format!("invalid configuration: secret_scanning_public_keys {e}"))?;
        Ok(AppState {
            service,
            limiter: Arc::new(FailureLimiter::new(config.auth_failures_per_minute)),
            metrics,
            secure_cookies: config.secure_cookies(),
            proxies: Arc::new(proxies),
            github_keys: Arc::new(github_keys),
        })
    }
}

/// The API router and the OpenAPI document, both built from the same route declarations so
/// that the document cannot drift from the code. A wire profile that is off is neither
/// routed nor documented, and the scope schemas are this server's `catalog`.
pub fn api(profiles: &Profiles, catalog: &Catalog) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi());
    if profiles.has(Profile::Signalsmith) {
        api = api.merge(
            routes::keys::router()
                .merge(compat::signalsmith::router())
                .layer(axum::middleware::from_fn(
                    compat::signalsmith::workspace_header,
                )),
        );
    } else {
        api = api
            .merge(routes::keys::router())
            .merge(routes::keys::delete_router());
    }
    for profile in profiles.iter() {
        api = match profile {
            Profile::Smplkit => api.merge(compat::smplkit::router()),
            Profile::Simpledeploy => api.merge(compat::simpledeploy::router()),
            Profile::Skillett => api.merge(compat::skillett::router()),
            Profile::Signalsmith => api,
        };
    }
    let (router, mut doc) = api
        .merge(routes::keys_alias::router())
        .merge(routes::workspaces::router())
        .merge(routes::account::router())
        .merge(routes::auth::router())
        .merge(routes::invitations::router())
        .merge(routes::verify::router())
        .merge(routes::secret_scanning::router())
        .merge(routes::ops::router())
        .split_for_parts();
    openapi::finish(&mut doc, catalog);
    (router, doc)
}

pub fn router(state: AppState, profiles: &Profiles) -> Router {
    let (api, openapi) = api(profiles, &state.service.settings().catalog);
    let metrics = state.metrics.clone();
    let proxies = state.proxies.clone();
    let mut app = api
        .merge(crate::console::router())
        .layer(axum::Extension(Arc::new(openapi::render(&openapi))))
        .fallback(|| async { ApiError(keyward_core::Error::NotFound).into_response() })
        // axum adds the `Allow` header to what this returns.
        .method_not_allowed_fallback(|| async { error::method_not_allowed() })
        .with_state(state)
        // Innermost first: a panic becomes a 500 that metrics and the request log then see.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError(keyward_core::Error::Internal("handler panicked".into())).into_response()
        }));
    // Only a server behind trusted proxies pays for reading each request's forwarding.
    if !proxies.is_empty() {
        app = app.layer(axum::middleware::from_fn_with_state(
            proxies,
            client_ip::resolve,
        ));
    }
    // Only a server with such a profile on pays for looking at each request's path.
    if profiles.reshape_errors() {
        app = app.layer(axum::middleware::from_fn_with_state(
            *profiles,
            compat::errors::reshape,
        ));
    }
    app.layer(axum::middleware::from_fn(limits::check))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(access_log::log_request))
        .layer(axum::middleware::from_fn(request_id::assign))
}
