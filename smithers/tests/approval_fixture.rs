//! Reading the Smithers 0.12 fixture `approval.db` (22 runs of one approval workflow).
mod common;

use domain::run::{GateStatus, NodeState, Progress, SmithersRunStatus};
use domain::status::progress;
use smithers::read_snapshot;

const FINISHED: &str = "ae8bc5ca-01af-479c-9db6-800b2bfd11fb";
const DENIED: &str = "bf705947-1b6a-4076-b890-a12079b32857";
const WAITING: &str = "e564f07e-6050-4c1e-98f9-0c015e0a392e";
const NEWEST: &str = "595a7bd3-a563-4a22-ad34-1d07129ab21b";

#[test]
fn a_finished_run_reads_complete() {
    let db = common::shared("approval.db");
    let snap = read_snapshot(&db.path, Some(FINISHED)).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Finished));
    assert_eq!(snap.workflow_name.as_deref(), Some("approval"));
    assert_eq!(snap.started_at_ms, Some(1770327597916));
    assert_eq!(snap.finished_at_ms, Some(1770327598519));
    assert_eq!(
        snap.heartbeat_at_ms, None,
        "0.12-early DBs have no heartbeat column"
    );
    assert_eq!(snap.error, None);

    let ids: Vec<_> = snap.tasks.iter().map(|t| t.node_id.as_str()).collect();
    assert_eq!(ids, ["approve", "final"]);
    let approve = &snap.tasks[0];
    assert_eq!(approve.state, NodeState::Finished);
    assert_eq!(approve.attempts, 1);
    assert_eq!(approve.started_at_ms, Some(1770327598466));
    assert_eq!(approve.finished_at_ms, Some(1770327598485));
    assert_eq!(
        progress(&snap.tasks),
        Progress {
            finished: 2,
            total: 2
        }
    );

    assert_eq!(snap.gates.len(), 1);
    assert_eq!(snap.gates[0].status, GateStatus::Approved);
    assert_eq!(snap.gates[0].requested_at_ms, None);
    assert_eq!(snap.gates[0].decided_at_ms, Some(1770327598446));
}

#[test]
fn outputs_are_this_runs_rows_with_typed_values() {
    let db = common::shared("approval.db");
    let snap = read_snapshot(&db.path, Some(FINISHED)).unwrap();
    // `output` has run_id + node_id (no iteration); `input` is excluded.
    assert_eq!(snap.outputs.len(), 2);
    assert!(snap
        .outputs
        .iter()
        .all(|o| o.table == "output" && o.iteration == 0));
    let approve = snap
        .outputs
        .iter()
        .find(|o| o.node_id.as_deref() == Some("approve"))
        .unwrap();
    assert_eq!(approve.fields["message"], "Approved: Approve");
    assert_eq!(approve.fields["length"], 7, "INTEGER stays a number");
    assert!(!approve.fields.contains_key("run_id"));
    assert!(snap.reviews.is_empty());
    assert!(snap.tokens.is_empty());
}

#[test]
fn events_become_a_readable_timeline_without_frame_noise() {
    let db = common::shared("approval.db");
    let snap = read_snapshot(&db.path, Some(FINISHED)).unwrap();
    let lines: Vec<_> = snap.events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        lines,
        [
            "Run started",
            "Approval requested for approve",
            "Task approve is waiting for approval",
            "Run is waiting for approval",
            "Approval granted for approve",
            "Run resumed",
            "Task approve started (attempt 1)",
            "Task approve finished",
            "Task final started (attempt 1)",
            "Task final finished",
            "Run finished",
        ]
    );
    assert!(snap.events.iter().all(|e| e.source == "smithers"));
    assert_eq!(snap.events[0].kind, "RunStarted");
    assert_eq!(snap.events[0].at_ms, 1770327597916);
    assert!(snap.events.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
}

#[test]
fn a_denied_run_failed_and_says_why() {
    let db = common::shared("approval.db");
    let snap = read_snapshot(&db.path, Some(DENIED)).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Failed));
    // error_json is empty in this DB: the RunFailed event gives the reason.
    assert_eq!(snap.error.as_deref(), Some("Task failed"));
    assert_eq!(snap.gates[0].status, GateStatus::Denied);
    let states: Vec<_> = snap.tasks.iter().map(|t| t.state).collect();
    assert_eq!(states, [NodeState::Failed, NodeState::Pending]);
    assert!(snap
        .tasks
        .iter()
        .all(|t| t.attempts == 0 && t.started_at_ms.is_none()));
    assert_eq!(
        progress(&snap.tasks),
        Progress {
            finished: 0,
            total: 2
        }
    );
    let last = snap.events.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.message.as_str()),
        ("RunFailed", "Run failed: Task failed")
    );
    assert!(snap
        .events
        .iter()
        .any(|e| e.message == "Approval denied for approve"));
}

#[test]
fn a_waiting_run_has_an_open_gate() {
    let db = common::shared("approval.db");
    let snap = read_snapshot(&db.path, Some(WAITING)).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::WaitingApproval));
    assert_eq!(snap.finished_at_ms, None);
    let gate = &snap.gates[0];
    assert_eq!(
        (gate.node_id.as_str(), gate.status, gate.requested_at_ms),
        ("approve", GateStatus::Requested, Some(1770341276013))
    );
    assert_eq!(snap.tasks[0].state, NodeState::WaitingApproval);
    assert!(snap.outputs.is_empty());
    assert_eq!(
        snap.events.last().unwrap().message,
        "Run is waiting for approval"
    );
}

#[test]
fn without_a_run_id_the_newest_run_is_read() {
    let db = common::shared("approval.db");
    let newest = read_snapshot(&db.path, None).unwrap();
    let by_id = read_snapshot(&db.path, Some(NEWEST)).unwrap();
    assert_eq!(newest, by_id);
    assert_eq!(newest.started_at_ms, Some(1770342917266));
}

#[test]
fn every_run_in_the_fixture_reads_and_statuses_add_up() {
    let db = common::shared("approval.db");
    let conn = common::rw(&db.path);
    let ids: Vec<String> = conn
        .prepare("SELECT run_id FROM _smithers_runs")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids.len(), 22);
    let mut counts = std::collections::BTreeMap::new();
    for id in &ids {
        let snap = read_snapshot(&db.path, Some(id)).unwrap();
        *counts
            .entry(format!("{:?}", snap.run_status.unwrap()))
            .or_insert(0) += 1;
        assert_eq!(snap.gates.len(), 1, "{id}");
        assert_eq!(snap.tasks.len(), 2, "{id}");
    }
    let expected: std::collections::BTreeMap<String, i32> =
        [("Failed", 8), ("Finished", 10), ("WaitingApproval", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    assert_eq!(counts, expected);
}

#[test]
fn an_unknown_run_id_reads_as_an_empty_snapshot() {
    let db = common::shared("approval.db");
    let snap = read_snapshot(&db.path, Some("no-such-run")).unwrap();
    assert_eq!(snap, Default::default());
}

#[test]
fn the_fixture_itself_is_never_modified() {
    let before = std::fs::read(format!("{}/approval.db", common::SHARED_FIXTURES)).unwrap();
    let db = common::shared("approval.db");
    read_snapshot(&db.path, None).unwrap();
    let after = std::fs::read(format!("{}/approval.db", common::SHARED_FIXTURES)).unwrap();
    assert_eq!(before, after);
}
