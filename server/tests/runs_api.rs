//! The runs API against a real server process running genuine Smithers demo runs.
mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn approve_resumes_the_run_to_the_end() {
    let server = Server::start();
    let c = server.admin().await;
    let (code, health) = get(&c, &server.url("/healthz")).await;
    assert_eq!((code, &health["status"]), (200, &json!("ok")));
    assert!(
        health["run_protection"]
            .as_str()
            .unwrap()
            .contains("environment cleared"),
        "{health}"
    );

    let (id, blocked) = demo_at_gate(&c, &server).await;
    let summary = &blocked["summary"];
    assert_eq!(summary["needs_feedback"], true);
    assert_eq!(summary["phase"], "human-gate");
    assert_eq!(summary["spec"], "specs/demo.json");
    assert!(
        summary["progress"]["total"].as_u64().unwrap() >= 10,
        "{summary}"
    );
    assert!(blocked["actions"]["feedback"].as_bool().unwrap());
    let reviews = blocked["smithers"]["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 4, "four reviewers");
    assert!(
        reviews.iter().any(|r| r["approved"] == false),
        "one reviewer asks for changes"
    );
    let tokens: u64 = blocked["smithers"]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["input_tokens"].as_u64().unwrap())
        .sum();
    assert!(tokens > 0, "token usage is reported");

    let (code, page) = get(&c, &server.url("/api/v1/runs?status=blocked")).await;
    assert_eq!(code, 200);
    assert!(page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["run_id"] == id.as_str()));

    let url = server.url(&format!("/api/v1/runs/{id}/feedback"));
    let (code, body) = post(&c, &url, json!({"decision": "approve", "notes": "Ship it"})).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = post(&c, &url, json!({"decision": "approve"})).await;
    assert_eq!(code, 409, "a gate is decided once: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already"),
        "{body}"
    );

    let done = wait_for(&c, &server, &id, "finish", |d| status_of(d) == "finished").await;
    let gate = &done["smithers"]["gates"][0];
    assert_eq!(gate["status"], "approved");
    assert_eq!(gate["decided_by"], "admin");
    assert_eq!(gate["note"], "Ship it");
    assert_eq!(done["summary"]["outcome"], "succeeded");
    assert_eq!(done["execution"]["exit_code"], 0);
    let timeline = done["timeline"].as_array().unwrap();
    assert!(timeline.iter().any(
        |e| e["kind"] == "gate-approve" && e["message"].as_str().unwrap().contains("by admin")
    ));

    let text = run_log(&c, &server, &id).await;
    assert!(
        text.contains("exited with code 3 (waiting for approval)"),
        "{text}"
    );
    assert!(text.contains("exited with code 0 (finished)"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reject_makes_the_run_fail() {
    let server = Server::start();
    let c = server.admin().await;
    let (id, _) = demo_at_gate(&c, &server).await;
    let url = server.url(&format!("/api/v1/runs/{id}/feedback"));
    let (code, body) = post(
        &c,
        &url,
        json!({"decision": "reject", "notes": "Wrong approach"}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let failed = wait_for(&c, &server, &id, "failure", |d| status_of(d) == "failed").await;
    assert_eq!(failed["smithers"]["gates"][0]["status"], "denied");
    assert_eq!(failed["summary"]["outcome"], "failed");
    assert!(!failed["actions"]["feedback"].as_bool().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_the_whole_process_group() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 2000);
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let id = dispatch_demo(&c, &server).await;
    wait_for(&c, &server, &id, "a running task", |d| {
        status_of(d) == "running" && d["summary"]["task"].is_string()
    })
    .await;
    let pid = run_process(&id).expect("the run's process group");
    let (code, body) = post(
        &c,
        &server.url(&format!("/api/v1/runs/{id}/cancel")),
        json!({}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    let done = wait_exited(&c, &server, &id).await;
    assert_eq!(status_of(&done), "cancelled");
    wait_until("the group to go", Duration::from_secs(10), || {
        !group_alive(pid)
    })
    .await;
    let (code, body) = post(
        &c,
        &server.url(&format!("/api/v1/runs/{id}/cancel")),
        json!({}),
    )
    .await;
    assert_eq!(code, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing to cancel"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let server = Server::start();
    let c = server.admin().await;
    let runs = server.url("/api/v1/runs");
    let cases = [
        (json!({"template": "nope"}), 400, "Unknown template 'nope'"),
        (
            json!({"template": "demo", "workflow": "missing.tsx"}),
            400,
            "No workflow 'missing.tsx' in the allowed workflow directories",
        ),
        (json!({"template": ""}), 400, "Choose a template"),
        (json!({"tempalte": "demo"}), 400, "not valid JSON"),
    ];
    for (body, want, needle) in cases {
        let (code, resp) = post(&c, &runs, body.clone()).await;
        assert_eq!(code, want, "{body} → {resp}");
        let msg = resp["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    // A template whose program does not exist.
    let broken = r#"name = "broken"
command = ["/nonexistent/smithers", "run"]
resume_command = ["/nonexistent/smithers", "resume", "{run_id}"]
"#;
    std::fs::write(server.data_dir.join("templates/broken.toml"), broken).unwrap();
    let (code, resp) = post(&c, &runs, json!({"template": "broken"})).await;
    assert_eq!(code, 400, "{resp}");
    assert!(resp["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/smithers"));

    let (code, page) = get(&c, &runs).await;
    assert_eq!(code, 200);
    assert_eq!(
        page["runs"],
        json!([]),
        "failed dispatches leave no runs behind"
    );

    let (code, resp) = get(&c, &server.url("/api/v1/runs/NOPE")).await;
    assert_eq!(code, 404);
    assert!(resp["error"]["message"]
        .as_str()
        .unwrap()
        .contains("No run with id 'NOPE'"));
    let (code, _) = get(&c, &server.url("/api/v1/runs?status=sleeping")).await;
    assert_eq!(code, 400);
    let (code, _) = get(&c, &server.url("/api/v1/runs?cursor=garbage")).await;
    assert_eq!(code, 400);
    let (code, _) = post(
        &c,
        &server.url("/api/v1/runs/NOPE/feedback"),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(code, 404);
    let (code, resp) = post(
        &c,
        &server.url("/api/v1/runs/NOPE/feedback"),
        json!({"decision": "maybe"}),
    )
    .await;
    assert_eq!(code, 400, "{resp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_run_db_is_explained_and_nothing_is_lost() {
    let server = Server::start();
    let c = server.admin().await;
    let (id, _) = demo_at_gate(&c, &server).await;
    let db = run_db(&server, &id).display().to_string();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
    std::fs::write(&db, b"this is not a database, it is a test writing junk").unwrap();
    let (code, detail) = get(&c, &server.url(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(code, 200);
    let problem = detail["source"]["problem"].as_str().unwrap();
    assert!(
        problem.contains("not a readable Smithers database"),
        "{problem}"
    );
    assert_eq!(
        status_of(&detail),
        "waiting-approval",
        "the stored state is kept"
    );
    assert!(
        detail["summary"]["progress"]["total"].as_u64().unwrap() > 0,
        "progress kept"
    );
    let (code, resp) = post(
        &c,
        &server.url(&format!("/api/v1/runs/{id}/feedback")),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(code, 409, "{resp}");
    assert!(resp["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a readable Smithers database"));
    let (_, page) = get(&c, &server.url("/api/v1/runs")).await;
    assert_eq!(page["runs"][0]["run_id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn events_stream_announces_run_changes() {
    use futures::StreamExt;
    // Short tasks: the stream is what's tested, and eight 2.5 s tasks next to the
    // file's other demo runs could outlast the deadline on a 2-core machine.
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 400);
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let resp = c.get(server.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut stream = resp.bytes_stream();
    let id = dispatch_demo(&c, &server).await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !seen.contains("\"status\":\"waiting-approval\"") {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("events before the deadline")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: run"));
    assert!(seen.contains(&format!("\"run_id\":\"{id}\"")));
    assert!(
        seen.contains("\"status\":\"running\""),
        "progress was streamed before the gate"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_re_adopts_a_running_run() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 400);
    let first = Server::start_in(tmp.path());
    let c = first.admin().await;
    let id = dispatch_demo(&c, &first).await;
    wait_for(&c, &first, &id, "running", |d| status_of(d) == "running").await;
    first.kill();
    let second = Server::start_in(tmp.path());
    let detail = wait_for(&c, &second, &id, "the gate after restart", |d| {
        status_of(d) == "waiting-approval"
    })
    .await;
    let timeline = detail["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e["kind"] == "lost" && e["message"].as_str().unwrap().contains("re-adopted")),
        "{timeline:?}"
    );
    // The resumed run is ours again: approve finishes it.
    let (code, _) = post(
        &c,
        &second.url(&format!("/api/v1/runs/{id}/feedback")),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(code, 200);
    wait_for(&c, &second, &id, "finish", |d| status_of(d) == "finished").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_run_resumes_to_its_gate() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 600);
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let id = dispatch_demo(&c, &server).await;
    wait_for(&c, &server, &id, "a finished task", |d| {
        d["summary"]["progress"]["finished"].as_u64().unwrap_or(0) >= 1
    })
    .await;
    let (code, _) = post(
        &c,
        &server.url(&format!("/api/v1/runs/{id}/cancel")),
        json!({}),
    )
    .await;
    assert_eq!(code, 200);
    let cancelled = wait_exited(&c, &server, &id).await;
    assert!(cancelled["actions"]["resume"].as_bool().unwrap());
    let (code, body) = post(
        &c,
        &server.url(&format!("/api/v1/runs/{id}/resume")),
        json!({}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let blocked = wait_for(&c, &server, &id, "the gate", |d| {
        status_of(d) == "waiting-approval"
    })
    .await;
    // Resuming while a decision is pending is refused with the way forward.
    let (code, body) = post(
        &c,
        &server.url(&format!("/api/v1/runs/{id}/resume")),
        json!({}),
    )
    .await;
    assert_eq!(code, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/feedback"),
        "{body}"
    );
    let kinds: Vec<&str> = blocked["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "fabrik")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.starts_with(&["dispatched", "started"]), "{kinds:?}");
    assert!(
        kinds.contains(&"cancelled") && kinds.contains(&"resumed"),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_died_while_the_server_was_down_is_marked_truthfully() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 2000);
    let first = Server::start_in(tmp.path());
    let c = first.admin().await;
    let id = dispatch_demo(&c, &first).await;
    wait_for(&c, &first, &id, "running", |d| status_of(d) == "running").await;
    let pid = run_process(&id).expect("the run's process group");
    first.kill();
    std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    wait_until("the group to die", Duration::from_secs(10), || {
        !group_alive(pid)
    })
    .await;
    let second = Server::start_in(tmp.path());
    let detail = wait_for(&c, &second, &id, "the lost mark", |d| {
        status_of(d) == "failed"
    })
    .await;
    assert_eq!(detail["execution"]["state"], "lost");
    let error = detail["summary"]["error"].as_str().unwrap();
    assert!(
        error.contains("while the server was not running"),
        "{error}"
    );
}
