//! Cheap change detection, so a snapshot is only re-read when Smithers wrote something.
use std::path::{Path, PathBuf};

use domain::run::SmithersSnapshot;
use rusqlite::Connection;

use crate::error::{At, Result};
use crate::open::{being_created, open_read_only};
use crate::read::snapshot_from;
use crate::shm::{settled_header, WalHeader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbChange {
    /// The file does not exist (yet, or any more).
    NotYet,
    Unchanged,
    /// First sighting of the file, a commit by another connection, or a replaced file.
    Changed,
}

/// Keeps one read-only connection open and notices commits by other connections:
/// from the WAL-index header in `-shm` (no lock, see [`crate::shm`]), or by asking
/// SQLite (`PRAGMA data_version`) when there is no settled header to read.
pub struct Watcher {
    path: PathBuf,
    open: Option<OpenDb>,
}

struct OpenDb {
    conn: Connection,
    file: FileId,
    seen: Seen,
}

/// What the last poll saw. Either kind differing from the next look is a change: a
/// switch between them can only report a change that wasn't one (an extra read).
#[derive(PartialEq, Eq)]
enum Seen {
    Header(WalHeader),
    DataVersion(i64),
}

impl OpenDb {
    fn look(&self) -> rusqlite::Result<Seen> {
        match settled_header(&self.conn) {
            Some(header) => Ok(Seen::Header(header)),
            None => data_version(&self.conn).map(Seen::DataVersion),
        }
    }
}

impl Watcher {
    pub fn new(path: impl Into<PathBuf>) -> Watcher {
        Watcher {
            path: path.into(),
            open: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn poll(&mut self) -> Result<DbChange> {
        let Some(file) = file_id(&self.path) else {
            self.open = None;
            return Ok(DbChange::NotYet);
        };
        match &mut self.open {
            None if being_created(&self.path) => Ok(DbChange::NotYet),
            Some(db) if db.file == file => {
                let seen = db.look().at(&self.path)?;
                let changed = seen != db.seen;
                db.seen = seen;
                Ok(if changed {
                    DbChange::Changed
                } else {
                    DbChange::Unchanged
                })
            }
            _ => {
                self.open = None;
                self.open = Some(open_db(&self.path, file)?);
                Ok(DbChange::Changed)
            }
        }
    }

    /// Reads a snapshot over the watcher's own connection (no reopen per read).
    pub fn read_snapshot(&mut self, run_id: Option<&str>) -> Result<SmithersSnapshot> {
        let current = file_id(&self.path);
        let db = match self.open.take() {
            Some(db) if Some(db.file) == current => db,
            // Opening also reports a missing file as Error::Missing.
            _ => open_db(&self.path, current.unwrap_or_default())?,
        };
        let db = self.open.insert(db);
        snapshot_from(&db.conn, run_id).at(&self.path)
    }
}

fn open_db(path: &Path, file: FileId) -> Result<OpenDb> {
    let conn = open_read_only(path)?;
    // The first read maps the WAL index, so its header is there to read.
    let data_version = data_version(&conn).at(path)?;
    let seen = settled_header(&conn).map_or(Seen::DataVersion(data_version), Seen::Header);
    Ok(OpenDb { conn, file, seen })
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

/// Identifies the file itself, so a database replaced under the same path is noticed
/// (its old connection would keep reading the unlinked file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct FileId(u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(FileId(meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some(FileId::default())
    }
}
