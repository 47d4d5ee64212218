//! Prometheus metrics, written as OpenMetrics text: requests by method, route and status, a
//! latency histogram, verifications by code, `last_used_at` batch writes, and the
//! verification cache's hits, misses, evictions and entries. Each server has
//! its own registry, so servers in one process (as in tests) never mix their counts.
//!
//! Every label takes its value from a fixed set: a series lives for the life of the process,
//! so a label copied from the request (a method name, a path) would let any client grow
//! memory and the scrape without bound.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub verifications: Family<CodeLabels, Counter>,
    pub last_used_writes: Counter,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_evictions: Counter,
    cache_entries: Gauge,
    cache_stale_answers: Counter,
    /// Times this node's pushed change feed (PostgreSQL LISTEN) dropped.
    pub change_feed_losses: Counter,
    /// 1 while the pushed change feed listens, 0 while it is down; 1 on a polled feed.
    pub change_feed_up: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("keyward");
        let requests = Family::<RequestLabels, Counter>::default();
        // From 50 µs to about 1.6 s: verification should sit in the lowest buckets.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.00005, 2.0, 16))
        });
        let verifications = Family::<CodeLabels, Counter>::default();
        let last_used_writes = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "verifications",
            "Key verifications by code",
            verifications.clone(),
        );
        registry.register(
            "last_used_writes",
            "Keys and service tokens written by last_used_at batches",
            last_used_writes.clone(),
        );
        let (cache_hits, cache_misses, cache_evictions) =
            (Counter::default(), Counter::default(), Counter::default());
        let cache_entries = Gauge::default();
        registry.register(
            "cache_hits",
            "Verification cache lookups answered from the cache (found or known missing)",
            cache_hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Verification cache lookups that went to the database",
            cache_misses.clone(),
        );
        registry.register(
            "cache_evictions",
            "Verification cache entries pushed out by its size bound",
            cache_evictions.clone(),
        );
        registry.register(
            "cache_entries",
            "Keys in the verification cache",
            cache_entries.clone(),
        );
        let cache_stale_answers = Counter::default();
        registry.register(
            "cache_stale_answers",
            "Verifications answered from a cache entry past its freshness because the database could not be asked (within stale_grace_seconds)",
            cache_stale_answers.clone(),
        );
        let change_feed_losses = Counter::default();
        registry.register(
            "change_feed_losses",
            "Times the connection that brings other nodes' writes dropped; each marks the whole cache stale",
            change_feed_losses.clone(),
        );
        let change_feed_up = Gauge::default();
        change_feed_up.set(1);
        registry.register(
            "change_feed_up",
            "1 while this node receives other nodes' writes, 0 while that connection is down",
            change_feed_up.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            verifications,
            last_used_writes,
            cache_hits,
            cache_misses,
            cache_evictions,
            cache_entries,
            cache_stale_answers,
            change_feed_losses,
            change_feed_up,
        }
    }

    /// Brings the cache series up to `stats`, read at scrape time: the cache keeps its own
    /// counters (atomics on the hot path), and these follow them.
    pub fn observe_cache(&self, stats: keyward_core::cache::CacheStats) {
        for (counter, now) in [
            (&self.cache_hits, stats.hits),
            (&self.cache_misses, stats.misses),
            (&self.cache_evictions, stats.evictions),
            (&self.cache_stale_answers, stats.stale_answers),
        ] {
            counter.inc_by(now.saturating_sub(counter.get()));
        }
        self.cache_entries
            .set(i64::try_from(stats.entries).unwrap_or(i64::MAX));
    }

    /// The content type of what [`Metrics::render`] writes: prometheus-client's text
    /// encoder writes OpenMetrics, ending with `# EOF`.
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The label of a method: one of the standard methods, or `other` for anything else.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The label of a route: its template (never the concrete path, which holds ids), or
/// `unmatched` for every path no route takes.
pub fn route_label(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned())
}

pub const UNMATCHED: &str = "unmatched";

/// Counts each request under its method and route labels.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = route_label(&request);
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_keep_their_name_and_every_other_method_is_other() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let long = "X".repeat(60_000);
        for raw in ["get", "PROPFIND", "ZQX", long.as_str()] {
            let method = Method::from_bytes(raw.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{}", &raw[..3]);
        }
    }
}
