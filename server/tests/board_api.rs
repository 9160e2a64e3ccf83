//! `/api/v1/board`, `/api/v1/activity` and the runs export, against genuine demo runs.
mod common;

use common::*;
use serde_json::{json, Value};

fn lane<'a>(board: &'a Value, name: &str) -> &'a Vec<Value> {
    board["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lane"] == name)
        .unwrap_or_else(|| panic!("no lane {name}: {board}"))["cards"]
        .as_array()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_board_feed_and_export_follow_real_runs() {
    let server = Server::start();
    let c = server.admin().await;
    let (at_gate, detail) = demo_at_gate(&c, &server).await;
    let finished_tasks = detail["smithers"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "finished")
        .count();
    assert!(finished_tasks > 0, "{detail}");

    let (status, board) = get(&c, &server.url("/api/v1/board")).await;
    assert_eq!(status, 200, "{board}");
    assert_eq!(board["runs"], 1);
    let review = lane(&board, "review");
    assert_eq!(review.len(), 1, "{board}");
    assert_eq!(review[0]["run_id"], at_gate.as_str());
    assert_eq!(review[0]["state"], "waiting-approval");
    let done = lane(&board, "done");
    assert_eq!(done.len(), finished_tasks, "every finished task is done");

    // Decided and finished: the run leaves the board; the feed says what happened.
    let url = server.url(&format!("/api/v1/runs/{at_gate}/feedback"));
    assert_eq!(post(&c, &url, json!({"decision": "approve"})).await.0, 200);
    wait_for(&c, &server, &at_gate, "finish", |d| {
        status_of(d) == "finished"
    })
    .await;
    let (_, board) = get(&c, &server.url("/api/v1/board")).await;
    assert_eq!(board["runs"], 0, "{board}");

    let (status, feed) = get(&c, &server.url("/api/v1/activity?limit=3")).await;
    assert_eq!(status, 200);
    let events = feed["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{feed}");
    let at: Vec<i64> = events
        .iter()
        .map(|e| e["at_ms"].as_i64().unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");
    let (_, all) = get(&c, &server.url("/api/v1/activity")).await;
    let kinds: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"dispatched"), "{kinds:?}");
    assert!(
        all["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "admin" && e["run_id"] == at_gate.as_str()),
        "the approval is there with who did it: {all}"
    );
    for bad in ["0", "501", "ten"] {
        let (status, body) = get(&c, &server.url(&format!("/api/v1/activity?limit={bad}"))).await;
        assert_eq!(status, 400, "limit={bad}: {body}");
    }

    // A second run, then the export with and without a filter.
    let second = dispatch_demo(&c, &server).await;
    let r = c
        .get(server.url("/api/v1/runs?format=csv&status=finished"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("fabrik-runs.csv"));
    let csv = r.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("run_id,status,template"), "{csv}");
    assert_eq!(rows.len(), 2, "only the finished run: {csv}");
    assert!(
        rows[1].starts_with(&format!("{at_gate},finished,demo,")),
        "{csv}"
    );

    let (status, json) = get(&c, &server.url("/api/v1/runs?format=json&limit=1")).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![second.as_str(), at_gate.as_str()],
        "all pages, newest first"
    );
    let (status, body) = get(&c, &server.url("/api/v1/runs?format=xml")).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&c, &server.url("/api/v1/runs?format=csv&status=bogus")).await;
    assert_eq!(status, 400, "{body}");
}
