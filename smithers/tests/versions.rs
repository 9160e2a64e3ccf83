//! Databases from other Smithers versions, and ones with only output tables.
mod common;

use domain::run::{NodeState, SmithersRunStatus, TokenUsage};
use rusqlite::Connection;
use smithers::{output_tables, read_snapshot, Error};

#[test]
fn output_tables_only_degrades_gracefully() {
    let db = common::shared("pi-spec-implementation.db");
    let snap = read_snapshot(&db.path, None).unwrap();
    assert_eq!(snap, Default::default());
    assert_eq!(
        output_tables(&db.path).unwrap(),
        [
            "discover",
            "implement",
            "report",
            "review",
            "review_fix",
            "validate"
        ]
    );
}

#[test]
fn output_rows_without_smithers_tables_are_still_returned() {
    let db = common::shared("pi-spec-implementation.db");
    common::rw(&db.path)
        .execute_batch(
            r#"
            INSERT INTO implement VALUES ('r1', 'impl', 0, 'Added X', '["a.rs","b.rs"]', '{"passed":3}', NULL);
            INSERT INTO review VALUES ('r1', 'review-sec', 1, 'SECURITY', 0,
              '[{"file":"a.rs","line":7,"description":"unchecked input"},{"severity":"low"},"plain issue"]', '[]');
            "#,
        )
        .unwrap();
    let snap = read_snapshot(&db.path, None).unwrap();
    assert!(snap.tasks.is_empty() && snap.gates.is_empty() && snap.events.is_empty());
    assert_eq!(snap.outputs.len(), 2);
    let implement = snap
        .outputs
        .iter()
        .find(|o| o.table == "implement")
        .unwrap();
    assert_eq!(
        implement.fields["changes"],
        serde_json::json!(["a.rs", "b.rs"])
    );
    assert_eq!(implement.fields["tests"], serde_json::json!({"passed": 3}));
    assert_eq!(implement.fields["summary"], "Added X");
    assert!(implement.fields["jj"].is_null());

    assert_eq!(snap.reviews.len(), 1);
    let review = &snap.reviews[0];
    assert_eq!(review.reviewer, "SECURITY");
    assert_eq!(review.approved, Some(false));
    assert_eq!(review.summary, None, "the table has no summary column");
    assert_eq!(review.iteration, 1);
    assert_eq!(
        review.issues,
        [
            "a.rs:7: unchecked input",
            r#"{"severity":"low"}"#,
            "plain issue"
        ]
    );
}

/// A Smithers 0.12 database: heartbeat, vcs and cancel columns, response_text and
/// jj_cwd on attempts, TokenUsageReported events.
fn smithers_012(conn: &Connection) {
    conn.execute_batch(
        r#"
        CREATE TABLE _smithers_runs (run_id TEXT PRIMARY KEY, workflow_name TEXT NOT NULL, workflow_path TEXT,
          workflow_hash TEXT, status TEXT NOT NULL, created_at_ms INTEGER NOT NULL, started_at_ms INTEGER,
          finished_at_ms INTEGER, heartbeat_at_ms INTEGER, runtime_owner_id TEXT, cancel_requested_at_ms INTEGER,
          vcs_type TEXT, vcs_root TEXT, vcs_revision TEXT, error_json TEXT, config_json TEXT);
        CREATE TABLE _smithers_nodes (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0,
          state TEXT NOT NULL, last_attempt INTEGER, updated_at_ms INTEGER NOT NULL, output_table TEXT NOT NULL, label TEXT,
          PRIMARY KEY (run_id, node_id, iteration));
        CREATE TABLE _smithers_attempts (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0,
          attempt INTEGER NOT NULL, state TEXT NOT NULL, started_at_ms INTEGER NOT NULL, finished_at_ms INTEGER,
          error_json TEXT, jj_pointer TEXT, response_text TEXT, jj_cwd TEXT, cached INTEGER DEFAULT 0, meta_json TEXT,
          PRIMARY KEY (run_id, node_id, iteration, attempt));
        CREATE TABLE _smithers_approvals (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0,
          status TEXT NOT NULL, requested_at_ms INTEGER, decided_at_ms INTEGER, note TEXT, decided_by TEXT,
          PRIMARY KEY (run_id, node_id, iteration));
        CREATE TABLE _smithers_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL,
          type TEXT NOT NULL, payload_json TEXT NOT NULL, PRIMARY KEY (run_id, seq));
        CREATE TABLE task_report (run_id TEXT, node_id TEXT, iteration INTEGER, status TEXT, model TEXT,
          input_tokens INTEGER, output_tokens INTEGER);

        INSERT INTO _smithers_runs VALUES ('old', 'wf', NULL, NULL, 'finished', 10, 10, 20, 20, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO _smithers_runs VALUES ('r', 'wf', NULL, 'h', 'failed', 100, 101, 900, 899, 'owner', NULL, 'jj', '/w', 'abc',
          '{"name":"Error","message":"Agent crashed","stack":"..."}', '{}');
        INSERT INTO _smithers_nodes VALUES ('r', 'impl', 0, 'failed', 2, 800, 'task_report', 'Implement');
        INSERT INTO _smithers_nodes VALUES ('r', 'impl', 1, 'in-progress', 3, 850, 'task_report', 'Implement');
        INSERT INTO _smithers_nodes VALUES ('r', 'plan', 0, 'finished', 1, 300, 'task_report', '');
        INSERT INTO _smithers_attempts VALUES ('r', 'impl', 0, 2, 'failed', 500, 600, '{"message":"second boom"}', NULL, 'x', '/w', 0, NULL);
        INSERT INTO _smithers_attempts VALUES ('r', 'impl', 0, 1, 'failed', 400, 450, '{"message":"first boom"}', NULL, 'x', '/w', 0, NULL);
        INSERT INTO _smithers_attempts VALUES ('r', 'impl', 1, 1, 'in-progress', 700, NULL, NULL, NULL, NULL, NULL, 0, NULL);
        INSERT INTO _smithers_attempts VALUES ('r', 'plan', 0, 1, 'finished', 200, 250, NULL, NULL, 'ok', NULL, 0, NULL);
        INSERT INTO _smithers_events VALUES ('r', 0, 101, 'RunStarted', '{"type":"RunStarted","runId":"r","timestampMs":101}');
        INSERT INTO _smithers_events VALUES ('r', 1, 250, 'TokenUsageReported', '{"type":"TokenUsageReported","runId":"r","nodeId":"plan","iteration":0,"attempt":1,"model":"claude","agent":"a","inputTokens":100,"outputTokens":20,"cacheReadTokens":5,"timestampMs":250}');
        INSERT INTO _smithers_events VALUES ('r', 2, 450, 'NodeFailed', '{"type":"NodeFailed","runId":"r","nodeId":"impl","iteration":0,"attempt":1,"error":{"message":"first boom"},"timestampMs":450}');
        INSERT INTO _smithers_events VALUES ('r', 3, 451, 'NodeRetrying', '{"type":"NodeRetrying","runId":"r","nodeId":"impl","iteration":0,"attempt":2,"timestampMs":451}');
        INSERT INTO _smithers_events VALUES ('r', 4, 600, 'TokenUsageReported', '{"type":"TokenUsageReported","runId":"r","nodeId":"impl","iteration":0,"attempt":2,"model":"claude","agent":"a","inputTokens":1000,"outputTokens":200,"cacheWriteTokens":7,"reasoningTokens":9,"timestampMs":600}');
        INSERT INTO _smithers_events VALUES ('r', 5, 700, 'NodeStarted', '{"type":"NodeStarted","runId":"r","nodeId":"impl","iteration":1,"attempt":1,"timestampMs":700}');
        INSERT INTO _smithers_events VALUES ('r', 6, 710, 'TokenUsageReported', '{"type":"TokenUsageReported","runId":"r","nodeId":"impl","iteration":1,"attempt":1,"model":"gpt","inputTokens":1,"outputTokens":2,"timestampMs":710}');
        INSERT INTO _smithers_events VALUES ('r', 7, 900, 'RunFailed', '{"type":"RunFailed","runId":"r","error":{"message":"Agent crashed"},"timestampMs":900}');
        INSERT INTO task_report VALUES ('r', 'plan', 0, 'done', 'claude', 100, 20);
        "#,
    )
    .unwrap();
}

fn temp_db(build: fn(&Connection)) -> common::Copy {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    build(&conn);
    common::Copy { dir, path }
}

#[test]
fn a_012_database_reads_heartbeat_errors_attempts_and_tokens() {
    let db = temp_db(smithers_012);
    let snap = read_snapshot(&db.path, Some("r")).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Failed));
    assert_eq!(snap.heartbeat_at_ms, Some(899));
    assert_eq!(snap.error.as_deref(), Some("Agent crashed"));

    let impl0 = snap
        .tasks
        .iter()
        .find(|t| t.node_id == "impl" && t.iteration == 0)
        .unwrap();
    assert_eq!(impl0.label.as_deref(), Some("Implement"));
    assert_eq!(impl0.attempts, 2);
    assert_eq!(impl0.started_at_ms, Some(400), "first attempt's start");
    assert_eq!(impl0.finished_at_ms, Some(600), "last attempt's finish");
    assert_eq!(
        impl0.error.as_deref(),
        Some("second boom"),
        "last failed attempt"
    );
    let impl1 = snap.tasks.iter().find(|t| t.iteration == 1).unwrap();
    assert_eq!(
        (impl1.state, impl1.attempts, impl1.finished_at_ms),
        (NodeState::InProgress, 1, None)
    );
    let plan = snap.tasks.iter().find(|t| t.node_id == "plan").unwrap();
    assert_eq!(plan.label, None, "empty label reads as none");
    assert_eq!(plan.error, None);

    // Events win over output-table token columns (no double counting).
    assert_eq!(
        snap.tokens,
        [
            TokenUsage {
                model: "claude".into(),
                input_tokens: 1100,
                output_tokens: 220,
                cache_read_tokens: 5,
                cache_write_tokens: 7,
                reasoning_tokens: 9,
            },
            TokenUsage {
                model: "gpt".into(),
                input_tokens: 1,
                output_tokens: 2,
                ..TokenUsage::default()
            },
        ]
    );
    let lines: Vec<_> = snap.events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        lines,
        [
            "Run started",
            "Task plan used 125 tokens (claude)",
            "Task impl failed (attempt 1): first boom",
            "Task impl will retry (attempt 2)",
            "Task impl used 1207 tokens (claude)",
            "Task impl (iteration 1) started (attempt 1)",
            "Task impl (iteration 1) used 3 tokens (gpt)",
            "Run failed: Agent crashed",
        ]
    );
}

#[test]
fn tokens_come_from_output_columns_when_there_are_no_token_events() {
    let db = temp_db(smithers_012);
    common::rw(&db.path)
        .execute_batch(
            "DELETE FROM _smithers_events WHERE type = 'TokenUsageReported';
             INSERT INTO task_report VALUES ('r', 'impl', 0, 'done', 'claude', 5, 6);
             INSERT INTO task_report VALUES ('r', 'impl', 1, 'done', NULL, 7, 8);
             INSERT INTO task_report VALUES ('other-run', 'impl', 0, 'done', 'claude', 1000, 1000);",
        )
        .unwrap();
    let snap = read_snapshot(&db.path, Some("r")).unwrap();
    let summary: Vec<_> = snap
        .tokens
        .iter()
        .map(|t| (t.model.as_str(), t.input_tokens, t.output_tokens))
        .collect();
    assert_eq!(summary, [("claude", 105, 26), ("unknown", 7, 8)]);
}

#[test]
fn the_newest_run_is_chosen_by_creation_time() {
    let db = temp_db(smithers_012);
    let snap = read_snapshot(&db.path, None).unwrap();
    assert_eq!(snap.heartbeat_at_ms, Some(899), "run 'r' was created last");
}

/// An old layout: no label, last_attempt, iteration on nodes; no decided_by; no
/// error_json on attempts; no events table at all.
fn sparse(conn: &Connection) {
    conn.execute_batch(
        "CREATE TABLE _smithers_runs (run_id TEXT PRIMARY KEY, workflow_name TEXT, status TEXT);
         CREATE TABLE _smithers_nodes (run_id TEXT, node_id TEXT, state TEXT);
         CREATE TABLE _smithers_attempts (run_id TEXT, node_id TEXT, attempt INTEGER, state TEXT);
         CREATE TABLE _smithers_approvals (run_id TEXT, node_id TEXT, status TEXT);
         INSERT INTO _smithers_runs VALUES ('r', 'wf', 'weird-status');
         INSERT INTO _smithers_nodes VALUES ('r', 'a', 'finished'), ('r', 'b', 'something-new');
         INSERT INTO _smithers_attempts VALUES ('r', 'a', 1, 'failed'), ('r', 'a', 2, 'finished');
         INSERT INTO _smithers_approvals VALUES ('r', 'b', 'requested');",
    )
    .unwrap();
}

#[test]
fn missing_columns_are_never_selected() {
    let db = temp_db(sparse);
    let snap = read_snapshot(&db.path, None).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Unknown));
    assert_eq!(snap.workflow_name.as_deref(), Some("wf"));
    assert_eq!(snap.tasks.len(), 2);
    assert_eq!(snap.tasks[0].attempts, 2);
    assert_eq!(snap.tasks[0].error.as_deref(), Some("attempt failed"));
    assert_eq!(snap.tasks[1].state, NodeState::Unknown);
    assert_eq!(snap.gates.len(), 1);
    assert!(snap.events.is_empty() && snap.tokens.is_empty());
}

#[test]
fn an_empty_file_is_a_database_not_set_up_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, b"").unwrap();
    // Smithers has created the file and not written its first page: not opened at all
    // (a reader's lock would fail Smithers' switch to WAL), reported as not there yet.
    assert!(matches!(read_snapshot(&path, None), Err(Error::Missing(_))));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    let beside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(beside.len(), 1, "no -journal, -wal or -shm made");
}
