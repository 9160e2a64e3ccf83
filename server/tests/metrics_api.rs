//! `/admin/metrics` figures from genuine demo runs: the tokens the run DBs hold (summed
//! here straight from the DBs), their cost under the price table, outcomes and durations.
mod common;

use common::*;
use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};

/// Input and output tokens the demo's output tables record, read from the DB itself.
fn tokens_in_db(server: &Server, run_id: &str) -> (u64, u64) {
    let db = Connection::open_with_flags(run_db(server, run_id), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let sum = |table: &str| -> (u64, u64) {
        db.query_row(
            &format!("SELECT SUM(input_tokens), SUM(output_tokens) FROM {table}"),
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )
        .unwrap()
    };
    let (a, b) = (sum("task_report"), sum("review_report"));
    (a.0 + b.0, a.1 + b.1)
}

async fn put(c: &::reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let r = c.put(url).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_add_up_the_tokens_of_real_runs_and_cost_them() {
    let server = Server::start();
    let c = server.admin().await;
    let (approved, _) = demo_at_gate(&c, &server).await;
    let (rejected, _) = demo_at_gate(&c, &server).await;
    for (id, decision) in [(&approved, "approve"), (&rejected, "reject")] {
        let url = server.url(&format!("/api/v1/runs/{id}/feedback"));
        assert_eq!(post(&c, &url, json!({"decision": decision})).await.0, 200);
    }
    wait_for(&c, &server, &approved, "finish", |d| {
        status_of(d) == "finished"
    })
    .await;
    wait_for(&c, &server, &rejected, "failure", |d| {
        status_of(d) == "failed"
    })
    .await;
    let (a, r) = (
        tokens_in_db(&server, &approved),
        tokens_in_db(&server, &rejected),
    );
    assert!(a.0 > 0 && r.0 > 0, "the demo records tokens");

    // A price for the demo's model, so the cost is not zero.
    let url = server.url("/api/v1/admin/prices");
    let table = json!({"prices": [{"model": "mock-*", "input": 2.0, "output": 10.0, "cache_read": 0.0, "cache_write": 0.0}]});
    assert_eq!(put(&c, &url, table).await.0, 200);

    // The store catches up with the runs' last writes within a poll or two.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let report = loop {
        let (code, report) = get(&c, &server.url("/api/v1/admin/metrics?range=24h")).await;
        assert_eq!(code, 200, "{report}");
        let ended = report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["finished"].as_u64().unwrap() + o["failed"].as_u64().unwrap());
        let tokens = report["models"][0]["input_tokens"].as_u64();
        if ended.sum::<u64>() == 2 && tokens == Some(a.0 + r.0) {
            break report;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the store never caught up: {report}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(report["runs"], 2);
    let model = &report["models"][0];
    assert_eq!(model["model"], "mock-demo-1");
    assert_eq!(model["provider"], "mock");
    assert_eq!(model["input_tokens"].as_u64().unwrap(), a.0 + r.0);
    assert_eq!(model["output_tokens"].as_u64().unwrap(), a.1 + r.1);
    let expected = ((a.0 + r.0) as f64 * 2.0 + (a.1 + r.1) as f64 * 10.0) / 1e6;
    let total = report["total_cost_usd"].as_f64().unwrap();
    assert!((total - expected).abs() < 1e-9, "{total} vs {expected}");
    let runs = report["costliest_runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let sum: f64 = runs.iter().map(|r| r["cost_usd"].as_f64().unwrap()).sum();
    assert!((sum - expected).abs() < 1e-9);
    assert!(runs[0]["cost_usd"].as_f64() >= runs[1]["cost_usd"].as_f64());

    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 24, "one bar per hour");
    let count = |k: &str| outcomes.iter().map(|o| o[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (count("finished"), count("failed"), count("open")),
        (1, 1, 0)
    );
    let demo = &report["durations"][0];
    assert_eq!(
        (demo["template"].as_str(), demo["runs"].as_u64()),
        (Some("demo"), Some(2))
    );
    assert!(demo["average_ms"].as_i64().unwrap() > 0);

    // The run page shows the same run's cost.
    let (_, detail) = get(&c, &server.url(&format!("/api/v1/runs/{approved}"))).await;
    let run_cost = detail["cost_usd"].as_f64().unwrap();
    let own = (a.0 as f64 * 2.0 + a.1 as f64 * 10.0) / 1e6;
    assert!((run_cost - own).abs() < 1e-9, "{run_cost} vs {own}");

    // Exports: one line per run.
    let csv = c
        .get(server.url("/api/v1/admin/metrics/runs.csv?range=24h"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("fabrik-runs-24h.csv"));
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with(&approved) && l.contains(",finished,")));
    let (code, rows) = get(&c, &server.url("/api/v1/admin/metrics/runs.json?range=24h")).await;
    assert_eq!((code, rows.as_array().unwrap().len()), (200, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_ranges_and_prices_are_refused_and_lose_nothing() {
    let server = Server::start();
    let c = server.admin().await;
    let (code, body) = get(&c, &server.url("/api/v1/admin/metrics?range=1y")).await;
    assert_eq!(code, 400);
    assert_eq!(
        body["error"]["message"],
        "'1y' is not a time range: use one of 24h, 7d, 30d, 90d."
    );

    let url = server.url("/api/v1/admin/prices");
    let (_, before) = get(&c, &url).await;
    assert!(
        before["prices"].as_array().unwrap().len() > 3,
        "the built-in table"
    );
    let bad = json!({"prices": [{"model": "gpt-5", "input": -1.0, "output": 10.0, "cache_read": 0.0, "cache_write": 0.0}]});
    let (code, body) = put(&c, &url, bad).await;
    assert_eq!(code, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("gpt-5: the input price -1 must be zero or more"));
    assert_eq!(get(&c, &url).await.1, before, "nothing changed");

    let (code, _) = post(
        &c,
        &server.url("/api/v1/users"),
        json!({"username": "vera", "password": "veras-password-1", "role": "viewer"}),
    )
    .await;
    assert_eq!(code, 201);
    let vera = server.client_for("vera", "veras-password-1").await;
    let (code, body) = get(&vera, &server.url("/api/v1/admin/metrics")).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(put(&vera, &url, before).await.0, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn observability_links_are_checked_and_say_what_is_unreachable() {
    let server = Server::start();
    let c = server.admin().await;
    let url = server.url("/api/v1/admin/links");
    let (code, body) = put(
        &c,
        &url,
        json!({"grafana": "grafana.local", "loki": null, "laos": null}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'grafana.local' is not a URL"));
    assert_eq!(
        get(&c, &url).await.1,
        json!({"grafana": null, "loki": null, "laos": null}),
        "nothing saved"
    );

    // A Grafana that answers, and a Loki port nothing listens on.
    let grafana = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grafana_url = format!("http://{}", grafana.local_addr().unwrap());
    let app = axum::Router::new().route("/api/health", axum::routing::get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(grafana, app).await.unwrap() });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let loki_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, saved) = put(
        &c,
        &url,
        json!({"grafana": format!("{grafana_url}/"), "loki": loki_url, "laos": ""}),
    )
    .await;
    assert_eq!(code, 200, "{saved}");
    assert_eq!(
        saved["grafana"],
        grafana_url.as_str(),
        "trailing slash dropped"
    );
    assert_eq!(saved["laos"], Value::Null);

    let (code, checks) = post(&c, &server.url("/api/v1/admin/links/check"), json!({})).await;
    assert_eq!(code, 200, "{checks}");
    let checks = checks.as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(
        (checks[0]["name"].as_str(), checks[0]["ok"].as_bool()),
        (Some("Grafana"), Some(true))
    );
    assert_eq!(checks[1]["ok"], false);
    let detail = checks[1]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("Loki at {loki_url}/ready refused the connection"))
            && detail.contains("check that Loki runs"),
        "{detail}"
    );
}
