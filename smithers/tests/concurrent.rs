//! Reading alongside a live WAL writer (Smithers under bun, which sets no busy
//! timeout: any lock we held would make its writes fail).
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use smithers::{read_snapshot, DbChange, Error, Watcher};

const RUN: &str = "595a7bd3-a563-4a22-ad34-1d07129ab21b";

/// A copy of approval.db switched to WAL, with a Smithers-like writer connection.
fn live_db() -> (common::Copy, Connection) {
    let db = common::shared("approval.db");
    let writer = common::rw(&db.path);
    let mode: String = writer
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    writer.busy_timeout(Duration::ZERO).unwrap();
    // As Smithers goes on to do: its first commit in WAL makes the -shm and the WAL's
    // first frames.
    writer
        .execute_batch("CREATE TABLE IF NOT EXISTS _live (x); INSERT INTO _live VALUES (1);")
        .unwrap();
    (db, writer)
}

fn append_event(conn: &Connection, kind: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO _smithers_events (run_id, seq, timestamp_ms, type, payload_json)
         SELECT ?1, COALESCE(MAX(seq), -1) + 1, 1770342999000, ?2, '{}' FROM _smithers_events WHERE run_id = ?1",
        [RUN, kind],
    )
}

#[test]
fn uncommitted_writes_are_invisible_and_the_writer_is_never_blocked() {
    let (db, writer) = live_db();
    let mut watcher = Watcher::new(&db.path);
    assert_eq!(watcher.poll().unwrap(), DbChange::Changed, "first sighting");
    assert_eq!(watcher.poll().unwrap(), DbChange::Unchanged);
    let before = read_snapshot(&db.path, Some(RUN)).unwrap().events.len();

    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    append_event(&writer, "NodeStarted").unwrap();
    // Reading during the write transaction works and sees the last commit.
    assert_eq!(
        read_snapshot(&db.path, Some(RUN)).unwrap().events.len(),
        before
    );
    assert_eq!(
        watcher.read_snapshot(Some(RUN)).unwrap().events.len(),
        before
    );
    assert_eq!(watcher.poll().unwrap(), DbChange::Unchanged);
    // With no busy timeout, the commit would fail if our reader held a lock.
    writer.execute_batch("COMMIT").unwrap();

    assert_eq!(watcher.poll().unwrap(), DbChange::Changed);
    assert_eq!(watcher.poll().unwrap(), DbChange::Unchanged);
    let after = watcher.read_snapshot(Some(RUN)).unwrap();
    assert_eq!(after.events.len(), before + 1);
    assert_eq!(after.events.last().unwrap().kind, "NodeStarted");
    assert_eq!(
        watcher.poll().unwrap(),
        DbChange::Unchanged,
        "our own reads are no change"
    );
}

#[test]
fn an_exclusive_wal_writer_does_not_lock_readers_out() {
    let (db, writer) = live_db();
    writer.execute_batch("BEGIN EXCLUSIVE").unwrap();
    append_event(&writer, "NodeFinished").unwrap();
    assert!(read_snapshot(&db.path, Some(RUN)).is_ok());
    writer.execute_batch("COMMIT").unwrap();
}

#[test]
fn a_busy_writer_and_a_fast_reader_never_fail_each_other() {
    let (db, writer) = live_db();
    let done = Arc::new(AtomicBool::new(false));
    let path = db.path.clone();
    let flag = done.clone();
    let reader = std::thread::spawn(move || {
        let mut watcher = Watcher::new(&path);
        let (mut reads, mut last) = (0, 0);
        loop {
            // Checked before polling, so the last poll follows the last commit.
            let finished = flag.load(Ordering::Relaxed);
            if watcher.poll().unwrap() == DbChange::Changed {
                let n = watcher.read_snapshot(Some(RUN)).unwrap().events.len();
                assert!(n >= last, "events went backwards: {last} -> {n}");
                last = n;
                reads += 1;
            }
            read_snapshot(&path, Some(RUN)).unwrap();
            if finished {
                return (reads, last);
            }
        }
    });
    for i in 0..300 {
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        append_event(&writer, "NodeOutputLine").unwrap();
        writer
            .execute_batch("COMMIT")
            .unwrap_or_else(|e| panic!("commit {i}: {e}"));
    }
    done.store(true, Ordering::Relaxed);
    let (reads, last) = reader.join().unwrap();
    assert!(reads > 1, "the watcher saw changes");
    assert_eq!(last, 4 + 300, "the final read saw every commit");
}

/// The attack: watchers polling as fast as they can while Smithers commits statement
/// after statement with no busy timeout. Polling through SQLite failed 2,162 of these
/// 5,000 statements: a reader that finds the WAL-index header half-written takes the
/// write lock to read it again, and one descheduled there holds it for milliseconds.
/// (Reading a snapshot at every change did the same, too rarely for a test here:
/// 0–2,844 of 200,000 statements before `vfs.rs`; its rule is tested there.)
#[test]
fn watchers_polling_a_hot_writer_never_fail_its_statements() {
    let (db, writer) = live_db();
    let stop = Arc::new(AtomicBool::new(false));
    let pollers: Vec<_> = (0..4)
        .map(|_| {
            let (path, stop) = (db.path.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut watcher = Watcher::new(&path);
                let mut changes = 0;
                while !stop.load(Ordering::Relaxed) {
                    if watcher.poll().unwrap() == DbChange::Changed {
                        changes += 1;
                    }
                }
                changes
            })
        })
        .collect();
    let failed: Vec<String> = (0..5000)
        .filter_map(|i| {
            writer
                .execute("INSERT INTO _live VALUES (?1)", [i])
                .err()
                .map(|e| format!("{i}: {e}"))
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    for poller in pollers {
        assert!(poller.join().unwrap() > 1, "every poller saw commits");
    }
    assert!(
        failed.is_empty(),
        "{} of 5000 statements failed, first {:?}",
        failed.len(),
        failed.first()
    );
}

#[test]
fn the_watcher_waits_for_the_database_to_appear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut watcher = Watcher::new(&path);
    assert_eq!(watcher.path(), path);
    assert_eq!(watcher.poll().unwrap(), DbChange::NotYet);
    assert_eq!(watcher.poll().unwrap(), DbChange::NotYet);
    assert!(matches!(
        watcher.read_snapshot(None),
        Err(Error::Missing(_))
    ));
    assert!(!path.exists(), "watching must not create the file");

    // Smithers creates the file, switches to WAL, then creates its tables.
    let writer = Connection::open(&path).unwrap();
    assert_eq!(
        watcher.poll().unwrap(),
        DbChange::NotYet,
        "an empty file is left to its writer"
    );
    writer.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    writer
        .execute_batch(
            "CREATE TABLE _smithers_runs (run_id TEXT PRIMARY KEY, workflow_name TEXT, status TEXT, created_at_ms INTEGER);
             INSERT INTO _smithers_runs VALUES ('r', 'wf', 'running', 1);",
        )
        .unwrap();
    assert_eq!(watcher.poll().unwrap(), DbChange::Changed);
    assert_eq!(watcher.poll().unwrap(), DbChange::Unchanged);
    let snap = watcher.read_snapshot(None).unwrap();
    assert_eq!(snap.workflow_name.as_deref(), Some("wf"));

    writer
        .execute("UPDATE _smithers_runs SET status = 'finished'", [])
        .unwrap();
    assert_eq!(watcher.poll().unwrap(), DbChange::Changed);
    drop(writer);

    // A database replaced under the same path is noticed and read afresh.
    let other = common::shared("approval.db");
    std::fs::rename(&other.path, &path).unwrap();
    std::fs::remove_file(dir.path().join("state.db-wal")).ok();
    std::fs::remove_file(dir.path().join("state.db-shm")).ok();
    assert_eq!(watcher.poll().unwrap(), DbChange::Changed);
    assert_eq!(
        watcher
            .read_snapshot(None)
            .unwrap()
            .workflow_name
            .as_deref(),
        Some("approval")
    );

    std::fs::remove_file(&path).unwrap();
    assert_eq!(watcher.poll().unwrap(), DbChange::NotYet);
}

/// Smithers' start, raced by every reader the server has (one-shot snapshots, output
/// tables, the gate writer, the watcher): none of them may make its first statements
/// fail. Smithers sets no busy timeout, so a lock held at the wrong moment is a run
/// that dies at start (`SQLITE_BUSY` on `PRAGMA journal_mode = WAL`).
#[test]
fn readers_racing_a_database_being_created_never_fail_its_writer() {
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|which| {
                let (path, stop) = (path.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut watcher = Watcher::new(&path);
                    while !stop.load(Ordering::Relaxed) {
                        let _ = match which {
                            0 => read_snapshot(&path, None).map(drop),
                            1 => smithers::output_tables(&path).map(drop),
                            2 => smithers::decide_gate(
                                &path,
                                "r",
                                None,
                                None,
                                smithers::Decision::Approve,
                                None,
                                "x",
                                1,
                            )
                            .map(drop),
                            _ => watcher.poll().map(drop),
                        };
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(2));
        let writer = Connection::open(&path).unwrap();
        writer.busy_timeout(Duration::ZERO).unwrap();
        let started = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .and_then(|_| {
                writer.execute_batch(
                    "CREATE TABLE _smithers_runs (run_id TEXT PRIMARY KEY, workflow_name TEXT, status TEXT, created_at_ms INTEGER);
                     INSERT INTO _smithers_runs VALUES ('r', 'wf', 'running', 1);",
                )
            });
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.join().unwrap();
        }
        started.unwrap_or_else(|e| panic!("round {round}: Smithers' start failed: {e}"));
    }
}
