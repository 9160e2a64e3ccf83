//! Deciding a gate writes exactly what `smithers approve` / `smithers deny` write.
mod common;

use std::time::{Duration, Instant};

use domain::run::{GateStatus, NodeState, SmithersRunStatus};
use rusqlite::{Connection, OptionalExtension};
use smithers::{decide_gate, read_snapshot, Decision, Error};

const WAITING: &str = "e564f07e-6050-4c1e-98f9-0c015e0a392e";
const WAITING_2: &str = "8087edda-d922-48a5-9352-538a654c2047";
const APPROVED: &str = "ae8bc5ca-01af-479c-9db6-800b2bfd11fb";
const NOW: i64 = 1_770_400_000_123;

type ApprovalRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn approval(conn: &Connection, run: &str, node: &str) -> ApprovalRow {
    conn.query_row(
        "SELECT status, requested_at_ms, decided_at_ms, note, decided_by FROM _smithers_approvals
         WHERE run_id = ?1 AND node_id = ?2 AND iteration = 0",
        [run, node],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
    .unwrap()
}

fn events_after(conn: &Connection, run: &str, seq: i64) -> Vec<(i64, i64, String, String)> {
    conn.prepare(
        "SELECT seq, timestamp_ms, type, payload_json FROM _smithers_events
         WHERE run_id = ?1 AND seq > ?2 ORDER BY seq",
    )
    .unwrap()
    .query_map(rusqlite::params![run, seq], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn node(conn: &Connection, run: &str, node: &str) -> (String, i64, Option<i64>, String) {
    conn.query_row(
        "SELECT state, updated_at_ms, last_attempt, output_table FROM _smithers_nodes
         WHERE run_id = ?1 AND node_id = ?2 AND iteration = 0",
        [run, node],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

/// Everything except the rows the decision is allowed to touch.
fn untouched(path: &std::path::Path, run: &str) -> String {
    common::dump(path)
        .lines()
        .filter(|l| {
            let touched = [
                "_smithers_approvals:",
                "_smithers_events:",
                "_smithers_nodes:",
            ];
            !(touched.iter().any(|t| l.starts_with(t)) && l.contains(run))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn approving_writes_the_approval_the_event_and_the_node() {
    let db = common::shared("approval.db");
    let before = untouched(&db.path, WAITING);
    let gate = decide_gate(
        &db.path,
        WAITING,
        Some("approve"),
        None,
        Decision::Approve,
        Some("Looks good"),
        "alice",
        NOW,
    )
    .unwrap();
    assert_eq!(gate.node_id, "approve");
    assert_eq!(gate.status, GateStatus::Approved);
    assert_eq!(gate.decided_at_ms, Some(NOW));
    assert_eq!(gate.requested_at_ms, None);
    assert_eq!(gate.decided_by.as_deref(), Some("alice"));

    let conn = common::rw(&db.path);
    assert_eq!(
        approval(&conn, WAITING, "approve"),
        (
            "approved".into(),
            None,
            Some(NOW),
            Some("Looks good".into()),
            Some("alice".into())
        )
    );
    assert_eq!(
        events_after(&conn, WAITING, 4),
        [(
            5,
            NOW,
            "ApprovalGranted".to_string(),
            format!(
                r#"{{"type":"ApprovalGranted","runId":"{WAITING}","nodeId":"approve","iteration":0,"timestampMs":{NOW}}}"#
            )
        )]
    );
    assert_eq!(
        node(&conn, WAITING, "approve"),
        ("pending".into(), NOW, None, "output".into())
    );
    assert_eq!(untouched(&db.path, WAITING), before, "nothing else changed");

    let snap = read_snapshot(&db.path, Some(WAITING)).unwrap();
    assert_eq!(
        snap.run_status,
        Some(SmithersRunStatus::WaitingApproval),
        "until resumed"
    );
    assert_eq!(snap.tasks[0].state, NodeState::Pending);
    assert_eq!(
        snap.events.last().unwrap().message,
        "Approval granted for approve by alice"
    );
}

#[test]
fn denying_fails_the_node() {
    let db = common::shared("approval.db");
    let gate = decide_gate(
        &db.path,
        WAITING_2,
        None,
        None,
        Decision::Deny,
        None,
        "bob",
        NOW,
    )
    .unwrap();
    assert_eq!(gate.status, GateStatus::Denied);
    let conn = common::rw(&db.path);
    assert_eq!(
        approval(&conn, WAITING_2, "approve"),
        ("denied".into(), None, Some(NOW), None, Some("bob".into()))
    );
    let events = events_after(&conn, WAITING_2, 4);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].2, "ApprovalDenied");
    assert_eq!(
        events[0].3,
        format!(
            r#"{{"type":"ApprovalDenied","runId":"{WAITING_2}","nodeId":"approve","iteration":0,"timestampMs":{NOW}}}"#
        )
    );
    assert_eq!(node(&conn, WAITING_2, "approve").0, "failed");
    let snap = read_snapshot(&db.path, Some(WAITING_2)).unwrap();
    assert_eq!(
        snap.events.last().unwrap().message,
        "Approval denied for approve by bob"
    );
}

#[test]
fn deciding_twice_is_refused_and_changes_nothing() {
    let db = common::shared("approval.db");
    decide_gate(
        &db.path,
        WAITING,
        None,
        Some(0),
        Decision::Approve,
        None,
        "alice",
        NOW,
    )
    .unwrap();
    let before = common::dump(&db.path);
    let err = decide_gate(
        &db.path,
        WAITING,
        Some("approve"),
        None,
        Decision::Deny,
        None,
        "bob",
        NOW + 5,
    )
    .unwrap_err();
    match &err {
        Error::AlreadyDecided {
            node_id,
            iteration,
            decision,
            by,
            at,
        } => {
            assert_eq!(node_id, "approve");
            assert_eq!(*iteration, 0);
            assert_eq!(*decision, GateStatus::Approved);
            assert_eq!(by.as_deref(), Some("alice"));
            assert_eq!(*at, Some(NOW));
        }
        other => panic!("expected AlreadyDecided, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("already approved by alice at 2026-02-"),
        "{message}"
    );
    assert_eq!(common::dump(&db.path), before);
    let code: domain::Error = err.into();
    assert_eq!(code.code, domain::ErrorCode::Conflict);
}

#[test]
fn a_gate_decided_by_smithers_itself_is_already_decided() {
    let db = common::shared("approval.db");
    let err = decide_gate(
        &db.path,
        APPROVED,
        Some("approve"),
        None,
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AlreadyDecided {
                decision: GateStatus::Approved,
                by: None,
                at: Some(1770327598446),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn no_open_gate_is_gate_not_open() {
    let db = common::shared("approval.db");
    let before = common::dump(&db.path);
    for (run, node) in [
        (APPROVED, None),
        ("no-such-run", None),
        (WAITING, Some("final")),
    ] {
        let err =
            decide_gate(&db.path, run, node, None, Decision::Approve, None, "x", NOW).unwrap_err();
        assert!(
            matches!(&err, Error::GateNotOpen { run_id, .. } if run_id == run),
            "{err:?}"
        );
        assert!(err.to_string().contains("No approval is waiting"), "{err}");
    }
    let err = decide_gate(
        &db.path,
        WAITING,
        Some("approve"),
        Some(1),
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::GateNotOpen { .. }),
        "wrong iteration: {err:?}"
    );
    assert_eq!(common::dump(&db.path), before);

    let pi = common::shared("pi-spec-implementation.db");
    let err =
        decide_gate(&pi.path, "r", None, None, Decision::Approve, None, "x", NOW).unwrap_err();
    assert!(
        matches!(err, Error::GateNotOpen { .. }),
        "no approvals table: {err:?}"
    );
}

#[test]
fn a_missing_database_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let err = decide_gate(&path, "r", None, None, Decision::Approve, None, "x", NOW).unwrap_err();
    assert!(matches!(err, Error::Missing(_)));
    assert!(!path.exists());
}

/// Smithers 0.5 layout without `decided_by` (the column was added later), and a gate
/// whose node row does not exist yet.
#[test]
fn only_existing_columns_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE _smithers_approvals (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0,
               status TEXT NOT NULL, requested_at_ms INTEGER, decided_at_ms INTEGER, note TEXT, PRIMARY KEY (run_id, node_id, iteration));
             CREATE TABLE _smithers_nodes (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0,
               state TEXT NOT NULL, last_attempt INTEGER, updated_at_ms INTEGER NOT NULL, output_table TEXT NOT NULL, label TEXT,
               PRIMARY KEY (run_id, node_id, iteration));
             CREATE TABLE _smithers_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL,
               type TEXT NOT NULL, payload_json TEXT NOT NULL, PRIMARY KEY (run_id, seq));
             INSERT INTO _smithers_approvals VALUES ('r', 'gate', 2, 'requested', 50, NULL, NULL);",
        )
        .unwrap();
    let gate = decide_gate(
        &path,
        "r",
        None,
        None,
        Decision::Approve,
        Some("n"),
        "alice",
        NOW,
    )
    .unwrap();
    assert_eq!(gate.iteration, 2);
    assert_eq!(gate.decided_by, None, "no column to record it in");
    let conn = Connection::open(&path).unwrap();
    let node: (String, i64, String, Option<String>) = conn
        .query_row(
            "SELECT state, updated_at_ms, output_table, label FROM _smithers_nodes WHERE node_id = 'gate' AND iteration = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(node, ("pending".into(), NOW, String::new(), None));
    let event: (i64, String) = conn
        .query_row("SELECT seq, payload_json FROM _smithers_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        event,
        (
            0,
            format!(
                r#"{{"type":"ApprovalGranted","runId":"r","nodeId":"gate","iteration":2,"timestampMs":{NOW}}}"#
            )
        )
    );
}

#[test]
fn several_open_gates_must_be_named() {
    let db = common::shared("approval.db");
    common::rw(&db.path)
        .execute(
            "INSERT INTO _smithers_approvals VALUES (?1, 'second', 0, 'requested', 1, NULL, NULL, NULL)",
            [WAITING],
        )
        .unwrap();
    let err = decide_gate(
        &db.path,
        WAITING,
        None,
        None,
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::AmbiguousGate { open, .. } if open == &["approve", "second"]),
        "{err:?}"
    );
    decide_gate(
        &db.path,
        WAITING,
        Some("second"),
        None,
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap();
    // The second gate has no node row: one is created, as Smithers' upsert would.
    let state: Option<String> = common::rw(&db.path)
        .query_row(
            "SELECT state FROM _smithers_nodes WHERE run_id = ?1 AND node_id = 'second'",
            [WAITING],
            |r| r.get(0),
        )
        .optional()
        .unwrap();
    assert_eq!(state.as_deref(), Some("pending"));
}

#[test]
fn a_held_write_lock_gives_locked_after_five_seconds() {
    let db = common::shared("approval.db");
    let holder = common::rw(&db.path);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let err = decide_gate(
        &db.path,
        WAITING,
        None,
        None,
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Locked(_)), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(4500),
        "{:?}",
        started.elapsed()
    );
    holder.execute_batch("ROLLBACK").unwrap();
    decide_gate(
        &db.path,
        WAITING,
        None,
        None,
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap();
}

/// Smithers sets no busy timeout: a write lock taken while it writes fails its
/// statement. A decision with nothing to decide must not take one.
#[test]
fn nothing_to_decide_takes_no_write_lock() {
    let db = common::shared("approval.db");
    let smithers = common::rw(&db.path);
    smithers.execute_batch("BEGIN IMMEDIATE").unwrap();
    for run in [APPROVED, "no-such-run"] {
        let err =
            decide_gate(&db.path, run, None, None, Decision::Approve, None, "x", NOW).unwrap_err();
        assert!(matches!(err, Error::GateNotOpen { .. }), "{run}: {err:?}");
    }
    smithers.execute_batch("COMMIT").unwrap();
}

#[test]
fn a_brief_lock_is_waited_out() {
    let db = common::shared("approval.db");
    let path = db.path.clone();
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = common::rw(&path);
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        // The lock is held this long: the scenario, not a synchronisation.
        std::thread::sleep(Duration::from_millis(600));
        conn.execute_batch("COMMIT").unwrap();
    });
    locked.recv().unwrap();
    decide_gate(
        &db.path,
        WAITING,
        None,
        None,
        Decision::Approve,
        None,
        "x",
        NOW,
    )
    .unwrap();
    holder.join().unwrap();
}
