//! Run state under races and crashes: a cancel right after dispatch always wins, a
//! server killed mid-dispatch re-adopts or truthfully loses its runs, and a gate decided
//! outside the product reaches open pages.
mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// A template whose run is a small process group that would live for a minute.
fn sleeper_template(data_dir: &Path) {
    shell_template(data_dir, "sleeper", "sleep 60 & sleep 60; wait", &[]);
}

/// The pid the run's process group started with, from its timeline.
fn started_pid(detail: &Value) -> Option<i32> {
    detail["timeline"].as_array()?.iter().find_map(|e| {
        let message = e["message"].as_str()?;
        message
            .strip_prefix("Process started (pid ")?
            .strip_suffix(')')?
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_right_after_dispatch_always_wins() {
    let tmp = tempfile::tempdir().unwrap();
    sleeper_template(tmp.path());
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let mut ids = Vec::new();
    for _batch in 0..20 {
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (c, url) = (c.clone(), server.url(""));
                tokio::spawn(async move {
                    let (code, body) = post(
                        &c,
                        &format!("{url}/api/v1/runs"),
                        json!({"template": "sleeper"}),
                    )
                    .await;
                    assert_eq!(code, 201, "{body}");
                    let id = body["run_id"].as_str().unwrap().to_string();
                    let (code, body) =
                        post(&c, &format!("{url}/api/v1/runs/{id}/cancel"), json!({})).await;
                    assert_eq!(code, 200, "cancel {id}: {body}");
                    assert_eq!(body["status"], "cancelled", "{body}");
                    id
                })
            })
            .collect();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
    }
    assert_eq!(ids.len(), 200);
    for id in &ids {
        let detail = wait_for(&c, &server, id, "the cancelled process to exit", |d| {
            d["execution"]["exit_code"].is_number()
        })
        .await;
        assert_eq!(status_of(&detail), "cancelled", "{id}");
        assert_eq!(detail["execution"]["state"], "cancelled", "{id}");
        let pid = started_pid(&detail).expect("the start is on the timeline");
        wait_until("the group to go", Duration::from_secs(10), || {
            !group_alive(pid)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_mid_dispatch_re_adopts_or_truthfully_loses_its_runs() {
    let tmp = tempfile::tempdir().unwrap();
    sleeper_template(tmp.path());
    for round in 0..6u64 {
        let server = Server::start_in(tmp.path());
        let c = server.admin().await;
        let url = server.url("/api/v1/runs");
        let dispatches: Vec<_> = (0..4)
            .map(|_| {
                let (c, url) = (c.clone(), url.clone());
                tokio::spawn(async move { post(&c, &url, json!({"template": "sleeper"})).await })
            })
            .collect();
        // Kill -9 at a different moment each round: before, during and after dispatch.
        tokio::time::sleep(Duration::from_millis(round * 4)).await;
        server.kill();
        for d in dispatches {
            let _ = d.await;
        }
    }
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let (_, page) = get(&c, &server.url("/api/v1/runs?limit=100")).await;
    let runs = page["runs"].as_array().unwrap().clone();
    assert!(!runs.is_empty(), "some dispatches got through");
    for run in runs {
        let id = run["run_id"].as_str().unwrap();
        let detail = wait_for(&c, &server, id, "a settled state", |d| {
            d["execution"]["state"] != "pending"
        })
        .await;
        let alive = run_process(id);
        match detail["execution"]["state"].as_str().unwrap() {
            "running" => {
                let pid = alive.expect("a run shown running has its process");
                let (code, body) = post(
                    &c,
                    &server.url(&format!("/api/v1/runs/{id}/cancel")),
                    json!({}),
                )
                .await;
                assert_eq!(code, 200, "{body}");
                wait_until("the adopted group to go", Duration::from_secs(10), || {
                    !group_alive(pid)
                })
                .await;
            }
            "lost" => assert!(alive.is_none(), "{id} is lost but its process lives"),
            other => panic!("{id}: unexpected state {other}: {detail}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gate_decided_outside_the_product_reaches_open_pages() {
    let server = Server::start();
    let c = server.admin().await;
    let (id, _) = demo_at_gate(&c, &server).await;
    let mut events = c
        .get(server.url("/api/v1/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let hello = events.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&hello).contains("hello"));
    // As `smithers approve` would, with nothing of ours involved.
    smithers::decide_gate(
        &run_db(&server, &id),
        &id,
        None,
        None,
        smithers::Decision::Approve,
        Some("from the terminal"),
        "cli-user",
        1,
    )
    .unwrap();
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = events.chunk().await.unwrap() {
            if String::from_utf8_lossy(&chunk).contains(&id) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(announced.ok(), Some(true), "the run is announced");
    let (_, detail) = get(&c, &server.url(&format!("/api/v1/runs/{id}"))).await;
    let gate = &detail["smithers"]["gates"][0];
    assert_eq!(gate["status"], "approved", "{detail}");
    assert_eq!(gate["decided_by"], "cli-user");
    assert_eq!(detail["actions"]["resume"], true, "the run can be resumed");
}
