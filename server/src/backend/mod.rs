//! Where runs execute. `local` runs the workflow as a process group on this machine;
//! `cluster` (Kubernetes) implements the same trait with Jobs, so callers never change.
//! Callers reach a run's artifacts (its Smithers DB, its log) only through here: no
//! caller opens a run's files itself.
pub mod artifacts;
pub mod cluster;
pub mod local;

use crate::error::Result;
use crate::store::RunRecord;
use domain::feedback::Decision;
use domain::run::{GateView, SmithersSnapshot};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything needed to start (or resume) a run's workflow.
#[derive(Debug, Clone)]
pub struct Launch {
    pub run_id: String,
    /// Program and arguments, placeholders already expanded.
    pub command: Vec<String>,
    /// The run's whole environment besides the backend's small allowlist: nothing of
    /// the server's own environment reaches a run unless it is listed here.
    pub env: BTreeMap<String, String>,
    pub workspace: PathBuf,
    pub log_path: PathBuf,
    /// "run" or "resume", for the log.
    pub purpose: &'static str,
    /// Files the run reads, written into its workspace before it starts (the spec and
    /// todo JSON of a stored spec).
    pub inputs: Vec<RunInput>,
    /// The spec and project the run is for: a cluster labels its objects with them.
    pub spec: Option<String>,
    pub project: Option<String>,
    /// The env set it was dispatched with (its values are in `env` too): a cluster
    /// hands it to the run in a Secret of its own, as the fabrik CLI does.
    pub env_set: Option<EnvSetRef>,
    /// Provider variables to set from a credential of the pool (`ANTHROPIC_API_KEY` ←
    /// `ANTHROPIC_API_KEY_2`), unless `env` sets the variable itself.
    pub credential_picks: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvSetRef {
    pub project: String,
    pub env: String,
    pub vars: BTreeMap<String, String>,
}

/// Where each run's own id goes in a schedule's launch (its command, its env): a
/// backend that fires schedules itself gives every run its id there. The cluster's
/// CronJob pods get it from their Job's name, and Kubernetes expands `$(…)`.
pub const EACH_RUN_ID: &str = "$(FABRIK_RUN_ID)";

/// A schedule, as a backend that fires schedules itself keeps it (a cluster's CronJob).
#[derive(Debug, Clone)]
pub struct ScheduledLaunch {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub concurrency: domain::schedule::ConcurrencyPolicy,
    pub suspended: bool,
    /// What each fire starts: its run id is [`EACH_RUN_ID`].
    pub launch: Launch,
}

/// A run a backend's schedule started by itself, as first seen.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledRun {
    pub schedule: String,
    /// The cron time it is for (or when it was triggered).
    pub scheduled_at_ms: i64,
    /// Made by "trigger now", not by the cron time.
    pub manual: bool,
}

/// A file given to a run: its name in the workspace and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInput {
    pub name: &'static str,
    pub text: String,
}

/// What a backend reports about a run's execution after it started.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecEvent {
    Exited {
        run_id: String,
        /// Which process ended: a late exit of a cancelled process must not touch the
        /// run once it has been resumed by a new one.
        pid: Option<u32>,
        code: i32,
    },
    /// Gone without an exit code we could see.
    Lost { run_id: String, detail: String },
    /// Found alive after a server restart (the pid may not have been stored before the
    /// server stopped).
    Adopted { run_id: String, pid: u32 },
    /// A run this server didn't start (made by the fabrik CLI in the cluster), as it
    /// stands now.
    Found(ExternalRun),
    /// A copy of the run's DB arrived for a run no watcher follows (one opened after it
    /// ended): its page is refreshed.
    DbCopied { run_id: String },
}

/// A run found in the backend that this server didn't start.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalRun {
    pub run_id: String,
    /// The Job it is.
    pub job: String,
    pub spec: Option<String>,
    pub project: Option<String>,
    pub exec: domain::run::ExecState,
    pub exit_code: Option<i32>,
    pub created_at_ms: Option<i64>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Progress and current task as the fabrik CLI last wrote them on the Job (it
    /// does at dispatch and at the end): shown until the run's DB is copied.
    pub reported: Option<Reported>,
    /// Started by one of this server's schedules (a CronJob's run), not by hand.
    pub scheduled: Option<ScheduledRun>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    pub progress: domain::run::Progress,
    pub task: Option<String>,
}

impl ExecEvent {
    pub fn run_id(&self) -> &str {
        match self {
            ExecEvent::Exited { run_id, .. }
            | ExecEvent::Lost { run_id, .. }
            | ExecEvent::Adopted { run_id, .. }
            | ExecEvent::DbCopied { run_id } => run_id,
            ExecEvent::Found(run) => &run.run_id,
        }
    }
}

/// Reading a run's Smithers DB: a snapshot, or why there is none (in words).
pub enum SnapshotRead {
    Read(Box<SmithersSnapshot>),
    /// No DB (yet).
    Missing,
    Problem(String),
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// What confines a run's agent here, in words for the run page and `/healthz`.
    fn protection(&self) -> String;
    /// Refuses a launch that can't work (missing program, missing workflow) before
    /// anything is stored.
    fn preflight(&self, launch: &Launch) -> Result<()>;
    /// Starts the workflow and returns its process id (or none where the backend has
    /// no such thing); the end arrives as an [`ExecEvent`].
    async fn launch(&self, launch: Launch) -> Result<Option<u32>>;
    /// Stops the run's whole process group (or Job).
    async fn cancel(&self, run: &RunRecord) -> Result<()>;
    /// After a server restart: keep watching runs that are still alive, report the rest
    /// as lost.
    async fn adopt(&self, runs: Vec<RunRecord>);
    /// Where the run's workspace, Smithers DB and log live, for a new run.
    fn layout(&self, run_id: &str) -> RunLayout;
    /// The run's Smithers DB as it is now.
    async fn snapshot(&self, run: &RunRecord) -> SnapshotRead;
    /// Whether the run's Smithers DB exists (a resume needs it).
    async fn has_run_db(&self, run: &RunRecord) -> bool;
    /// Records a gate decision in the run's Smithers DB, as `smithers approve|deny` does.
    async fn decide_gate(
        &self,
        run: &RunRecord,
        decision: Decision,
        notes: Option<String>,
        by: &str,
    ) -> Result<GateView>;
    /// Up to `max` bytes of the run's log from `offset` (empty past the end).
    async fn read_log(&self, run: &RunRecord, offset: u64, max: u64) -> Result<Vec<u8>>;
    async fn log_size(&self, run: &RunRecord) -> u64;
    /// A cheap way to learn whether the run's Smithers DB changed since the last look.
    fn change_probe(&self, run: &RunRecord) -> Box<dyn ChangeProbe>;
    /// Whom the server acts as on run files found on this machine (for backups).
    fn file_owner(&self) -> artifacts::FileOwner {
        artifacts::FileOwner::SERVER
    }
    /// Where runs go, for the admin page: this host, or the cluster's nodes, with
    /// the runs' volumes. What can't be read is a note in it.
    async fn fleet(&self) -> domain::fleet::FleetView;
    /// The credentials every run gets: key names per provider, never a value.
    async fn credentials(&self) -> Result<domain::fleet::CredentialsView>;
    /// Someone opened the run: a backend that copies run DBs on demand starts a copy
    /// of this one if it has none. Not on every read: listing thousands of runs found
    /// in a cluster must not start thousands of copies.
    fn wanted(&self, _run: &RunRecord) {}
    /// Whether env sets and specs are kept here too (a cluster's Secrets and
    /// ConfigMaps), so they are published at start; the local backend keeps none.
    fn keeps_published(&self) -> bool {
        false
    }
    /// An env set was saved: a cluster keeps it where the fabrik CLI reads env sets.
    async fn publish_env_set(
        &self,
        _project: &str,
        _env: &str,
        _vars: &BTreeMap<String, String>,
    ) -> Result<()> {
        Ok(())
    }
    /// An env set was deleted.
    async fn withdraw_env_set(&self, _project: &str, _env: &str) -> Result<()> {
        Ok(())
    }
    /// A spec (and its todo) was saved: a cluster keeps its files as a ConfigMap.
    async fn publish_spec(&self, _id: &str, _files: &[RunInput]) -> Result<()> {
        Ok(())
    }
    /// A spec was deleted.
    async fn withdraw_spec(&self, _id: &str) -> Result<()> {
        Ok(())
    }
    /// Whether schedules fire here by themselves (a cluster's CronJobs), so the
    /// embedded scheduler leaves them alone; their runs arrive as found runs.
    fn fires_schedules(&self) -> bool {
        false
    }
    /// A schedule was created, changed, suspended or resumed.
    async fn publish_schedule(&self, _schedule: &ScheduledLaunch) -> Result<()> {
        Ok(())
    }
    /// A schedule was deleted: its runs so far are left alone.
    async fn withdraw_schedule(&self, _name: &str) -> Result<()> {
        Ok(())
    }
    /// Starts one run of the schedule now, beside any other, and returns its id.
    async fn trigger_schedule(&self, name: &str) -> Result<String> {
        Err(domain::Error::conflict(format!(
            "The {} backend doesn't fire schedule '{name}' by itself.",
            self.name()
        ))
        .into())
    }
}

/// Says whether a run's DB changed since the last call (the first call says yes once
/// the DB exists). Errors are words for the server log.
pub trait ChangeProbe: Send {
    fn changed(&mut self) -> std::result::Result<bool, String>;
    /// The DB file on this machine, when file-system notifications can say it changed
    /// (the poll then only backs them up).
    fn db_file(&self) -> Option<&std::path::Path> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct RunLayout {
    pub workspace: PathBuf,
    pub db_path: PathBuf,
    pub log_path: PathBuf,
}
