//! What our reading of a run DB costs Smithers, which writes it with no busy timeout:
//! a lock we hold as its statement starts fails that statement ("database is locked").
//! Readers poll for changes and read at every change while a writer commits statement
//! after statement; counted are the writer's failed statements, with SQLite's default
//! VFS (the baseline) and with the reader VFS our Smithers readers use. Then what a
//! poll costs: the watcher's (the WAL-index header, read without a lock) against
//! `PRAGMA data_version` on an open connection.
use std::ffi::CStr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

const STATEMENTS: i64 = 100_000;
const READERS: usize = 4;
const POLLS: u32 = 100_000;

pub fn writer_under_readers() -> anyhow::Result<()> {
    println!("\n## Smithers' statements our readers fail ({READERS} readers, {STATEMENTS} statements, no busy timeout)");
    let baseline = attack(None)?;
    let ours = attack(smithers::reader_vfs())?;
    for (name, run) in [
        ("SQLite's default VFS (baseline)", &baseline),
        ("reader VFS", &ours),
    ] {
        println!(
            "{name:<32} failed {:>6} statements; {:>9.0} reads/s; writer {:>7.0} statements/s",
            run.failed,
            run.reads as f64 / run.elapsed.as_secs_f64(),
            STATEMENTS as f64 / run.elapsed.as_secs_f64(),
        );
    }
    println!(
        "reader VFS: reads/s {:.2}x the baseline's",
        (ours.reads as f64 / ours.elapsed.as_secs_f64())
            / (baseline.reads as f64 / baseline.elapsed.as_secs_f64())
    );
    poll_cost()
}

struct Attack {
    failed: usize,
    reads: u64,
    elapsed: Duration,
}

fn attack(vfs: Option<&'static CStr>) -> anyhow::Result<Attack> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.db");
    let writer = live_writer(&path)?;
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || read_at_every_change(&path, vfs, &stop))
        })
        .collect();
    let started = Instant::now();
    let failed = (0..STATEMENTS)
        .filter(|i| writer.execute("INSERT INTO t VALUES (?1)", [i]).is_err())
        .count();
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for reader in readers {
        reads += reader.join().expect("reader thread")?;
    }
    Ok(Attack {
        failed,
        reads,
        elapsed,
    })
}

/// A WAL database with one committed table, and its writer set up as Smithers is.
fn live_writer(path: &Path) -> rusqlite::Result<Connection> {
    let writer = Connection::open(path)?;
    writer.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    writer.busy_timeout(Duration::ZERO)?;
    writer.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (0);")?;
    Ok(writer)
}

fn read_at_every_change(
    path: &Path,
    vfs: Option<&CStr>,
    stop: &AtomicBool,
) -> rusqlite::Result<u64> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match vfs {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs)?,
        None => Connection::open_with_flags(path, flags)?,
    };
    conn.busy_timeout(Duration::from_secs(1))?;
    let (mut seen, mut reads) = (-1i64, 0);
    while !stop.load(Ordering::Relaxed) {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if version != seen {
            seen = version;
            conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?;
            reads += 1;
        }
    }
    Ok(reads)
}

fn poll_cost() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.db");
    let _writer = live_writer(&path)?;
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let started = Instant::now();
    for _ in 0..POLLS {
        conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))?;
    }
    let data_version = started.elapsed() / POLLS;
    let mut watcher = smithers::Watcher::new(&path);
    watcher.poll()?;
    let started = Instant::now();
    for _ in 0..POLLS {
        watcher.poll()?;
    }
    let header = started.elapsed() / POLLS;
    println!(
        "a poll: PRAGMA data_version {data_version:?} (baseline), the watcher's {header:?} ({:.2}x)",
        header.as_secs_f64() / data_version.as_secs_f64()
    );
    Ok(())
}
