//! The VFS our read-only connections use: SQLite's own (unix) VFS, except that a reader
//! of ours does not take the WAL write lock on a working WAL index.
//!
//! Why: a reader that finds the WAL-index header half-written (its writer is mid-commit)
//! takes the write lock to read the header again. Smithers sets no busy timeout, so a
//! Smithers statement starting while we hold it fails with "database is locked"; and a
//! reader descheduled there holds it for milliseconds. Refused, SQLite's reader treats
//! the header as busy and reads it again (`WAL_RETRY`), by then whole.
//!
//! A reader legitimately needs the write lock only to rebuild an index: one not built
//! yet (`isInit` 0, the first to open a database nobody has open) or one left corrupt
//! by a crashed writer. The first is let through at once; for the second the refusals
//! stop after [`MAX_REFUSALS`] in a row, and SQLite rebuilds it as usual.
use std::ffi::{c_int, c_void, CStr, CString};
use std::path::Path;
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi::{self, sqlite3_file, sqlite3_int64, sqlite3_io_methods, sqlite3_vfs};
use rusqlite::{Connection, OpenFlags};

pub(crate) const NAME: &CStr = c"fabrik-smithers-reader";

const WAL_WRITE_LOCK: c_int = 0;
const FIRST_READ_LOCK: c_int = 3;
/// Offset of `isInit` in the WAL-index header (sqlite.org/walformat.html).
const IS_INIT: usize = 12;
/// Enough for a header being written to be whole again (SQLite retries at once, then
/// after 1 µs sleeps); few enough that a corrupt index is rebuilt without delay.
const MAX_REFUSALS: u32 = 8;

/// A read-only connection, through this VFS when it could be registered.
pub fn open_reader(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    match name() {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs),
        None => Connection::open_with_flags(path, flags),
    }
}

/// The VFS for a read-only connection to a database Smithers may be writing.
/// Registers it once; None if SQLite's default VFS is not there to wrap.
pub fn name() -> Option<&'static CStr> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    REGISTERED.get_or_init(register).then_some(NAME)
}

/// SQLite's default VFS, which ours hands every call to.
struct Real(*mut sqlite3_vfs);
// SAFETY: a registered VFS is immutable and lives as long as the process.
unsafe impl Send for Real {}
unsafe impl Sync for Real {}
static REAL: OnceLock<Real> = OnceLock::new();

/// Our file: SQLite's `sqlite3_file` first, the real VFS's file right after it in the
/// same allocation (`szOsFile` covers both).
#[repr(C)]
struct ReaderFile {
    base: sqlite3_file,
    /// Page 0 of the WAL index once mapped: its first bytes are the header.
    index: *const u8,
    refusals: u32,
}

const INNER_OFFSET: usize = std::mem::size_of::<ReaderFile>().next_multiple_of(8);

fn register() -> bool {
    // SAFETY: sqlite3_vfs_find initialises SQLite and returns a VFS that lives on.
    let real = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
    if real.is_null() || REAL.set(Real(real)).is_err() {
        return false;
    }
    // SAFETY: `real` is a valid VFS; ours copies it (mxPathname, pAppData and every
    // method but xOpen still belong to it) and is leaked, as SQLite requires.
    unsafe {
        let mut ours = ptr::read(real);
        ours.szOsFile = (INNER_OFFSET as c_int) + (*real).szOsFile;
        ours.zName = NAME.as_ptr();
        ours.pNext = ptr::null_mut();
        ours.xOpen = Some(open);
        ffi::sqlite3_vfs_register(Box::into_raw(Box::new(ours)), 0) == ffi::SQLITE_OK
    }
}

/// Reads the start of a database file through SQLite's own VFS. A plain open and close
/// of the file would drop every POSIX lock this process's SQLite connections hold on
/// it (sqlite.org/howtocorrupt.html, 2.2); SQLite's close keeps the descriptor open
/// while they do. False if the file can't be opened or is shorter than `buf`.
pub(crate) fn read_db_start(path: &Path, buf: &mut [u8]) -> bool {
    let Some(path) = c_path(path) else {
        return false;
    };
    let journal = with_suffix(&path, "-journal");
    let wal = with_suffix(&path, "-wal");
    // SAFETY: the VFS is SQLite's default, alive for the process; the file lives in
    // `memory` (szOsFile bytes, 8-aligned), is closed if its methods were set, and
    // the name comes from sqlite3_create_filename as xOpen requires, freed after.
    unsafe {
        let real = ffi::sqlite3_vfs_find(ptr::null());
        let Some(open) = real.as_ref().and_then(|real| real.xOpen) else {
            return false;
        };
        let name = ffi::sqlite3_create_filename(
            path.as_ptr(),
            journal.as_ptr(),
            wal.as_ptr(),
            0,
            ptr::null_mut(),
        );
        if name.is_null() {
            return false;
        }
        let mut memory = vec![0u64; ((*real).szOsFile as usize).div_ceil(8)];
        let file = memory.as_mut_ptr().cast::<sqlite3_file>();
        let mut out_flags = 0;
        let flags = ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_READONLY;
        let mut whole = open(real, name, file, flags, &mut out_flags) == ffi::SQLITE_OK;
        if let Some(methods) = (*file).pMethods.as_ref() {
            whole = whole
                && methods.xRead.is_some_and(|read| {
                    read(file, buf.as_mut_ptr().cast(), buf.len() as c_int, 0) == ffi::SQLITE_OK
                });
            if let Some(close) = methods.xClose {
                close(file);
            }
        }
        ffi::sqlite3_free_filename(name);
        whole
    }
}

fn c_path(path: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).ok()
}

fn with_suffix(path: &CStr, suffix: &str) -> CString {
    let mut bytes = path.to_bytes().to_vec();
    bytes.extend_from_slice(suffix.as_bytes());
    CString::new(bytes).expect("no NUL: it came from a CStr")
}

/// The WAL index (its header first) as the connection's file has it mapped: None
/// unless the connection was opened through this VFS and its index is mapped. Valid
/// while the connection stays open and unused by anyone else.
pub(crate) fn mapped_index(conn: &Connection) -> Option<*const u8> {
    let mut file: *mut sqlite3_file = ptr::null_mut();
    // SAFETY: the handle is open; the file control writes the main database's file
    // pointer, which is ours when its methods are ours.
    unsafe {
        let rc = ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut file).cast(),
        );
        if rc != ffi::SQLITE_OK || file.is_null() || !ptr::eq((*file).pMethods, &METHODS) {
            return None;
        }
        let index = (*file.cast::<ReaderFile>()).index;
        (!index.is_null()).then_some(index)
    }
}

fn inner(file: *mut sqlite3_file) -> *mut sqlite3_file {
    file.cast::<u8>().wrapping_add(INNER_OFFSET).cast()
}

unsafe extern "C" fn open(
    _vfs: *mut sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real = REAL.get().expect("registered").0;
    let me = file.cast::<ReaderFile>();
    me.write(ReaderFile {
        base: sqlite3_file {
            pMethods: ptr::null(),
        },
        index: ptr::null(),
        refusals: 0,
    });
    let inner = inner(file);
    (*inner).pMethods = ptr::null();
    let Some(real_open) = (*real).xOpen else {
        return ffi::SQLITE_CANTOPEN;
    };
    let rc = real_open(real, name, inner, flags, out_flags);
    // SQLite calls xClose whenever pMethods is set, even after a failed open.
    if !(*inner).pMethods.is_null() {
        (*me).base.pMethods = &METHODS;
    }
    rc
}

/// Calls the real file's method, or answers `SQLITE_IOERR` if it has none.
macro_rules! forward {
    ($file:expr, $method:ident ( $($arg:expr),* )) => {{
        let inner = inner($file);
        match (*(*inner).pMethods).$method {
            Some(method) => method(inner $(, $arg)*),
            None => ffi::SQLITE_IOERR,
        }
    }};
}

unsafe extern "C" fn shm_lock(
    file: *mut sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let me = file.cast::<ReaderFile>();
    let write_lock =
        offset == WAL_WRITE_LOCK && flags == ffi::SQLITE_SHM_LOCK | ffi::SQLITE_SHM_EXCLUSIVE;
    if write_lock && index_built((*me).index) && (*me).refusals < MAX_REFUSALS {
        (*me).refusals += 1;
        return ffi::SQLITE_BUSY;
    }
    let rc = forward!(file, xShmLock(offset, n, flags));
    // A read transaction began: the header was whole.
    if rc == ffi::SQLITE_OK && offset >= FIRST_READ_LOCK && flags & ffi::SQLITE_SHM_SHARED != 0 {
        (*me).refusals = 0;
    }
    rc
}

unsafe fn index_built(index: *const u8) -> bool {
    !index.is_null() && ptr::read_volatile(index.add(IS_INIT)) == 1
}

unsafe extern "C" fn shm_map(
    file: *mut sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let rc = forward!(file, xShmMap(page, page_size, extend, out));
    if page == 0 && rc == ffi::SQLITE_OK {
        (*file.cast::<ReaderFile>()).index = (*out).cast_const().cast();
    }
    rc
}

unsafe extern "C" fn shm_unmap(file: *mut sqlite3_file, delete: c_int) -> c_int {
    (*file.cast::<ReaderFile>()).index = ptr::null();
    forward!(file, xShmUnmap(delete))
}

unsafe extern "C" fn shm_barrier(file: *mut sqlite3_file) {
    let inner = inner(file);
    if let Some(barrier) = (*(*inner).pMethods).xShmBarrier {
        barrier(inner);
    }
}

/// Methods that only hand the call to the real file.
macro_rules! forwarders {
    ($($name:ident => $method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        unsafe extern "C" fn $name(file: *mut sqlite3_file $(, $arg: $ty)*) -> c_int {
            forward!(file, $method($($arg),*))
        }
    )*};
}

forwarders! {
    close => xClose();
    read => xRead(buf: *mut c_void, n: c_int, at: sqlite3_int64);
    write => xWrite(buf: *const c_void, n: c_int, at: sqlite3_int64);
    truncate => xTruncate(size: sqlite3_int64);
    sync => xSync(flags: c_int);
    file_size => xFileSize(size: *mut sqlite3_int64);
    lock => xLock(level: c_int);
    unlock => xUnlock(level: c_int);
    check_reserved_lock => xCheckReservedLock(out: *mut c_int);
    file_control => xFileControl(op: c_int, arg: *mut c_void);
    sector_size => xSectorSize();
    fetch => xFetch(at: sqlite3_int64, n: c_int, out: *mut *mut c_void);
    unfetch => xUnfetch(at: sqlite3_int64, p: *mut c_void);
}

unsafe extern "C" fn device_characteristics(file: *mut sqlite3_file) -> c_int {
    let inner = inner(file);
    (*(*inner).pMethods)
        .xDeviceCharacteristics
        .map_or(0, |method| method(inner))
}

static METHODS: sqlite3_io_methods = sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    const EXCLUSIVE: c_int = ffi::SQLITE_SHM_LOCK | ffi::SQLITE_SHM_EXCLUSIVE;
    const SHARED: c_int = ffi::SQLITE_SHM_LOCK | ffi::SQLITE_SHM_SHARED;

    thread_local! {
        /// The locks the real file was asked for: (offset, flags).
        static ASKED: RefCell<Vec<(c_int, c_int)>> = const { RefCell::new(Vec::new()) };
        /// What the real file maps as page 0 of the index.
        static PAGE_0: Cell<*mut c_void> = const { Cell::new(ptr::null_mut()) };
    }

    unsafe extern "C" fn fake_lock(
        _: *mut sqlite3_file,
        offset: c_int,
        _: c_int,
        flags: c_int,
    ) -> c_int {
        ASKED.with_borrow_mut(|asked| asked.push((offset, flags)));
        ffi::SQLITE_OK
    }

    unsafe extern "C" fn fake_map(
        _: *mut sqlite3_file,
        _: c_int,
        _: c_int,
        _: c_int,
        out: *mut *mut c_void,
    ) -> c_int {
        *out = PAGE_0.get();
        ffi::SQLITE_OK
    }

    static FAKE: sqlite3_io_methods = sqlite3_io_methods {
        iVersion: 3,
        xClose: None,
        xRead: None,
        xWrite: None,
        xTruncate: None,
        xSync: None,
        xFileSize: None,
        xLock: None,
        xUnlock: None,
        xCheckReservedLock: None,
        xFileControl: None,
        xSectorSize: None,
        xDeviceCharacteristics: None,
        xShmMap: Some(fake_map),
        xShmLock: Some(fake_lock),
        xShmBarrier: None,
        xShmUnmap: None,
        xFetch: None,
        xUnfetch: None,
    };

    /// A ReaderFile over a fake real file, laid out as `open` lays it out.
    struct Fixture {
        memory: Vec<u64>,
        index: Box<[u8; 136]>,
    }

    impl Fixture {
        fn new(is_init: u8) -> Fixture {
            let mut memory =
                vec![0u64; (INNER_OFFSET + std::mem::size_of::<sqlite3_file>()).div_ceil(8)];
            let file = memory.as_mut_ptr().cast::<sqlite3_file>();
            let mut index = Box::new([0u8; 136]);
            index[IS_INIT] = is_init;
            // SAFETY: `memory` holds a ReaderFile and, after it, the real file.
            unsafe {
                file.cast::<ReaderFile>().write(ReaderFile {
                    base: sqlite3_file { pMethods: &METHODS },
                    index: ptr::null(),
                    refusals: 0,
                });
                (*inner(file)).pMethods = &FAKE;
                PAGE_0.set(index.as_mut_ptr().cast());
                let mut out = ptr::null_mut();
                assert_eq!(shm_map(file, 0, 32768, 0, &mut out), ffi::SQLITE_OK);
            }
            ASKED.with_borrow_mut(Vec::clear);
            Fixture { memory, index }
        }

        fn lock(&mut self, offset: c_int, flags: c_int) -> c_int {
            // SAFETY: as in `new`.
            unsafe { shm_lock(self.memory.as_mut_ptr().cast(), offset, 1, flags) }
        }
    }

    fn asked() -> Vec<(c_int, c_int)> {
        ASKED.with_borrow_mut(std::mem::take)
    }

    #[test]
    fn the_write_lock_on_a_built_index_is_refused_until_a_read_began() {
        let mut file = Fixture::new(1);
        for _ in 0..MAX_REFUSALS {
            assert_eq!(file.lock(WAL_WRITE_LOCK, EXCLUSIVE), ffi::SQLITE_BUSY);
        }
        assert_eq!(asked(), vec![], "refused without asking the real file");
        // As many refusals in a row mean a corrupt index: SQLite may rebuild it.
        assert_eq!(file.lock(WAL_WRITE_LOCK, EXCLUSIVE), ffi::SQLITE_OK);
        assert_eq!(asked(), vec![(WAL_WRITE_LOCK, EXCLUSIVE)]);
        // A read transaction that began means the header was whole: refused again.
        assert_eq!(file.lock(FIRST_READ_LOCK + 1, SHARED), ffi::SQLITE_OK);
        assert_eq!(file.lock(WAL_WRITE_LOCK, EXCLUSIVE), ffi::SQLITE_BUSY);
        assert_eq!(asked(), vec![(FIRST_READ_LOCK + 1, SHARED)]);
    }

    #[test]
    fn other_locks_and_an_index_not_built_go_through() {
        let mut file = Fixture::new(0);
        assert_eq!(
            file.lock(WAL_WRITE_LOCK, EXCLUSIVE),
            ffi::SQLITE_OK,
            "recovery"
        );
        file.index[IS_INIT] = 1;
        assert_eq!(file.lock(1, EXCLUSIVE), ffi::SQLITE_OK, "checkpoint lock");
        assert_eq!(
            file.lock(FIRST_READ_LOCK, EXCLUSIVE),
            ffi::SQLITE_OK,
            "read mark"
        );
        assert_eq!(file.lock(FIRST_READ_LOCK, SHARED), ffi::SQLITE_OK);
        assert_eq!(
            asked(),
            vec![
                (WAL_WRITE_LOCK, EXCLUSIVE),
                (1, EXCLUSIVE),
                (FIRST_READ_LOCK, EXCLUSIVE),
                (FIRST_READ_LOCK, SHARED)
            ]
        );
    }

    #[test]
    fn our_connections_open_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let conn = crate::open::open_read_only(&path).unwrap();
        let n: i64 = conn.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        let mut vfs: *mut sqlite3_vfs = ptr::null_mut();
        // SAFETY: the handle is open; the file control writes one VFS pointer.
        let name = unsafe {
            let rc = ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_VFS_POINTER,
                (&raw mut vfs).cast(),
            );
            assert_eq!(rc, ffi::SQLITE_OK);
            CStr::from_ptr((*vfs).zName)
        };
        assert_eq!(name, NAME);
    }
}
