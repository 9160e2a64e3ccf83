//! Our gate decision against the real `smithers` CLI (smithers-orchestrator 0.5.0 under
//! bun, from the repository's node_modules): same rows as `smithers approve`, and
//! `smithers resume` acts on it. scripts/setup.sh installs bun and Smithers, so their
//! absence fails the test instead of skipping it.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use domain::run::{GateStatus, Progress, SmithersRunStatus};
use domain::status::progress;
use smithers::{decide_gate, read_snapshot, Decision};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

struct Cli {
    bun: PathBuf,
    cli: PathBuf,
    workflow: PathBuf,
}

fn cli() -> Cli {
    let repo = Path::new(REPO);
    let cli = Cli {
        bun: repo.join("node_modules/.bin/bun"),
        cli: repo.join("node_modules/smithers-orchestrator/src/cli/index.ts"),
        workflow: repo.join("workflows/demo/workflow.tsx"),
    };
    let missing: Vec<_> = [&cli.bun, &cli.cli, &cli.workflow]
        .into_iter()
        .filter(|p| !p.exists())
        .collect();
    assert!(
        missing.is_empty(),
        "{missing:?} missing: run scripts/setup.sh (npm install) first"
    );
    cli
}

impl Cli {
    /// Runs `smithers <args>` on the database at `db`; returns the exit code.
    fn run(&self, db: &Path, args: &[&str]) -> i32 {
        let dir = db.parent().unwrap();
        let out = Command::new(&self.bun)
            .arg(&self.cli)
            .args(args)
            .current_dir(dir)
            .env("SMITHERS_DB_PATH", db)
            .env("DEMO_TASK_MS", "0")
            .output()
            .expect("spawn bun");
        if !out.status.success() {
            eprintln!(
                "smithers {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.code().unwrap_or(-1)
    }

    fn to_gate(&self, db: &Path, run_id: &str) {
        let root = db.parent().unwrap().to_str().unwrap().to_string();
        let wf = self.workflow.to_str().unwrap();
        assert_eq!(
            self.run(db, &["run", wf, "--run-id", run_id, "--root", &root]),
            3
        );
        // Fold any WAL back into the file, so a byte copy holds everything.
        common::rw(db)
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }

    fn resume(&self, db: &Path, run_id: &str) -> i32 {
        let root = db.parent().unwrap().to_str().unwrap().to_string();
        let wf = self.workflow.to_str().unwrap();
        self.run(db, &["resume", wf, "--run-id", run_id, "--root", &root])
    }
}

fn copy_to(src: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let dst = dir.join("state.db");
    std::fs::copy(src, &dst).unwrap();
    dst
}

type Row = Vec<Option<String>>;

fn rows(db: &Path, sql: &str) -> Vec<Row> {
    let conn = common::rw(db);
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                    rusqlite::types::Value::Text(t) => Some(t),
                    other => Some(format!("{other:?}")),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn our_approval_matches_smithers_approve_and_resume_finishes_the_run() {
    let cli = cli();
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("state.db");
    cli.to_gate(&original, "r1");
    let theirs = copy_to(&original, &tmp.path().join("cli"));
    let ours = copy_to(&original, &tmp.path().join("ours"));

    let wf = cli.workflow.to_str().unwrap();
    let approve = [
        "approve",
        wf,
        "--run-id",
        "r1",
        "--node-id",
        "human-gate",
        "--note",
        "Ship it",
        "--decided-by",
        "alice",
    ];
    assert_eq!(cli.run(&theirs, &approve), 0);
    let their_ts: i64 = common::count(&theirs, "SELECT decided_at_ms FROM _smithers_approvals");
    decide_gate(
        &ours,
        "r1",
        Some("human-gate"),
        None,
        Decision::Approve,
        Some("Ship it"),
        "alice",
        their_ts,
    )
    .unwrap();

    // Same approval row and the same event, byte for byte (same timestamp given).
    let approvals = "SELECT * FROM _smithers_approvals ORDER BY rowid";
    assert_eq!(rows(&ours, approvals), rows(&theirs, approvals));
    let events = "SELECT * FROM _smithers_events ORDER BY run_id, seq";
    assert_eq!(rows(&ours, events), rows(&theirs, events));
    // Same node state; 0.5.0 also blanks output_table/label/last_attempt (its upsert
    // rewrites the whole row) and stamps updated_at a moment later. We keep them.
    let gate_node = "SELECT state, last_attempt, output_table, label FROM _smithers_nodes WHERE node_id = 'human-gate'";
    let their_node = rows(&theirs, gate_node);
    assert_eq!(
        their_node,
        [vec![
            Some("pending".into()),
            None,
            Some(String::new()),
            None
        ]]
    );
    let our_node = rows(&ours, gate_node);
    assert_eq!(
        our_node,
        [vec![
            Some("pending".into()),
            None,
            Some("humanGate".into()),
            Some("Human approval".into())
        ]]
    );
    let others = "SELECT * FROM _smithers_nodes WHERE node_id != 'human-gate' ORDER BY rowid";
    assert_eq!(rows(&ours, others), rows(&theirs, others));

    assert_eq!(
        cli.resume(&ours, "r1"),
        0,
        "smithers resume acts on our decision"
    );
    let snap = read_snapshot(&ours, Some("r1")).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Finished));
    assert_eq!(
        progress(&snap.tasks),
        Progress {
            finished: 14,
            total: 14
        }
    );
    let gate_output = snap
        .outputs
        .iter()
        .find(|o| o.table == "human_gate")
        .unwrap();
    assert_eq!(
        gate_output.fields["decided_by"], "alice",
        "the workflow read our row"
    );
    assert_eq!(gate_output.fields["note"], "Ship it");
}

#[test]
fn our_denial_makes_resume_fail_the_run() {
    let cli = cli();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("state.db");
    cli.to_gate(&db, "r2");
    let gate = decide_gate(
        &db,
        "r2",
        None,
        None,
        Decision::Deny,
        Some("Not now"),
        "bob",
        1_795_000_000_000,
    )
    .unwrap();
    assert_eq!(gate.status, GateStatus::Denied);
    assert_eq!(cli.resume(&db, "r2"), 1);
    let snap = read_snapshot(&db, Some("r2")).unwrap();
    assert_eq!(snap.run_status, Some(SmithersRunStatus::Failed));
    assert_eq!(snap.gates[0].status, GateStatus::Denied);
    assert!(snap
        .outputs
        .iter()
        .all(|o| o.node_id.as_deref() != Some("done")));
}

/// What Smithers 0.5.0 does first (`createSmithers`): open, switch to WAL, create a
/// table, with bun:sqlite's default of no busy timeout.
const SMITHERS_SET_UP: &str = r#"
import { Database } from "bun:sqlite";
const db = new Database(process.env.SMITHERS_DB_PATH);
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA foreign_keys = ON");
db.exec(`CREATE TABLE IF NOT EXISTS "input" (run_id TEXT PRIMARY KEY, payload TEXT)`);
db.close();
"#;

/// The server polls each run's DB from the moment it dispatches; a poll that opened the
/// file while Smithers was still setting it up failed the run (SQLITE_BUSY on the switch
/// to WAL, SQLITE_BUSY_RECOVERY or SQLITE_READONLY on the first table).
#[test]
fn a_watcher_polling_from_the_start_never_fails_smithers_set_up() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    // Before the fix about one attempt in twelve failed.
    const ATTEMPTS: usize = 60;
    let bun = cli().bun;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("set-up.ts");
    std::fs::write(&script, SMITHERS_SET_UP).unwrap();
    let mut failures = Vec::new();
    for attempt in 0..ATTEMPTS {
        let db = dir.path().join(format!("state-{attempt}.db"));
        let done = Arc::new(AtomicBool::new(false));
        let poller = {
            let (db, done) = (db.clone(), done.clone());
            std::thread::spawn(move || {
                let mut watcher = smithers::Watcher::new(&db);
                while !done.load(Ordering::Relaxed) {
                    // As the server does: a change is read over a connection of its own.
                    if let Ok(smithers::DbChange::Changed) = watcher.poll() {
                        let _ = read_snapshot(&db, None);
                    }
                    std::thread::sleep(std::time::Duration::from_micros(100));
                }
            })
        };
        let out = Command::new(&bun)
            .arg(&script)
            .env("SMITHERS_DB_PATH", &db)
            .output()
            .expect("spawn bun");
        done.store(true, Ordering::Relaxed);
        poller.join().unwrap();
        if !out.status.success() {
            failures.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ATTEMPTS} failed: {failures:#?}",
        failures.len()
    );
}
