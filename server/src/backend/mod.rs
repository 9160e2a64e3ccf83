//! Where runs execute. `local` runs the workflow as a process group on this machine;
//! a Kubernetes backend implements the same trait with Jobs, so callers never change.
pub mod local;

use crate::error::Result;
use crate::store::RunRecord;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything needed to start (or resume) a run's workflow.
#[derive(Debug, Clone)]
pub struct Launch {
    pub run_id: String,
    /// Program and arguments, placeholders already expanded.
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub workspace: PathBuf,
    pub log_path: PathBuf,
    /// "run" or "resume", for the log.
    pub purpose: &'static str,
}

/// What a backend reports about a run's execution, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecEvent {
    Started {
        run_id: String,
        pid: Option<u32>,
    },
    Exited {
        run_id: String,
        /// Which process ended: a late exit of a cancelled process must not touch the
        /// run once it has been resumed by a new one.
        pid: Option<u32>,
        code: i32,
    },
    /// Gone without an exit code we could see.
    Lost {
        run_id: String,
        detail: String,
    },
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Refuses a launch that can't work (missing program, missing workflow) before
    /// anything is stored.
    fn preflight(&self, launch: &Launch) -> Result<()>;
    /// Starts the workflow; progress arrives as [`ExecEvent`]s.
    async fn launch(&self, launch: Launch) -> Result<Option<u32>>;
    /// Stops the run's whole process group (or Job).
    async fn cancel(&self, run: &RunRecord) -> Result<()>;
    /// After a server restart: keep watching runs that are still alive, report the rest
    /// as lost.
    async fn adopt(&self, runs: Vec<RunRecord>);
    /// Where the run's workspace, Smithers DB and log live, for a new run.
    fn layout(&self, run_id: &str) -> RunLayout;
}

#[derive(Debug, Clone)]
pub struct RunLayout {
    pub workspace: PathBuf,
    pub db_path: PathBuf,
    pub log_path: PathBuf,
}
