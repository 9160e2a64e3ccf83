//! Shared helpers: fixtures are copied to a temp dir first (never modified in place;
//! a read-only open of a WAL database also needs a writable directory for `-shm`).
#![allow(dead_code)] // each test binary uses a different subset

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;

/// Copies of shared/fixtures/smithers (Smithers 0.12 `approval.db`; output-tables-only
/// `pi-spec-implementation.db`), kept in the repo so tests don't depend on where it is.
pub const SHARED_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
pub const DEMO_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/tests/fixtures");

pub struct Copy {
    pub dir: TempDir,
    pub path: PathBuf,
}

/// Copies a file into a fresh temp dir (content only: the fixtures are read-only files).
pub fn copy_of(src: &Path) -> Copy {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(src.file_name().expect("file name"));
    let bytes = std::fs::read(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    std::fs::write(&path, bytes).expect("write copy");
    Copy { dir, path }
}

pub fn shared(name: &str) -> Copy {
    copy_of(&Path::new(SHARED_FIXTURES).join(name))
}

/// A demo fixture produced from genuine Smithers runs of workflows/demo.
pub fn demo(name: &str) -> Copy {
    copy_of(&Path::new(DEMO_FIXTURES).join(name))
}

pub fn rw(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).expect("open rw")
}

/// Every row of every table, for "nothing changed" comparisons.
pub fn dump(path: &Path) -> String {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            write!(out, "{table}:").unwrap();
            for i in 0..n {
                match row.get_ref(i).unwrap() {
                    ValueRef::Null => out.push_str(" NULL"),
                    ValueRef::Integer(v) => write!(out, " {v}").unwrap(),
                    ValueRef::Real(v) => write!(out, " {v}").unwrap(),
                    ValueRef::Text(t) => write!(out, " {:?}", String::from_utf8_lossy(t)).unwrap(),
                    ValueRef::Blob(b) => write!(out, " blob{}", b.len()).unwrap(),
                }
            }
            out.push('\n');
        }
    }
    out
}

pub fn count(path: &Path, sql: &str) -> i64 {
    rw(path).query_row(sql, [], |r| r.get(0)).unwrap()
}
