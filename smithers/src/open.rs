use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{At, Error, Result};

const READ_BUSY_TIMEOUT: Duration = Duration::from_secs(1);
const WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A read-only connection. In WAL mode it never blocks the Smithers writer (through
/// [`crate::vfs`]); it only needs the directory to be writable so SQLite can map the
/// `-shm` index.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    open(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        READ_BUSY_TIMEOUT,
        crate::vfs::open_reader,
    )
}

/// A read-write connection that never creates the file.
pub(crate) fn open_read_write(path: &Path) -> Result<Connection> {
    open(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        WRITE_BUSY_TIMEOUT,
        |path, flags| Connection::open_with_flags(path, flags),
    )
}

/// Never opens a database its writer is still setting up (see [`setup`]): an empty
/// file counts as missing, and a first WAL commit still pending is waited out (at most
/// [`SETTLE`]; callers run on blocking threads).
fn open(
    path: &Path,
    flags: OpenFlags,
    busy: Duration,
    connect: fn(&Path, OpenFlags) -> rusqlite::Result<Connection>,
) -> Result<Connection> {
    loop {
        match setup(path) {
            Setup::Absent | Setup::Empty => return Err(Error::Missing(path.into())),
            Setup::FirstCommitPending { left } => std::thread::sleep(left.min(POLL)),
            Setup::Done => break,
        }
    }
    let conn = connect(path, flags).at(path)?;
    conn.busy_timeout(busy).at(path)?;
    Ok(conn)
}

/// How long a new WAL database nobody has opened for sharing yet is left to its writer.
const SETTLE: Duration = Duration::from_millis(500);

/// How often [`open`] looks again while a first WAL commit is pending.
const POLL: Duration = Duration::from_millis(20);

enum Setup {
    Absent,
    Empty,
    FirstCommitPending { left: Duration },
    Done,
}

/// Whether a writer is still setting the database up: the file is empty, or it was
/// just switched to WAL and its writer has not committed in WAL mode yet (no `-shm`
/// index, or an empty `-wal`: the index may still be being built). A reader that opens
/// it then makes the writer's next statement fail (`SQLITE_BUSY` on the switch to WAL,
/// `SQLITE_BUSY_RECOVERY` while the reader builds the index), and Smithers sets no busy
/// timeout. An old WAL file with no `-shm` is a DB whose writer has gone.
fn setup(path: &Path) -> Setup {
    let Ok(meta) = std::fs::metadata(path) else {
        return Setup::Absent;
    };
    if meta.len() == 0 {
        return Setup::Empty;
    }
    let age = meta.modified().ok().and_then(|m| m.elapsed().ok());
    let left = age.map_or(Duration::ZERO, |age| SETTLE.saturating_sub(age));
    // Every read of a settled database ends here, before looking at any other file.
    if left.is_zero() || !is_wal(path) {
        return Setup::Done;
    }
    let first_commit_pending = !beside(path, "-shm").exists()
        || std::fs::metadata(beside(path, "-wal")).is_ok_and(|m| m.len() == 0);
    if first_commit_pending {
        Setup::FirstCommitPending { left }
    } else {
        Setup::Done
    }
}

/// True while a writer is still setting the database up (see [`setup`]).
pub(crate) fn being_created(path: &Path) -> bool {
    matches!(setup(path), Setup::Empty | Setup::FirstCommitPending { .. })
}

/// The header's read/write format versions are 2 in WAL mode. Read through SQLite's
/// VFS: our connections may hold locks on the file (see [`crate::vfs::read_db_start`]).
fn is_wal(path: &Path) -> bool {
    let mut header = [0u8; 20];
    crate::vfs::read_db_start(path, &mut header) && header[18] == 2 && header[19] == 2
}

/// `state.db` → `state.db-shm`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
