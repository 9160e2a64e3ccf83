use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{At, Error, Result};

const READ_BUSY_TIMEOUT: Duration = Duration::from_secs(1);
const WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A read-only connection. In WAL mode it never blocks the Smithers writer; it only
/// needs the directory to be writable so SQLite can map the `-shm` index.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    open(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        READ_BUSY_TIMEOUT,
    )
}

/// A read-write connection that never creates the file.
pub(crate) fn open_read_write(path: &Path) -> Result<Connection> {
    open(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        WRITE_BUSY_TIMEOUT,
    )
}

fn open(path: &Path, flags: OpenFlags, busy: Duration) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::Missing(path.into()));
    }
    let conn = Connection::open_with_flags(path, flags).at(path)?;
    conn.busy_timeout(busy).at(path)?;
    Ok(conn)
}
