//! Cluster runs' Smithers DBs, kept as copies on the server ([`Mirror`]): pulled every
//! [`PULL_EVERY`] from the running `fabrik` container, once more through a reader pod
//! when the run's pod ends, and on first sight of a run that has no copy yet. A gate
//! decision is written into the copy by the server's own Smithers writer and pushed
//! back to the volume through a reader pod.
use super::mirror::Mirror;
use super::volume::{Pulled, Volumes};
use crate::backend::artifacts::{self, FileOwner};
use crate::backend::{ChangeProbe, ExecEvent, SnapshotRead};
use crate::error::Result;
use domain::feedback::Decision;
use domain::run::GateView;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// How often running runs' DBs are checked (one exec each; the DB is copied only when
/// its checksum changed).
pub const PULL_EVERY: Duration = Duration::from_secs(2);
/// After a failed copy through a reader pod, how long before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(300);

pub struct RunDbs {
    volumes: Volumes,
    events: UnboundedSender<ExecEvent>,
    mirror: Arc<Mirror>,
    /// Runs whose pod runs now: run id → pod name (kept by the pod watcher).
    running: Mutex<HashMap<String, String>>,
    /// Reader-pod copies in flight or failed (with when, and why).
    fetching: Mutex<HashMap<String, Fetch>>,
}

#[derive(Clone)]
enum Fetch {
    InFlight,
    Failed { at: Instant, why: String },
}

impl RunDbs {
    pub fn new(volumes: Volumes, root: PathBuf, events: UnboundedSender<ExecEvent>) -> RunDbs {
        RunDbs {
            volumes,
            events,
            mirror: Arc::new(Mirror::open(root)),
            running: Mutex::default(),
            fetching: Mutex::default(),
        }
    }

    pub fn pod_running(&self, run_id: &str, pod: &str) {
        lock(&self.running).insert(run_id.to_string(), pod.to_string());
    }

    /// The run's pod that runs now, if any.
    pub fn running_pod(&self, run_id: &str) -> Option<String> {
        lock(&self.running).get(run_id).cloned()
    }

    /// Whether the DB was copied after `pod` ended (see [`RunDbs::pull_after`]).
    pub fn copied_after(&self, run_id: &str, pod: &str) -> bool {
        self.mirror.marked(run_id, pod)
    }

    /// The copy after the run's `pod` ended, remembered so a watch that lists the pod
    /// again (after a restart or a relist) doesn't make another reader pod for it.
    pub async fn pull_after(&self, run_id: &str, pod: &str) -> Result<()> {
        self.pull_final(run_id).await?;
        self.mirror.mark(run_id, pod);
        Ok(())
    }

    pub fn pod_ended(&self, run_id: &str) {
        lock(&self.running).remove(run_id);
    }

    /// Copies every running run's DB if it changed; each on its own task.
    pub async fn pull_running(self: &Arc<Self>) {
        let running: Vec<(String, String)> = lock(&self.running)
            .iter()
            .map(|(r, p)| (r.clone(), p.clone()))
            .collect();
        let pulls = running.into_iter().map(|(run_id, pod)| {
            let dbs = self.clone();
            async move {
                if let Err(e) = dbs.pull_through(&run_id, &pod).await {
                    tracing::debug!(%run_id, error = %e.public().message, "copying the run DB from its pod");
                }
            }
        });
        futures::future::join_all(pulls).await;
    }

    /// The last copy of the DB from the volume through a reader pod (the run's pod has
    /// ended), then the reader goes.
    pub async fn pull_final(&self, run_id: &str) -> Result<()> {
        let pod = self.volumes.reader(run_id).await;
        let pulled = match &pod {
            Ok(pod) => self.pull_through(run_id, pod).await,
            Err(_) => Ok(()),
        };
        self.volumes.drop_reader(run_id).await;
        pod?;
        pulled
    }

    async fn pull_through(&self, run_id: &str, pod: &str) -> Result<()> {
        let sig = self.mirror.sig(run_id);
        match self.volumes.pull(pod, &sig).await? {
            Pulled::Missing | Pulled::Same => Ok(()),
            Pulled::Db { sig, files, .. } => self.publish(run_id, sig, files).await,
        }
    }

    async fn publish(
        &self,
        run_id: &str,
        sig: String,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<()> {
        let (mirror, run_id) = (self.mirror.clone(), run_id.to_string());
        tokio::task::spawn_blocking(move || mirror.publish(&run_id, &sig, &files))
            .await?
            .map_err(|e| domain::Error::unavailable(format!("Copying the run DB: {e}")).into())
    }

    pub async fn snapshot(&self, run_id: &str) -> SnapshotRead {
        if let Some(db) = self.mirror.db_path(run_id) {
            return artifacts::snapshot(db, run_id.to_string(), FileOwner::SERVER).await;
        }
        let why = match lock(&self.fetching).get(run_id) {
            Some(Fetch::Failed { why, .. }) => why.clone(),
            Some(Fetch::InFlight) => "Copying the run's Smithers DB from its volume: progress shows here in a few seconds.".into(),
            None => "No copy of the run's Smithers DB yet: it is copied from the run's volume while it runs, or when its page is opened.".into(),
        };
        SnapshotRead::Problem(why)
    }

    /// A copy through a reader pod, in the background, if there is none yet.
    pub fn fetch_if_missing(self: &Arc<Self>, run_id: &str) {
        if self.mirror.db_path(run_id).is_none() {
            self.fetch_once(run_id);
        }
    }

    /// Whether a copy exists, making one first if not (a resume needs the DB).
    pub async fn has_db(&self, run_id: &str) -> bool {
        if self.mirror.db_path(run_id).is_none() {
            if let Err(e) = self.pull_final(run_id).await {
                tracing::warn!(%run_id, error = %e.public().message, "copying the run DB for a resume");
            }
        }
        self.mirror.db_path(run_id).is_some()
    }

    /// Starts a reader-pod copy in the background unless one runs or failed lately.
    fn fetch_once(self: &Arc<Self>, run_id: &str) {
        if lock(&self.running).contains_key(run_id) {
            return; // the next pull brings it
        }
        {
            let mut fetching = lock(&self.fetching);
            match fetching.get(run_id) {
                Some(Fetch::InFlight) => return,
                Some(Fetch::Failed { at, .. }) if at.elapsed() < RETRY_AFTER => return,
                _ => {}
            }
            fetching.insert(run_id.to_string(), Fetch::InFlight);
        }
        let (dbs, run_id) = (self.clone(), run_id.to_string());
        tokio::spawn(async move {
            let result = dbs.pull_final(&run_id).await;
            let mut fetching = lock(&dbs.fetching);
            match result {
                Ok(()) => {
                    fetching.remove(&run_id);
                    let _ = dbs.events.send(ExecEvent::DbCopied { run_id });
                }
                Err(e) => {
                    let why = format!(
                        "The run's Smithers DB could not be copied from its volume: {}",
                        e.public().message
                    );
                    fetching.insert(
                        run_id,
                        Fetch::Failed {
                            at: Instant::now(),
                            why,
                        },
                    );
                }
            }
        });
    }

    /// Decides the gate as `smithers approve|deny` does: on a fresh copy, with the
    /// server's own writer, then the whole DB written back to the volume.
    pub async fn decide(
        &self,
        run_id: &str,
        decision: Decision,
        notes: Option<String>,
        by: &str,
    ) -> Result<GateView> {
        let pod = self.volumes.reader(run_id).await?;
        let decided = self.decide_through(run_id, &pod, decision, notes, by).await;
        self.volumes.drop_reader(run_id).await;
        decided
    }

    async fn decide_through(
        &self,
        run_id: &str,
        pod: &str,
        decision: Decision,
        notes: Option<String>,
        by: &str,
    ) -> Result<GateView> {
        let Pulled::Db { path, sig, files } = self.volumes.pull(pod, "").await? else {
            return Err(domain::Error::conflict(format!(
                "Run {run_id} has no Smithers DB on its volume, so there is no gate to decide."
            ))
            .into());
        };
        self.publish(run_id, sig, files).await?;
        let copy = self
            .mirror
            .db_path(run_id)
            .ok_or_else(|| domain::Error::unavailable("The run DB copy vanished; try again."))?;
        let work = tempfile::tempdir()?;
        let db = work.path().join("state.db");
        copy_db(&copy, &db)?;
        let gate = artifacts::decide_gate(
            db.clone(),
            run_id.to_string(),
            decision,
            notes,
            by.into(),
            FileOwner::SERVER,
        )
        .await?;
        let bytes = tokio::task::spawn_blocking(move || standalone(&db)).await??;
        self.volumes.push(pod, &path, bytes.clone()).await?;
        // An empty checksum: the next pull copies the volume's DB again.
        let files = vec![("state.db".to_string(), bytes)];
        self.publish(run_id, String::new(), files).await?;
        Ok(gate)
    }

    pub fn probe(&self, run_id: &str) -> Box<dyn ChangeProbe> {
        Box::new(CopyProbe {
            mirror: self.mirror.clone(),
            run_id: run_id.to_string(),
            seen: 0,
        })
    }
}

/// Says a run changed when a newer copy of its DB was published.
struct CopyProbe {
    mirror: Arc<Mirror>,
    run_id: String,
    seen: u64,
}

impl ChangeProbe for CopyProbe {
    fn changed(&mut self) -> std::result::Result<bool, String> {
        let now = self.mirror.generation(&self.run_id);
        let changed = now != self.seen;
        self.seen = now;
        Ok(changed)
    }
}

fn copy_db(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::copy(from, to)?;
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to))?;
    }
    Ok(())
}

/// The DB as one file: its WAL folded in and the journal made a rollback one, so it
/// can be written over the volume's DB without a WAL that doesn't belong to it.
fn standalone(db: &Path) -> Result<Vec<u8>> {
    let conn = rusqlite::Connection::open(db)?;
    conn.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))?;
    drop(conn);
    Ok(std::fs::read(db)?)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
