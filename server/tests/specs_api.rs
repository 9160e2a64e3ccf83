//! Specs and todos through the API: every problem named with its field, the lifecycle
//! draft → (todo approved) → ready, no overwrite of a newer spec, nothing stored on
//! bad input.
mod common;

use common::*;
use serde_json::{json, Value};

/// The fields a 400's `problems` name, in order.
fn fields(body: &Value) -> Vec<&str> {
    body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect()
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spec_goes_from_draft_to_ready_through_its_approved_todo() {
    let server = Server::start();
    let c = server.admin().await;
    let specs = server.url("/api/v1/specs");

    let (code, view) = send(c.post(&specs).json(&spec("weekly-summary"))).await;
    assert_eq!(code, 201, "{view}");
    assert_eq!(view["revision"], 1);
    assert_eq!(view["spec"]["status"], "draft");
    let (code, body) = send(c.post(&specs).json(&spec("weekly-summary"))).await;
    assert_eq!(code, 409, "{body}");

    let approve = server.url("/api/v1/specs/weekly-summary/todo/approve");
    let (code, body) = send(c.post(&approve)).await;
    assert_eq!(code, 400, "no todo yet: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Generate one first"));

    let (code, view) = send(c.post(server.url("/api/v1/specs/weekly-summary/todo"))).await;
    assert_eq!(code, 200, "{view}");
    let todo = &view["todo"]["todo"];
    assert_eq!(todo["id"], "weekly-summary");
    let tasks = todo["tasks"].as_array().unwrap();
    assert!((3..=15).contains(&tasks.len()), "{todo}");
    assert!(view["todo"]["approved_at_ms"].is_null());

    // Edit a task, then approve: the spec is ready.
    let mut edited = todo.clone();
    edited["tasks"][0]["do"] = json!("Set up the crate and its test harness.");
    let (code, view) = send(
        c.put(server.url("/api/v1/specs/weekly-summary/todo"))
            .json(&edited),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(
        view["todo"]["todo"]["tasks"][0]["do"],
        "Set up the crate and its test harness."
    );
    let (code, view) = send(c.post(&approve)).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["spec"]["status"], "ready");
    assert_eq!(view["todo"]["approved_by"], "admin");
    let (_, list) = send(c.get(&specs)).await;
    assert_eq!(list["specs"][0]["status"], "ready");
    assert_eq!(list["specs"][0]["todo"], "approved");

    // Editing a ready spec sends it back to draft; a stale revision is refused.
    let revision = view["revision"].as_i64().unwrap();
    let mut changed = spec("weekly-summary");
    changed["status"] = json!("ready");
    changed["goals"][0] = json!("Send the summary every Monday at 09:00");
    let one = server.url("/api/v1/specs/weekly-summary");
    let (code, body) = send(c.put(&one).json(&changed)).await;
    assert_eq!(code, 400, "If-Match is required: {body}");
    let (code, view) = send(
        c.put(&one)
            .header("if-match", format!("\"{revision}\""))
            .json(&changed),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["spec"]["status"], "draft");
    assert!(view["todo"]["approved_at_ms"].is_null(), "approve again");
    let (code, _) = send(
        c.put(&one)
            .header("if-match", format!("\"{revision}\""))
            .json(&changed),
    )
    .await;
    assert_eq!(code, 409);

    let (_, audit) = get(&c, &server.url("/api/v1/audit")).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "spec.create",
        "todo.generate",
        "todo.save",
        "todo.approve",
        "spec.replace",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    let (code, _) = send(c.delete(&one)).await;
    assert_eq!(code, 204);
    let (code, _) = send(c.get(&one)).await;
    assert_eq!(code, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_specs_and_todos_are_refused_with_every_problem_and_nothing_changes() {
    let server = Server::start();
    let c = server.admin().await;
    let specs = server.url("/api/v1/specs");

    let mut bad = spec("Bad Id");
    bad["goals"] = json!(["Send it", "Show it"]);
    bad["extra"] = json!(1);
    let (code, body) = send(c.post(&specs).json(&bad)).await;
    assert_eq!(code, 400);
    assert_eq!(fields(&body), ["extra"], "the schema comes first: {body}");
    bad.as_object_mut().unwrap().remove("extra");
    let (code, body) = send(c.post(server.url("/api/v1/specs/validate")).json(&bad)).await;
    assert_eq!(code, 400);
    assert_eq!(fields(&body), ["id", "goals"], "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("goals: 2 given, 3–7 required"));
    let (code, body) = send(
        c.post(server.url("/api/v1/specs/validate"))
            .json(&spec("ok-spec")),
    )
    .await;
    assert_eq!((code, body["valid"].as_bool()), (200, Some(true)));

    let (code, body) = send(c.post(&specs).body("{\"v\": 1,")).await;
    assert_eq!(code, 400);
    assert!(body["problems"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("not valid JSON"));
    let token = token_for(&server, "admin", ADMIN_PASSWORD).await;
    let code = status_for_announced_body(&server, "/api/v1/specs", &token, 10 * 1024 * 1024);
    assert_eq!(code, 413);
    let mut ready = spec("starts-ready");
    ready["status"] = json!("ready");
    let (code, body) = send(c.post(&specs).json(&ready)).await;
    assert_eq!(code, 400, "{body}");

    let (code, _) = send(c.post(&specs).json(&spec("kept"))).await;
    assert_eq!(code, 201);
    let todo = json!({"v": 1, "id": "other", "tdd": true, "dod": [], "tasks": [{"id": "a", "do": "", "verify": "x"}, {"id": "a", "do": "y", "verify": "z"}]});
    let (code, body) = send(c.put(server.url("/api/v1/specs/kept/todo")).json(&todo)).await;
    assert_eq!(code, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("id: must be the spec's id")
            && message.contains("tasks[0].do: is empty")
            && message.contains("tasks[1].id: repeats"),
        "{message}"
    );
    let (code, _) = send(c.post(server.url("/api/v1/specs/missing/todo/approve"))).await;
    assert_eq!(code, 404);

    let (_, list) = send(c.get(&specs)).await;
    let ids: Vec<&str> = list["specs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["kept"]);
    assert_eq!(list["specs"][0]["todo"], "none");

    // A viewer reads but doesn't write.
    let (code, _) = post(
        &c,
        &server.url("/api/v1/users"),
        json!({"username": "vic", "password": "vic-password-1", "role": "viewer"}),
    )
    .await;
    assert_eq!(code, 201);
    let vic = server.client_for("vic", "vic-password-1").await;
    let (code, _) = send(vic.get(server.url("/api/v1/specs/kept"))).await;
    assert_eq!(code, 200);
    let (code, _) = send(vic.post(server.url("/api/v1/specs/kept/todo"))).await;
    assert_eq!(code, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_and_edits_leave_one_consistent_state() {
    let server = Server::start();
    let c = server.admin().await;
    let (code, _) = send(c.post(server.url("/api/v1/specs")).json(&spec("race"))).await;
    assert_eq!(code, 201);
    let (code, view) = send(c.post(server.url("/api/v1/specs/race/todo"))).await;
    assert_eq!(code, 200);
    let revision = view["revision"].as_i64().unwrap();

    // 20 approvals and 20 edits based on the same revision, all at once.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (c, server) = (c.clone(), server.url(""));
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let r = c
                    .post(format!("{server}/api/v1/specs/race/todo/approve"))
                    .send()
                    .await
                    .unwrap();
                ("approve", r.status().as_u16())
            } else {
                let mut s = spec("race");
                s["goals"][0] = json!(format!("Send the summary, variant {i}"));
                let r = c
                    .put(format!("{server}/api/v1/specs/race"))
                    .header("if-match", format!("\"{revision}\""))
                    .json(&s)
                    .send()
                    .await
                    .unwrap();
                ("edit", r.status().as_u16())
            }
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let ok = |what: &str| {
        outcomes
            .iter()
            .filter(|(w, c)| *w == what && *c == 200)
            .count()
    };
    assert!(ok("approve") <= 1, "{outcomes:?}");
    assert!(ok("edit") <= 1, "one edit wins the revision: {outcomes:?}");
    assert!(
        outcomes.iter().all(|(_, c)| [200, 409].contains(c)),
        "{outcomes:?}"
    );

    let (_, view) = send(c.get(server.url("/api/v1/specs/race"))).await;
    let approved = !view["todo"]["approved_at_ms"].is_null();
    let ready = view["spec"]["status"] == "ready";
    assert_eq!(approved, ready, "approval and status move together: {view}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ready_spec_is_dispatched_with_its_todo_and_the_run_settings() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("templates")).unwrap();
    // Prints the `{spec}` argument, the FABRIK_* variables, the spec and the todo.
    let script = r#"echo SPEC_ARG=$1; env | grep '^FABRIK_' | sort; cat "$1" "$FABRIK_TODO_PATH""#;
    let template = format!(
        "name = \"reader\"\ncommand = [\"sh\", \"-c\", {script:?}, \"reader\", \"{{spec}}\"]\nresume_command = [\"true\", \"{{run_id}}\"]\n"
    );
    std::fs::write(tmp.path().join("templates/reader.toml"), template).unwrap();
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let runs = server.url("/api/v1/runs");
    let (code, _) = send(
        c.post(server.url("/api/v1/specs"))
            .json(&spec("weekly-summary")),
    )
    .await;
    assert_eq!(code, 201);

    let (code, body) = send(
        c.post(&runs)
            .json(&json!({"template": "reader", "spec": "weekly-summary"})),
    )
    .await;
    assert_eq!(code, 400, "a draft is not dispatched: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("approve its todo first at /specs/weekly-summary/todo"),
        "{message}"
    );
    let (code, body) = send(
        c.post(&runs)
            .json(&json!({"template": "reader", "spec": "no-such-spec"})),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = send(
        c.post(&runs)
            .json(&json!({"template": "reader", "cpu": "lots"})),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cpu:"),
        "{body}"
    );
    let (code, body) = send(
        c.post(&runs)
            .json(&json!({"template": "reader", "spec_json": {"v": 1, "id": "x"}})),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("title: is required"),
        "{body}"
    );
    let (_, list) = send(c.get(format!("{runs}?limit=5"))).await;
    assert_eq!(
        list["runs"].as_array().map(Vec::len),
        Some(0),
        "refusals store nothing: {list}"
    );

    send(c.post(server.url("/api/v1/specs/weekly-summary/todo"))).await;
    let (code, _) = send(c.post(server.url("/api/v1/specs/weekly-summary/todo/approve"))).await;
    assert_eq!(code, 200);
    let request = json!({"template": "reader", "spec": "weekly-summary", "repo": "https://github.com/acme/app.git",
        "cpu": "500m", "memory": "1Gi", "model": "claude-sonnet-4-5", "iterations": 3});
    let (code, body) = send(c.post(&runs).json(&request)).await;
    assert_eq!(code, 201, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    let done = wait_exited(&c, &server, &id).await;
    assert_eq!(done["summary"]["spec"], "weekly-summary");
    assert_eq!(done["execution"]["options"]["cpu"], "500m");
    assert_eq!(done["execution"]["options"]["iterations"], 3);
    let log = run_log(&c, &server, &id).await;
    assert!(
        log.contains("SPEC_ARG=") && log.contains("/workspace/spec.json"),
        "{log}"
    );
    for line in [
        "FABRIK_TODO_PATH=",
        "FABRIK_CPU=500m",
        "FABRIK_MEMORY=1Gi",
        "FABRIK_MAX_ITERATIONS=3",
        "FABRIK_MODEL=claude-sonnet-4-5",
        "FABRIK_REPO_URL=https://github.com/acme/app.git",
    ] {
        assert!(log.contains(line), "{line} in {log}");
    }
    assert!(
        log.contains("\"title\": \"Send each team a weekly summary of its merged work\""),
        "the spec file: {log}"
    );
    assert!(log.contains("\"tasks\""), "the todo file: {log}");

    // A spec given as JSON works the same way, without storing it.
    let (code, body) = send(
        c.post(&runs)
            .json(&json!({"template": "reader", "spec_json": spec("uploaded-one")})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    wait_exited(&c, &server, &id).await;
    let log = run_log(&c, &server, &id).await;
    assert!(log.contains("\"id\": \"uploaded-one\""), "{log}");
    assert!(log.contains("FABRIK_SPEC_PATH="), "{log}");
    assert!(
        !log.contains("FABRIK_TODO_PATH="),
        "an uploaded spec comes without a todo: {log}"
    );
    let (code, _) = send(c.get(server.url("/api/v1/specs/uploaded-one"))).await;
    assert_eq!(code, 404);
}
