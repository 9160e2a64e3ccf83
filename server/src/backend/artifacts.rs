//! A run's artifacts on this machine: its Smithers DB (a local run's own, or the
//! server's copy of a cluster run's) and its log file.
use crate::backend::SnapshotRead;
use crate::clock::now_ms;
use crate::error::Result;
use domain::feedback::Decision;
use domain::run::GateView;
use std::path::{Path, PathBuf};

/// Whom the server acts as when it touches a run's files. SQLite creates a DB's `-shm`
/// beside it on first use; as root it creates it, then chowns it to the DB's owner. A
/// run that opened the `-shm` between those two calls got it read-only and failed with
/// `SQLITE_READONLY` (3 runs in 300 in a stress loop). Acting as the run's user, the
/// server makes the file the run's from the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileOwner(Option<(u32, u32)>);

impl FileOwner {
    /// The server's own files (a cluster run's copy, or no user switch).
    pub const SERVER: FileOwner = FileOwner(None);

    pub fn user(uid: u32, gid: u32) -> FileOwner {
        FileOwner(Some((uid, gid)))
    }

    /// Runs `f` with this thread's filesystem ids switched to the owner's, then back.
    /// `setfsuid` binds the calling thread only, so `f` must not move to another one.
    pub fn act<T>(self, f: impl FnOnce() -> T) -> T {
        use nix::unistd::{setfsgid, setfsuid, Gid, Uid};
        let Some((uid, gid)) = self.0 else {
            return f();
        };
        let old_gid = setfsgid(Gid::from_raw(gid));
        let old_uid = setfsuid(Uid::from_raw(uid));
        let out = f();
        setfsuid(old_uid);
        setfsgid(old_gid);
        out
    }
}

/// Notices commits to a run DB (`smithers::Watcher`: the WAL-index header, no lock).
pub struct DbProbe {
    pub watcher: smithers::Watcher,
    pub owner: FileOwner,
}

impl crate::backend::ChangeProbe for DbProbe {
    fn changed(&mut self) -> std::result::Result<bool, String> {
        let (watcher, owner) = (&mut self.watcher, self.owner);
        // Switching ids is four syscalls; a DB that isn't there has no files to create.
        // (Thousands of old runs waiting at a gate whose DBs are gone spent most of an
        // idle server's time here.)
        let poll = if watcher.path().exists() {
            owner.act(|| watcher.poll())
        } else {
            watcher.poll()
        };
        match poll {
            Ok(smithers::DbChange::Changed) => Ok(true),
            Ok(_) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    fn db_file(&self) -> Option<&Path> {
        Some(self.watcher.path())
    }
}

pub async fn snapshot(db: PathBuf, run_id: String, owner: FileOwner) -> SnapshotRead {
    let span = tracing::info_span!("smithers.read_snapshot", db = %db.display());
    let read = tokio::task::spawn_blocking(move || {
        span.in_scope(|| owner.act(|| smithers::read_snapshot(&db, Some(&run_id))))
    });
    match read.await {
        Ok(Ok(snapshot)) => SnapshotRead::Read(Box::new(snapshot)),
        Ok(Err(smithers::Error::Missing(_))) => SnapshotRead::Missing,
        Ok(Err(e)) => SnapshotRead::Problem(e.to_string()),
        Err(e) => SnapshotRead::Problem(format!("Reading the run database failed: {e}")),
    }
}

pub async fn decide_gate(
    db: PathBuf,
    run_id: String,
    decision: Decision,
    notes: Option<String>,
    by: String,
    owner: FileOwner,
) -> Result<GateView> {
    let decision = match decision {
        Decision::Approve => smithers::Decision::Approve,
        Decision::Reject => smithers::Decision::Deny,
    };
    let span = tracing::info_span!("smithers.decide_gate", db = %db.display());
    Ok(tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        owner.act(|| {
            smithers::decide_gate(
                &db,
                &run_id,
                None,
                None,
                decision,
                notes.as_deref(),
                &by,
                now_ms(),
            )
        })
    })
    .await??)
}

pub fn read_from(path: &Path, offset: u64, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    file.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ChangeProbe;
    use rusqlite::Connection;
    use std::os::unix::fs::MetadataExt;

    /// A WAL database with no `-shm` (its last connection closed), owned by `nobody`,
    /// as a run leaves its DB between `smithers run` and the first poll.
    fn nobodys_wal_db(dir: &Path, uid: u32, gid: u32) -> PathBuf {
        let db = dir.join("state.db");
        let conn = Connection::open(&db).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(conn);
        assert!(!dir.join("state.db-shm").exists());
        // Its writer left a while ago (a DB just made is left to its writer).
        let a_minute_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&db)
            .and_then(|f| f.set_modified(a_minute_ago))
            .unwrap();
        for path in [dir, db.as_path()] {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
        db
    }

    #[test]
    fn the_server_as_root_leaves_a_runs_db_writable_by_the_run() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("needs root (the server switches runs to another user only as root)");
            return;
        }
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        let (uid, gid) = (nobody.uid.as_raw(), nobody.gid.as_raw());
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let db = nobodys_wal_db(dir.path(), uid, gid);
        let owner = FileOwner::user(uid, gid);

        let mut probe = DbProbe {
            watcher: smithers::Watcher::new(&db),
            owner,
        };
        assert_eq!(probe.changed(), Ok(true));
        let shm = std::fs::metadata(dir.path().join("state.db-shm")).unwrap();
        assert_eq!((shm.uid(), shm.gid()), (uid, gid), "the -shm is the run's");

        // The run (as nobody) writes while the server's connection is open.
        let wrote = owner.act(|| {
            let conn = Connection::open(&db)?;
            conn.execute("INSERT INTO t VALUES (2)", [])
        });
        assert_eq!(wrote, Ok(1));
        assert_eq!(probe.changed(), Ok(true), "the server saw the run's commit");
        // The server's own thread is root again afterwards.
        assert!(std::fs::metadata("/root").is_ok());
        assert_eq!(
            nix::unistd::setfsuid(nix::unistd::Uid::from_raw(0)).as_raw(),
            0
        );
    }
}
