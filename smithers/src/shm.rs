//! SQLite's WAL-index header, read from the `-shm` file without taking any lock.
//!
//! Why: when SQLite finds the header half-written (its writer is mid-commit), it takes
//! the WAL write lock for a moment to read it again. Smithers sets no busy timeout, so a
//! Smithers statement starting in that moment fails with "database is locked". Polling
//! for changes through SQLite (`PRAGMA data_version`) did that often enough to fail
//! half of a hot writer's statements (see `tests/concurrent.rs`); reading the header
//! here, and waiting until it is whole before SQLite looks, keeps us out of the way.
//!
//! Layout (sqlite.org/walformat.html): the 48-byte header is kept twice, at 0 and 48;
//! the writer writes the second copy, then the first. Copies that differ mean a write
//! is under way. Byte 12 (`isInit`) is 1 once the index was built.
use std::fs::File;
use std::path::Path;

const HEADER: usize = 48;
const IS_INIT: usize = 12;

/// How many times a header being written is read again before giving up on it.
const TRIES: usize = 200;

/// One whole copy of the header. Every commit changes it (`iChange` counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WalHeader([u8; HEADER]);

/// The `-shm` file of a WAL database, opened for reading only.
pub(crate) struct Shm(File);

impl Shm {
    /// None when the database has no `-shm` (not in WAL mode, or nobody has it open).
    pub(crate) fn open(db_path: &Path) -> Option<Shm> {
        File::open(crate::open::beside(db_path, "-shm"))
            .ok()
            .map(Shm)
    }

    /// The header once both copies agree; None if it never settled (or can't be read,
    /// e.g. not built yet), and the caller falls back to asking SQLite.
    pub(crate) fn settled_header(&self) -> Option<WalHeader> {
        let mut both = [0u8; 2 * HEADER];
        for _ in 0..TRIES {
            read_at(&self.0, &mut both).ok()?;
            let (first, second) = both.split_at(HEADER);
            if first == second && first[IS_INIT] == 1 {
                return first.try_into().ok().map(WalHeader);
            }
            std::thread::yield_now();
        }
        None
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, 0)
}

#[cfg(not(unix))]
fn read_at(_file: &File, _buf: &mut [u8]) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shm_with(bytes: &[u8]) -> (tempfile::TempDir, Shm) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(crate::open::beside(&db, "-shm"), bytes).unwrap();
        let shm = Shm::open(&db).unwrap();
        (dir, shm)
    }

    fn header(change: u8) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[IS_INIT] = 1;
        h[8] = change;
        h
    }

    #[test]
    fn agreeing_copies_are_the_header() {
        let (_dir, shm) = shm_with(&[header(7), header(7)].concat());
        assert_eq!(shm.settled_header(), Some(WalHeader(header(7))));
    }

    #[test]
    fn copies_that_differ_or_an_index_not_built_are_no_header() {
        let (_dir, shm) = shm_with(&[header(7), header(8)].concat());
        assert_eq!(shm.settled_header(), None, "a write under way");
        let (_dir, shm) = shm_with(&[[0u8; HEADER], [0u8; HEADER]].concat());
        assert_eq!(shm.settled_header(), None, "isInit is 0");
        let (_dir, shm) = shm_with(&header(7));
        assert_eq!(shm.settled_header(), None, "too short");
    }
}
