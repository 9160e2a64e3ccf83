//! OTLP traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, a request's spans reach a
//! collector (a stub on loopback that decodes OTLP/HTTP protobuf) as one tree:
//! request → service → store and Smithers DB.
mod common;

use axum::body::Bytes;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Received = Arc<Mutex<Vec<Span>>>;

/// A collector that keeps every span it is sent; its base URL.
async fn collector() -> (String, Received) {
    let spans: Received = Default::default();
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut kept = kept.lock().unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        kept.extend(scope.spans);
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, spans)
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let value = span
        .attributes
        .iter()
        .find(|a| a.key == key)?
        .value
        .clone()?;
    match value.value? {
        Value::StringValue(s) => Some(s),
        Value::IntValue(i) => Some(i.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn children<'a>(spans: &'a [Span], parent: &Span) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.trace_id == parent.trace_id && s.parent_span_id == parent.span_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_requests_spans_reach_the_collector_as_one_tree() {
    let (endpoint, received) = collector().await;
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 100);
    let server = Server::start_with(
        tmp.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let c = server.admin().await;
    let id = dispatch_demo(&c, &server).await;
    let (status, _) = get(&c, &server.url(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(status, 200);

    let mut tree = None;
    for _ in 0..100 {
        let spans = received.lock().unwrap().clone();
        tree = spans
            .iter()
            .find(|s| s.name == "service.get_run")
            .map(|service| (spans.clone(), service.clone()));
        if tree.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (spans, service) = tree.expect("the run page's service span reached the collector");
    let request = spans
        .iter()
        .find(|s| s.span_id == service.parent_span_id)
        .expect("the service span's parent was sent too");
    assert_eq!(request.name, "GET /api/v1/runs/:id");
    assert_eq!(request.trace_id, service.trace_id);
    assert_eq!(
        attribute(request, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert!(request.parent_span_id.is_empty(), "the request is the root");
    let below: Vec<&Span> = children(&spans, &service);
    let store = below
        .iter()
        .find(|s| s.name == "store")
        .expect("a store span beneath the service");
    assert!(
        attribute(store, "op").is_some_and(|op| op.starts_with("runs::")),
        "{:?}",
        attribute(store, "op")
    );
    assert!(
        below.iter().any(|s| s.name == "smithers.read_snapshot"),
        "a Smithers DB span beneath the service: {:?}",
        below.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert!(
        !spans
            .iter()
            .any(|s| s.name == "store" && s.parent_span_id.is_empty()),
        "no store span without a request or service above it"
    );
    server.kill();
}

#[test]
fn an_endpoint_that_is_not_a_url_stops_the_server_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fabrik-server"))
        .arg("--data-dir")
        .arg(tmp.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318") && err.contains("http://"),
        "{err}"
    );
}
