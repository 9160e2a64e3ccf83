//! The server's own metrics, in the Prometheus text format at `/metrics`: requests
//! and latency per matched route (never the raw path, so ids don't explode the label
//! space), signed-in sessions, gate decisions, runs by status and notifications.
//!
//! `/metrics` on the main listener wants `Authorization: Bearer <--metrics-token>` or an
//! admin's session or API token; `--metrics-listen` serves it unauthenticated on an
//! address of its own (keep that one private).
use crate::state::AppState;
use crate::store::Store;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use domain::auth::{Principal, Role};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing::Instrument;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Telemetry {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    feedback: Family<DecisionLabels, Counter>,
    figures: Arc<Figures>,
    /// One scrape at a time: the figures read from the store belong to it.
    scrape: tokio::sync::Mutex<()>,
}

/// Values read from the store (and the notifier) at each scrape.
#[derive(Debug, Default)]
struct Figures(Mutex<FigureValues>);

#[derive(Debug, Default, Clone)]
struct FigureValues {
    sessions: i64,
    runs: Vec<(String, i64)>,
    notifications: Vec<(String, String, bool, u64)>,
}

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let v = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let sessions = ConstGauge::new(v.sessions);
        sessions.encode(encoder.encode_descriptor(
            "fabrik_dashboard_active_sessions",
            "Signed-in browser sessions that have not expired",
            None,
            sessions.metric_type(),
        )?)?;
        let mut runs = encoder.encode_descriptor(
            "fabrik_runs",
            "Runs in the store by status",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (status, n) in &v.runs {
            ConstGauge::new(*n).encode(runs.encode_family(&[("status", status.as_str())])?)?;
        }
        let mut sent = encoder.encode_descriptor(
            "fabrik_notifications",
            "Notifications delivered (result=sent) or given up on (result=failed), by channel and type",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (channel, kind, ok, n) in &v.notifications {
            let result = if *ok { "sent" } else { "failed" };
            let labels = [
                ("channel", channel.as_str()),
                ("type", kind.as_str()),
                ("result", result),
            ];
            ConstCounter::new(*n).encode(sent.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Telemetry {
    pub fn new() -> Arc<Telemetry> {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "fabrik_dashboard_requests",
            "HTTP requests by matched route, method and status",
            requests.clone(),
        );
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "fabrik_dashboard_latency_seconds",
            "Time to answer, by matched route",
            latency.clone(),
        );
        let feedback = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "fabrik_dashboard_feedback_submitted",
            "Gate decisions submitted, by decision",
            feedback.clone(),
        );
        let figures = Arc::new(Figures::default());
        registry.register_collector(Box::new(figures.clone()));
        Arc::new(Telemetry {
            registry,
            requests,
            latency,
            feedback,
            figures,
            scrape: tokio::sync::Mutex::new(()),
        })
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(seconds);
    }

    pub fn feedback_submitted(&self, decision: &str) {
        self.feedback
            .get_or_create(&DecisionLabels {
                decision: decision.to_string(),
            })
            .inc();
    }

    /// The text exposition, with the store's figures read now.
    pub async fn render(
        &self,
        store: &Store,
        notifications: Vec<(String, String, bool, u64)>,
    ) -> crate::error::Result<String> {
        let _one = self.scrape.lock().await;
        let (sessions, runs) = store.telemetry_figures(crate::clock::now_ms()).await?;
        *self.figures.0.lock().unwrap_or_else(|p| p.into_inner()) = FigureValues {
            sessions,
            runs,
            notifications,
        };
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| domain::Error::internal(format!("Encoding the metrics: {e}")))?;
        Ok(text)
    }
}

/// Counts every request under the route it matched (`fallback` for static files and
/// unknown paths).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| route_label(p.as_str()))
        .unwrap_or_else(|| "fallback".into());
    let method = req.method().to_string();
    let id = request_id(req.headers());
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %method,
        route = %route,
        otel.name = format!("{method} {route}"),
        otel.kind = "server",
        http.response.status_code = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    state.telemetry.observe(&route, &method, status, seconds);
    span.in_scope(|| {
        tracing::debug!(status, ms = (seconds * 1000.0).round() as u64, "answered");
    });
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

const REQUEST_ID: &str = "x-request-id";

/// The caller's `X-Request-Id` when it is a sane token (a proxy's), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .map(str::to_string)
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}

/// `/runs/{id}` → `/runs/:id`: braces inside label values trip some scrapers' parsers.
fn route_label(pattern: &str) -> String {
    pattern
        .split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => format!(":{}", name.trim_start_matches('*')),
                None => part.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// `/metrics` on the main listener: the metrics token, or an admin.
pub async fn guarded(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Option<Extension<Principal>>,
) -> Response {
    let by_token = match (&state.metrics_token, bearer(&headers)) {
        (Some(want), Some(got)) => constant_time_eq(want.as_bytes(), got.as_bytes()),
        _ => false,
    };
    let admin = who.is_some_and(|Extension(p)| p.role == Role::Admin);
    if !(by_token || admin) {
        return crate::error::error_response(&domain::Error::new(
            domain::ErrorCode::Unauthorized,
            "Metrics need the server's metrics token (--metrics-token) as a bearer token, or an admin's sign-in. Or serve them on a private address with --metrics-listen.",
        ));
    }
    open(State(state)).await
}

/// `/metrics` on `--metrics-listen`: no sign-in.
pub async fn open(State(state): State<AppState>) -> Response {
    let notifications = state.service.notification_counts();
    match state
        .telemetry
        .render(state.service.store(), notifications)
        .await
    {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => crate::error::error_response(&e.public()),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_labels_name_parameters_without_braces() {
        assert_eq!(super::route_label("/api/v1/runs/{id}"), "/api/v1/runs/:id");
        assert_eq!(super::route_label("/api/{*fn_name}"), "/api/:fn_name");
        assert_eq!(super::route_label("/healthz"), "/healthz");
    }
}
