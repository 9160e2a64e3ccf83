//! Cheap change detection, so a snapshot is only re-read when Smithers wrote something.
use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::run::SmithersSnapshot;
use rusqlite::Connection;

use crate::error::{At, Result};
use crate::open::open_read_only;
use crate::read::snapshot_from;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbChange {
    /// The file does not exist (yet, or any more).
    NotYet,
    Unchanged,
    /// First sighting of the file, a commit by another connection, or a replaced file.
    Changed,
}

/// Keeps one read-only connection open and asks SQLite whether another connection
/// committed since the last poll (`PRAGMA data_version`).
pub struct Watcher {
    path: PathBuf,
    open: Option<OpenDb>,
}

struct OpenDb {
    conn: Connection,
    file: FileId,
    data_version: i64,
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
                let version = data_version(&db.conn).at(&self.path)?;
                let changed = version != db.data_version;
                db.data_version = version;
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

/// How long a new WAL database nobody has opened for sharing yet is left to its writer.
const SETTLE: Duration = Duration::from_millis(500);

/// True while a writer is still setting the database up: the file is empty, or it was
/// just switched to WAL and its writer has not committed in WAL mode yet (no `-shm`
/// index, or an empty `-wal`: the index may still be being built). A reader that opens
/// it then makes the writer's next statement fail (`SQLITE_BUSY` on the switch to WAL,
/// `SQLITE_BUSY_RECOVERY` while the reader builds the index), and Smithers sets no busy
/// timeout. An old WAL file with no `-shm` is a DB whose writer has gone.
fn being_created(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.len() == 0 {
        return true;
    }
    let recent = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age < SETTLE);
    let first_commit_pending = !beside(path, "-shm").exists()
        || std::fs::metadata(beside(path, "-wal")).is_ok_and(|m| m.len() == 0);
    recent && is_wal(path) && first_commit_pending
}

/// The header's read/write format versions are 2 in WAL mode.
fn is_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| header[18] == 2 && header[19] == 2)
}

/// `state.db` → `state.db-shm`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn open_db(path: &Path, file: FileId) -> Result<OpenDb> {
    let conn = open_read_only(path)?;
    let data_version = data_version(&conn).at(path)?;
    Ok(OpenDb {
        conn,
        file,
        data_version,
    })
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
