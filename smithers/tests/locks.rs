//! Reading must not drop the POSIX locks this process's SQLite connections hold: they
//! belong to the process, and closing any descriptor of the file releases them all
//! (sqlite.org/howtocorrupt.html, 2.2). A lock lost that way lets another process
//! write under a reader, or take a database for its own that is still in use.
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rusqlite::Connection;

const PROBE: &str = "FABRIK_LOCK_PROBE";

/// Run as a child process: can another process take the database for itself?
#[test]
#[ignore = "run by a_reader_keeps_this_process_s_locks, in another process"]
fn probe_exclusive_lock() {
    let path = std::env::var(PROBE).expect("the database to probe");
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();
    match conn.execute_batch("BEGIN EXCLUSIVE") {
        Ok(()) => println!("probe: exclusive"),
        Err(e) => println!("probe: refused ({e})"),
    }
}

fn another_process_gets_exclusive(path: &Path) -> bool {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "probe_exclusive_lock",
            "--nocapture",
        ])
        .env(PROBE, path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("probe: "), "{stdout}");
    stdout.contains("probe: exclusive")
}

#[test]
fn a_reader_keeps_this_process_s_locks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let writer = Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "CREATE TABLE _smithers_runs (run_id TEXT PRIMARY KEY, workflow_name TEXT, status TEXT, created_at_ms INTEGER);
             INSERT INTO _smithers_runs VALUES ('r', 'wf', 'running', 1);",
        )
        .unwrap();
    // A read transaction of ours holds a SHARED lock on the file.
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN").unwrap();
    holder
        .query_row("SELECT count(*) FROM _smithers_runs", [], |_| Ok(()))
        .unwrap();
    // Just written, so opening it looks at its header first.
    smithers::read_snapshot(&path, None).unwrap();
    assert!(
        !another_process_gets_exclusive(&path),
        "reading dropped this process's lock"
    );
    holder.execute_batch("COMMIT").unwrap();
    assert!(
        another_process_gets_exclusive(&path),
        "and it was that lock"
    );
}
