//! A run's artifacts on this machine: its Smithers DB (a local run's own, or the
//! server's copy of a cluster run's) and its log file.
use crate::backend::SnapshotRead;
use crate::clock::now_ms;
use crate::error::Result;
use domain::feedback::Decision;
use domain::run::GateView;
use std::path::{Path, PathBuf};

/// Notices commits to a run DB through `PRAGMA data_version`.
pub struct DbProbe(pub smithers::Watcher);

impl crate::backend::ChangeProbe for DbProbe {
    fn changed(&mut self) -> std::result::Result<bool, String> {
        match self.0.poll() {
            Ok(smithers::DbChange::Changed) => Ok(true),
            Ok(_) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}

pub async fn snapshot(db: PathBuf, run_id: String) -> SnapshotRead {
    let read = tokio::task::spawn_blocking(move || smithers::read_snapshot(&db, Some(&run_id)));
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
) -> Result<GateView> {
    let decision = match decision {
        Decision::Approve => smithers::Decision::Approve,
        Decision::Reject => smithers::Decision::Deny,
    };
    Ok(tokio::task::spawn_blocking(move || {
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
