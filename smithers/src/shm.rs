//! SQLite's WAL-index header, read from the connection's own mapping of `-shm` without
//! taking any lock (and without opening the file: closing a descriptor of our own
//! would drop the POSIX locks SQLite holds on it in this process).
//!
//! Why: when SQLite finds the header half-written (its writer is mid-commit), it takes
//! the WAL write lock for a moment to read it again. Smithers sets no busy timeout, so a
//! Smithers statement starting in that moment fails with "database is locked". Polling
//! for changes through SQLite (`PRAGMA data_version`) did that often enough to fail
//! about a third of a hot writer's statements (see `tests/concurrent.rs`).
//!
//! Layout (sqlite.org/walformat.html): the 48-byte header is kept twice, at 0 and 48;
//! the writer writes the second copy, then the first. Copies that differ mean a write
//! is under way. Byte 12 (`isInit`) is 1 once the index was built.
use rusqlite::Connection;

const HEADER: usize = 48;
const IS_INIT: usize = 12;

/// How many times a header being written is read again before giving up on it.
const TRIES: usize = 200;

/// One whole copy of the header. Every commit changes it (`iChange` counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WalHeader([u8; HEADER]);

/// The header of the WAL index `conn` has mapped, once both copies agree; None if the
/// connection has no index mapped (not WAL, not opened through [`crate::vfs`]) or the
/// header never settled, and the caller asks SQLite instead.
pub(crate) fn settled_header(conn: &Connection) -> Option<WalHeader> {
    let index = crate::vfs::mapped_index(conn)?;
    // SAFETY: the mapping holds at least one 32 KiB page; it stays mapped while the
    // connection, borrowed here, is open and not in use.
    unsafe { settled(index) }
}

/// Reads both copies until they agree (volatile: another process writes them).
unsafe fn settled(index: *const u8) -> Option<WalHeader> {
    for _ in 0..TRIES {
        let both: [u8; 2 * HEADER] = std::ptr::read_volatile(index.cast());
        let (first, second) = both.split_at(HEADER);
        if first == second && first[IS_INIT] == 1 {
            return first.try_into().ok().map(WalHeader);
        }
        std::thread::yield_now();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(change: u8) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[IS_INIT] = 1;
        h[8] = change;
        h
    }

    fn settled_in(index: &[u8]) -> Option<WalHeader> {
        assert_eq!(index.len(), 2 * HEADER);
        // SAFETY: the slice holds both copies.
        unsafe { settled(index.as_ptr()) }
    }

    #[test]
    fn agreeing_copies_are_the_header() {
        let index = [header(7), header(7)].concat();
        assert_eq!(settled_in(&index), Some(WalHeader(header(7))));
    }

    #[test]
    fn copies_that_differ_or_an_index_not_built_are_no_header() {
        assert_eq!(
            settled_in(&[header(7), header(8)].concat()),
            None,
            "a write under way"
        );
        assert_eq!(settled_in(&[0u8; 2 * HEADER]), None, "isInit is 0");
    }

    #[test]
    fn a_connection_of_ours_reads_its_mapped_header_and_sees_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x);")
            .unwrap();
        let reader = crate::open::open_read_only(&path).unwrap();
        assert_eq!(
            settled_header(&reader),
            None,
            "nothing mapped before a read"
        );
        reader
            .query_row("PRAGMA data_version", [], |_| Ok(()))
            .unwrap();
        let before = settled_header(&reader).expect("mapped after a read");
        assert_eq!(settled_header(&reader), Some(before));
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert_ne!(settled_header(&reader), Some(before), "a commit changes it");

        let plain = Connection::open(&path).unwrap();
        plain
            .query_row("PRAGMA data_version", [], |_| Ok(()))
            .unwrap();
        assert_eq!(settled_header(&plain), None, "not opened through our VFS");
    }
}
