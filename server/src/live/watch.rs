//! Notices Smithers DB writes of watched runs (active ones, and those waiting at a gate,
//! which may be decided outside the product).
//!
//! A file-system notification for a run's DB directory makes the watcher ask SQLite at
//! once whether a commit happened, then again every [`SETTLE_POLL`] for [`SETTLE`]:
//! SQLite publishes a WAL commit in its shared-memory index just after the last write
//! the notification reports. Runs with notifications are also polled every
//! [`FALLBACK_POLL`], in case one is lost. Running runs without them (their DB not made
//! yet, or a cluster run's copy) are polled every [`POLL`]; a run whose process has
//! ended, waiting at a gate someone may decide from outside, every [`FALLBACK_POLL`]:
//! thousands of those must not cost a core.
//!
//! The set of watched runs is kept here, re-read from the store when a run appears or
//! changes status (seen on the live channel) and every [`RELIST`] otherwise.
use super::fs_events::DirEvents;
use super::schedule::{on_grid, Schedule};
use crate::backend::ChangeProbe;
use crate::service::{Published, Service};
use crate::store::RunRecord;
use domain::event::LiveEvent;
use domain::run::{ExecState, RunStatus};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// How often a run's DB is checked when no file-system notification covers it.
pub const POLL: Duration = Duration::from_millis(50);
/// How often a run's DB is checked when notifications cover it.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);
const SETTLE_POLL: Duration = Duration::from_millis(2);
const SETTLE: Duration = Duration::from_millis(30);
const RELIST: Duration = Duration::from_secs(1);
/// Polls at the same rate are rounded onto these grids, so they share wakes.
const POLL_GRID: Duration = Duration::from_millis(10);
const FALLBACK_GRID: Duration = Duration::from_millis(100);

/// Runs being refreshed, and whether they changed again meanwhile.
type InFlight = Arc<Mutex<HashMap<String, bool>>>;

struct Watched {
    probe: Box<dyn ChangeProbe>,
    status: RunStatus,
    /// Its process is (about to be) running.
    active: bool,
    /// The directory notifications come from, once it could be watched.
    notified_dir: Option<PathBuf>,
    settle_until: Option<Instant>,
    /// The last check's error, logged once until it changes.
    last_error: Option<String>,
}

struct Watch {
    service: Arc<Service>,
    runs: HashMap<String, Watched>,
    /// Notified directory → the runs whose DB is in it.
    by_dir: HashMap<PathBuf, Vec<String>>,
    dirs: DirEvents,
    due: Schedule,
    /// Where the poll grids start.
    origin: Instant,
    in_flight: InFlight,
    relist_at: Instant,
}

pub async fn watch_run_dbs(service: Arc<Service>) {
    let mut live = service.subscribe();
    let (dirs, mut changed_paths) = DirEvents::start();
    let mut watch = Watch {
        service,
        runs: HashMap::new(),
        by_dir: HashMap::new(),
        dirs,
        due: Schedule::default(),
        origin: Instant::now(),
        in_flight: Arc::default(),
        relist_at: Instant::now(),
    };
    loop {
        let wake = watch.next_wake();
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            Some(path) = changed_paths.recv() => watch.on_path_changed(&path),
            event = live.recv() => watch.on_live(event),
        }
        let now = Instant::now();
        if watch.dirs.take_overflow() {
            watch.due.set_all(now);
        }
        if now >= watch.relist_at {
            watch.relist().await;
        }
        watch.check_due(Instant::now());
    }
}

impl Watch {
    fn next_wake(&self) -> Instant {
        self.due
            .next()
            .map_or(self.relist_at, |at| at.min(self.relist_at))
    }

    fn on_path_changed(&mut self, path: &Path) {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        let Some(run_ids) = self.by_dir.get(dir) else {
            return;
        };
        let now = Instant::now();
        for id in run_ids {
            let Some(w) = self.runs.get_mut(id) else {
                continue;
            };
            // The DB, its -wal or -journal; not other files beside it.
            let db_name = w.probe.db_file().and_then(Path::file_name);
            let is_db = db_name
                .is_some_and(|db| name.as_encoded_bytes().starts_with(db.as_encoded_bytes()));
            if is_db {
                w.settle_until = Some(now + SETTLE);
                self.due.set(id, now);
            }
        }
    }

    fn on_live(&mut self, event: Result<Arc<Published>, RecvError>) {
        let relist = match event.as_deref().map(|p| &p.event) {
            Ok(LiveEvent::RunChanged { run }) => self
                .runs
                .get(&run.run_id)
                .is_none_or(|w| w.status != run.status),
            Err(RecvError::Lagged(_)) => true,
            Err(RecvError::Closed) => false,
        };
        if relist {
            self.relist_at = Instant::now();
        }
    }

    async fn relist(&mut self) {
        self.relist_at = Instant::now() + RELIST;
        let listed = match self.service.store().watched_runs().await {
            Ok(runs) => runs,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the runs to watch");
                return;
            }
        };
        let listed_ids: HashSet<&str> = listed.iter().map(|r| r.run_id.as_str()).collect();
        let gone: Vec<String> = self
            .runs
            .keys()
            .filter(|id| !listed_ids.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            self.forget(&id);
        }
        for run in listed {
            self.add_or_update(run);
        }
    }

    fn add_or_update(&mut self, run: RunRecord) {
        let active = matches!(run.exec_state, ExecState::Pending | ExecState::Running);
        if let Some(w) = self.runs.get_mut(&run.run_id) {
            w.status = run.status;
            w.active = active;
            return;
        }
        let watched = Watched {
            probe: self.service.backend().change_probe(&run),
            status: run.status,
            active,
            notified_dir: None,
            settle_until: None,
            last_error: None,
        };
        self.due.set(&run.run_id, Instant::now());
        self.runs.insert(run.run_id, watched);
    }

    fn forget(&mut self, run_id: &str) {
        let Some(w) = self.runs.remove(run_id) else {
            return;
        };
        self.due.remove(run_id);
        let Some(dir) = w.notified_dir else {
            return;
        };
        self.dirs.unwatch(&dir);
        if let Some(ids) = self.by_dir.get_mut(&dir) {
            ids.retain(|id| id != run_id);
            if ids.is_empty() {
                self.by_dir.remove(&dir);
            }
        }
    }

    fn check_due(&mut self, now: Instant) {
        for id in self.due.take_due(now) {
            if self.runs.contains_key(&id) {
                self.check(&id, now);
            }
        }
    }

    fn check(&mut self, run_id: &str, now: Instant) {
        if self.runs[run_id].notified_dir.is_none() {
            self.start_notifications(run_id);
        }
        let w = self.runs.get_mut(run_id).expect("a watched run");
        match w.probe.changed() {
            Ok(true) => refresh_in_background(&self.service, &self.in_flight, run_id),
            Ok(false) => w.last_error = None,
            Err(e) if w.last_error.as_ref() != Some(&e) => {
                tracing::warn!(%run_id, error = %e, "cannot watch the run database");
                w.last_error = Some(e);
            }
            Err(_) => {}
        }
        let next = match w.settle_until {
            Some(until) if now < until => now + SETTLE_POLL,
            _ if w.active && w.notified_dir.is_none() => {
                on_grid(now + POLL, self.origin, POLL_GRID)
            }
            _ => on_grid(now + FALLBACK_POLL, self.origin, FALLBACK_GRID),
        };
        self.due.set(run_id, next);
    }

    /// Asks for notifications on the run's DB directory, once it exists. Asking the
    /// notifier is a round trip to its thread, so a missing directory is only looked
    /// for, and `DirEvents` asks again for a refused one only now and then.
    fn start_notifications(&mut self, run_id: &str) {
        let w = self.runs.get_mut(run_id).expect("a watched run");
        let Some(dir) = w.probe.db_file().and_then(Path::parent) else {
            return;
        };
        if !dir.is_dir() {
            return;
        }
        let dir = dir.to_path_buf();
        if !self.dirs.watch(&dir) {
            return;
        }
        w.notified_dir = Some(dir.clone());
        self.by_dir.entry(dir).or_default().push(run_id.to_string());
    }
}

/// Refreshes the run on a task of its own. A change seen while that refresh runs marks
/// it dirty, and the task refreshes once more before it ends, so no write is missed.
fn refresh_in_background(service: &Arc<Service>, in_flight: &InFlight, run_id: &str) {
    {
        let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dirty) = map.get_mut(run_id) {
            *dirty = true;
            return;
        }
        map.insert(run_id.to_string(), false);
    }
    let (service, in_flight, run_id) = (service.clone(), in_flight.clone(), run_id.to_string());
    tokio::spawn(async move {
        loop {
            if let Err(e) = service.refresh(&run_id).await {
                tracing::warn!(%run_id, error = %e, "refreshing the run failed");
            }
            let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
            match map.get_mut(&run_id) {
                Some(dirty) if *dirty => *dirty = false,
                _ => {
                    map.remove(&run_id);
                    return;
                }
            }
        }
    });
}
