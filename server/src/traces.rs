//! Where the server's logs and traces go: stdout as text or JSON lines, and — when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set — every span (request → service → store or
//! Smithers DB) to that OTLP/HTTP collector as well.
use crate::config::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Keeps the trace exporter alive; dropping it sends the spans still queued.
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Tracing {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber. Call before the async runtime starts: the OTLP
/// exporter sends from its own thread with a blocking HTTP client.
pub fn init(format: LogFormat) -> anyhow::Result<Tracing> {
    let logs =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,fabrik_server=info".into());
    let endpoint = otlp_endpoint();
    let provider = endpoint.as_deref().map(exporter).transpose()?;
    // Traces have their own filter, so a quiet RUST_LOG still sends every span.
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("fabrik-server"))
            .with_filter(EnvFilter::new("fabrik_server=info"))
    });
    tracing_subscriber::registry()
        .with(stdout_layer(format).with_filter(logs))
        .with(otel)
        .try_init()
        .map_err(|e| anyhow::anyhow!("Setting up logging failed: {e}"))?;
    if let Some(url) = endpoint {
        tracing::info!("sending traces to the OTLP collector at {url}");
    }
    Ok(Tracing { provider })
}

fn otlp_endpoint() -> Option<String> {
    std::env::var(OTLP_ENDPOINT)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn stdout_layer(format: LogFormat) -> Box<dyn Layer<Registry> + Send + Sync> {
    let layer = tracing_subscriber::fmt::layer();
    match format {
        LogFormat::Pretty => layer.boxed(),
        LogFormat::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    }
}

fn exporter(url: &str) -> anyhow::Result<SdkTracerProvider> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        anyhow::anyhow!("{OTLP_ENDPOINT}={url} is not a URL ({e}): set it to the collector's OTLP/HTTP address, e.g. http://localhost:4318, or unset it")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("{OTLP_ENDPOINT}={url} must be an http:// or https:// address (OTLP over HTTP), e.g. http://localhost:4318");
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| anyhow::anyhow!("Cannot send traces to {url}: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("fabrik-server")
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
