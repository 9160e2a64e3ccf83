//! `/metrics` scraped and parsed as Prometheus text: requests by matched route (never a
//! raw id), latency histograms, sessions, gate decisions, runs by status; who may read it.
mod common;

use common::*;
use serde_json::json;

const METRICS_TOKEN: &str = "scrape-me-please-0123";

fn parse(text: &str) -> prometheus_parse::Scrape {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text")
}

/// The value of the first sample named `name` whose labels include all of `labels`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

async fn scrape(url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_and_the_runs_and_gates() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 100);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let private = format!("127.0.0.1:{port}");
    let server = Server::start_with(
        tmp.path(),
        &[
            ("FABRIK_METRICS_TOKEN", METRICS_TOKEN),
            ("FABRIK_METRICS_LISTEN", private.as_str()),
        ],
    );
    let c = server.admin().await;
    let (id, _) = demo_at_gate(&c, &server).await;
    let url = server.url(&format!("/api/v1/runs/{id}/feedback"));
    assert_eq!(post(&c, &url, json!({"decision": "approve"})).await.0, 200);
    wait_for(&c, &server, &id, "finish", |d| status_of(d) == "finished").await;
    let anonymous = reqwest::get(server.url("/api/v1/runs")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    // A browser session.
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url("/auth/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "/runs"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);

    let (code, body) = scrape(&server.url("/metrics"), None).await;
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("--metrics-token"), "{body}");
    let (code, _) = scrape(&server.url("/metrics"), Some("wrong-token")).await;
    assert_eq!(code, 401);

    let (code, text) = scrape(&server.url("/metrics"), Some(METRICS_TOKEN)).await;
    assert_eq!(code, 200);
    let m = parse(&text);
    let requests = "fabrik_dashboard_requests_total";
    let ok = value(
        &m,
        requests,
        &[
            ("route", "/api/v1/runs/:id"),
            ("method", "GET"),
            ("status", "200"),
        ],
    );
    assert!(ok.unwrap_or(0.0) >= 2.0, "polled the run: {ok:?}");
    let refused = value(
        &m,
        requests,
        &[("route", "/api/v1/runs"), ("status", "401")],
    );
    assert_eq!(refused, Some(1.0), "the refusal is counted");
    assert!(
        m.samples
            .iter()
            .all(|s| s.labels.values().all(|v| !v.contains(&id))),
        "no raw path (run id) in any label"
    );
    let histogram = m
        .samples
        .iter()
        .find(|s| {
            s.metric == "fabrik_dashboard_latency_seconds"
                && s.labels.get("route") == Some("/api/v1/runs/:id")
        })
        .expect("a latency histogram per route");
    match &histogram.value {
        prometheus_parse::Value::Histogram(buckets) => {
            assert!(buckets.len() >= 10, "{buckets:?}");
            assert!(buckets.last().unwrap().count >= 2.0);
        }
        other => panic!("not a histogram: {other:?}"),
    }
    assert_eq!(
        value(
            &m,
            "fabrik_dashboard_feedback_submitted_total",
            &[("decision", "approve")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "fabrik_runs", &[("status", "finished")]),
        Some(1.0)
    );
    assert!(value(&m, "fabrik_dashboard_active_sessions", &[]).unwrap() >= 1.0);

    // An admin's own token reads it; a viewer's doesn't.
    let (code, _) = scrape(
        &server.url("/metrics"),
        Some(&token_for(&server, "admin", ADMIN_PASSWORD).await),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = post(
        &c,
        &server.url("/api/v1/users"),
        json!({"username": "vera", "password": "veras-password-1", "role": "viewer"}),
    )
    .await;
    assert_eq!(code, 201);
    let viewer = token_for(&server, "vera", "veras-password-1").await;
    assert_eq!(scrape(&server.url("/metrics"), Some(&viewer)).await.0, 401);

    // The private listener needs nothing, and serves nothing else.
    let (code, text) = scrape(&format!("http://{private}/metrics"), None).await;
    assert_eq!(code, 200);
    assert!(parse(&text)
        .samples
        .iter()
        .any(|s| s.metric == "fabrik_runs"));
    assert_eq!(
        scrape(&format!("http://{private}/api/v1/runs"), None)
            .await
            .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_parse_carry_request_ids_and_no_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("server.log");
    let server = Server::start_logging_with(tmp.path(), &log, &[("FABRIK_LOG_FORMAT", "json")]);
    let token = token_for(&server, "admin", ADMIN_PASSWORD).await;
    let c = server.admin().await;
    let secret = "sk-live-never-log-me-4242";
    let r = c
        .put(server.url("/api/v1/env/acme/dev"))
        .json(&json!({"vars": {"ANTHROPIC_API_KEY": secret}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let traced = c
        .get(server.url("/api/v1/runs/NOPE"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(traced.status(), 404);
    assert_eq!(traced.headers()["x-request-id"], "trace-me-123", "echoed");
    let fresh = c.get(server.url("/api/v1/runs")).send().await.unwrap();
    assert_eq!(
        fresh.headers()["x-request-id"].len(),
        26,
        "a new ULID when none is given"
    );
    server.kill();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "{} lines", lines.len());
    assert!(
        lines.iter().any(|l| l["span"]["id"] == "trace-me-123"
            && l["span"]["route"] == "/api/v1/runs/:id"
            && l["level"].is_string()),
        "the request's lines carry its id and route"
    );
    for needle in [secret, ADMIN_PASSWORD, token.as_str()] {
        assert!(!text.contains(needle), "a secret reached the log");
    }
}
