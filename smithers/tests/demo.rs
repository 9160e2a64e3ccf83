//! The demo workflow's databases, produced from genuine Smithers 0.5.0 runs.
mod common;

use domain::run::{GateStatus, NodeState, Progress, SmithersRunStatus};
use domain::status::{current_task, progress};
use smithers::{decide_gate, read_snapshot, Decision};

/// Token sums computed by SQLite itself, to check ours against.
fn sql_token_sums(path: &std::path::Path) -> (i64, i64) {
    common::rw(path)
        .query_row(
            "SELECT SUM(i), SUM(o) FROM (SELECT input_tokens i, output_tokens o FROM task_report
             UNION ALL SELECT input_tokens, output_tokens FROM review_report)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn the_finished_demo_run_reads_complete() {
    let db = common::demo("demo-finished.db");
    let snap = read_snapshot(&db.path, None).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Finished));
    assert_eq!(snap.workflow_name.as_deref(), Some("demo"));
    assert_eq!(snap.tasks.len(), 14);
    assert_eq!(
        progress(&snap.tasks),
        Progress {
            finished: 14,
            total: 14
        }
    );
    assert!(snap
        .tasks
        .iter()
        .all(|t| t.attempts == 1 && t.error.is_none()));
    assert_eq!(snap.tasks[0].node_id, "plan");
    assert_eq!(snap.tasks[0].label.as_deref(), Some("Plan the change"));

    let gate = &snap.gates[0];
    assert_eq!(gate.status, GateStatus::Approved);
    assert_eq!(gate.decided_by.as_deref(), Some("alice"));
    assert_eq!(gate.note.as_deref(), Some("Ship it"));
    assert!(snap
        .events
        .iter()
        .any(|e| e.kind == "ApprovalGranted"
            && e.message == "Approval granted for human-gate by alice"));
    assert_eq!(snap.events.last().unwrap().message, "Run finished");

    // 9 task reports (8 tasks + done), 4 reviews, 1 gate output.
    let count = |t: &str| snap.outputs.iter().filter(|o| o.table == t).count();
    assert_eq!(
        (
            count("task_report"),
            count("review_report"),
            count("human_gate")
        ),
        (9, 4, 1)
    );
    let plan = snap
        .outputs
        .iter()
        .find(|o| o.node_id.as_deref() == Some("plan"))
        .unwrap();
    assert!(plan.fields["work"].is_array(), "JSON text decoded");
    assert!(plan.fields["input_tokens"].is_u64());

    assert_eq!(snap.reviews.len(), 4);
    let rejecting: Vec<_> = snap
        .reviews
        .iter()
        .filter(|r| r.approved == Some(false))
        .collect();
    assert_eq!(rejecting.len(), 1);
    assert_eq!(rejecting[0].reviewer, "SECURITY");
    assert_eq!(rejecting[0].issues.len(), 1);
    assert!(rejecting[0].summary.is_some());

    let (input, output) = sql_token_sums(&db.path);
    assert_eq!(snap.tokens.len(), 1);
    assert_eq!(snap.tokens[0].model, "mock-demo-1");
    assert_eq!(snap.tokens[0].input_tokens, input as u64);
    assert_eq!(snap.tokens[0].output_tokens, output as u64);
}

#[test]
fn the_waiting_demo_run_can_be_approved() {
    let db = common::demo("demo-waiting.db");
    let snap = read_snapshot(&db.path, None).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::WaitingApproval));
    assert_eq!(
        progress(&snap.tasks),
        Progress {
            finished: 12,
            total: 14
        }
    );
    assert_eq!(current_task(&snap.tasks).unwrap().node_id, "human-gate");
    let gate = &snap.gates[0];
    assert_eq!(
        (gate.node_id.as_str(), gate.status),
        ("human-gate", GateStatus::Requested)
    );
    assert!(snap.outputs.iter().all(|o| o.table != "human_gate"));
    assert_eq!(snap.reviews.len(), 4);

    let last_seq: i64 = common::count(&db.path, "SELECT MAX(seq) FROM _smithers_events");
    let now = 1_795_500_000_000;
    decide_gate(
        &db.path,
        "demo-waiting-01",
        None,
        None,
        Decision::Approve,
        Some("ok"),
        "carol",
        now,
    )
    .unwrap();
    assert_eq!(
        common::count(&db.path, "SELECT MAX(seq) FROM _smithers_events"),
        last_seq + 1
    );
    let after = read_snapshot(&db.path, None).unwrap();
    let gate_task = after
        .tasks
        .iter()
        .find(|t| t.node_id == "human-gate")
        .unwrap();
    assert_eq!(gate_task.state, NodeState::Pending);
    assert_eq!(
        gate_task.label.as_deref(),
        Some("Human approval"),
        "label kept"
    );
    assert_eq!(after.gates[0].decided_by.as_deref(), Some("carol"));
    assert_eq!(
        after.events.last().unwrap().message,
        "Approval granted for human-gate by carol"
    );
}
