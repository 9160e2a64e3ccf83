//! Runs as local process groups. Each run gets a directory under the data dir (its
//! workspace, home and temp dir); the workflow's stdout/stderr go to a log file that
//! outlives the process; the process leads its own group, so cancel stops everything it
//! started; [`confine`] keeps the agent away from the server.
pub mod confine;
mod fleet;
mod process;

use super::artifacts;
use super::{Backend, ChangeProbe, ExecEvent, GateView, Launch, RunLayout, SnapshotRead};
use crate::error::Result;
use crate::store::RunRecord;
use confine::Confinement;
use domain::feedback::Decision;
use domain::run::ExecState;
use domain::Error as DomainError;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use process::{append_line, find_run_process, is_our_process, resolve_program};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How long a cancelled run gets to exit after SIGTERM before SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
const ADOPT_POLL: Duration = Duration::from_millis(500);

pub struct LocalBackend {
    data_dir: PathBuf,
    runs_dir: PathBuf,
    events: UnboundedSender<ExecEvent>,
    confinement: Confinement,
}

impl LocalBackend {
    pub fn new(
        data_dir: &Path,
        events: UnboundedSender<ExecEvent>,
        confinement: Confinement,
    ) -> LocalBackend {
        LocalBackend {
            data_dir: data_dir.to_path_buf(),
            runs_dir: data_dir.join("runs"),
            events,
            confinement,
        }
    }

    fn run_dir(&self, run_id: &str) -> PathBuf {
        self.runs_dir.join(run_id)
    }

    /// What every run gets beneath its own environment, as the cluster's
    /// `fabrik-credentials` Secret.
    fn credentials_file(&self) -> PathBuf {
        self.data_dir.join("credentials.env")
    }
}

#[async_trait::async_trait]
impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn protection(&self) -> String {
        self.confinement.describe()
    }

    fn layout(&self, run_id: &str) -> RunLayout {
        let dir = self.run_dir(run_id);
        RunLayout {
            workspace: dir.join("workspace"),
            db_path: dir.join("workspace/.smithers/state.db"),
            log_path: dir.join("run.log"),
        }
    }

    fn preflight(&self, launch: &Launch) -> Result<()> {
        let program = &launch.command[0];
        if resolve_program(program).is_none() {
            return Err(DomainError::bad_request(format!(
                "The workflow command '{program}' was not found or is not executable. \
                 Install it (for the bundled templates: run scripts/setup.sh) or fix the template's command."
            ))
            .into());
        }
        let credentials = self.credentials_file();
        if credentials.exists() {
            fleet::read_credentials(&credentials).map_err(DomainError::conflict)?;
        }
        Ok(())
    }

    async fn launch(&self, mut launch: Launch) -> Result<Option<u32>> {
        // The run's own settings, env set and template win over the credentials.
        if let Ok(credentials) = fleet::read_credentials(&self.credentials_file()) {
            for (var, key) in &launch.credential_picks {
                if let (false, Some(value)) = (launch.env.contains_key(var), credentials.get(key)) {
                    launch.env.insert(var.clone(), value.clone());
                }
            }
            for (key, value) in credentials {
                launch.env.entry(key).or_insert(value);
            }
        }
        let dir = self.run_dir(&launch.run_id);
        let child = process::spawn(&launch, &dir, &self.confinement)?;
        let pid = child.id();
        let events = self.events.clone();
        let log_path = launch.log_path.clone();
        tokio::spawn(async move {
            let code = process::wait(child).await;
            append_line(
                &log_path,
                &format!(
                    "process exited with code {code}{}",
                    process::explain_exit(code)
                ),
            );
            let _ = events.send(ExecEvent::Exited {
                run_id: launch.run_id,
                pid,
                code,
            });
        });
        Ok(pid)
    }

    async fn cancel(&self, run: &RunRecord) -> Result<()> {
        if !matches!(run.exec_state, ExecState::Running | ExecState::Pending) {
            return Ok(());
        }
        // A run whose pid was never stored (the server stopped right after starting it)
        // is still found by its FABRIK_RUN_ID.
        let Some(pid) = run
            .pid
            .filter(|p| is_our_process(*p, &run.run_id))
            .or_else(|| find_run_process(&run.run_id))
        else {
            return Ok(());
        };
        let group = Pid::from_raw(pid as i32);
        append_line(
            Path::new(&run.log_path),
            "cancel requested: sending SIGTERM to the process group",
        );
        if killpg(group, Signal::SIGTERM).is_err() {
            return Ok(()); // Already gone.
        }
        let log_path = run.log_path.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + CANCEL_GRACE;
            while tokio::time::Instant::now() < deadline {
                if killpg(group, None).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            append_line(
                Path::new(&log_path),
                "still running after SIGTERM: sending SIGKILL",
            );
            let _ = killpg(group, Signal::SIGKILL);
        });
        Ok(())
    }

    async fn adopt(&self, runs: Vec<RunRecord>) {
        for run in runs {
            let alive = run
                .pid
                .filter(|pid| is_our_process(*pid, &run.run_id))
                .or_else(|| find_run_process(&run.run_id));
            match alive {
                Some(pid) => {
                    tracing::info!(run_id = %run.run_id, pid, "re-adopted a running run");
                    if run.pid != Some(pid) || run.exec_state != ExecState::Running {
                        let _ = self.events.send(ExecEvent::Adopted {
                            run_id: run.run_id.clone(),
                            pid,
                        });
                    }
                    self.watch_adopted(run.run_id, pid);
                }
                None => {
                    let detail = if run.pid.is_none() && run.exec_state == ExecState::Pending {
                        "The server stopped before the run's process started; nothing ran. Resume or dispatch it again."
                    } else {
                        "The process ended while the server was not running, so its exit code is unknown; \
                         the state shown comes from the run database."
                    };
                    let _ = self.events.send(ExecEvent::Lost {
                        run_id: run.run_id,
                        detail: detail.into(),
                    });
                }
            }
        }
    }

    async fn snapshot(&self, run: &RunRecord) -> SnapshotRead {
        artifacts::snapshot(
            PathBuf::from(&run.db_path),
            run.run_id.clone(),
            self.confinement.file_owner(),
        )
        .await
    }

    async fn has_run_db(&self, run: &RunRecord) -> bool {
        Path::new(&run.db_path).exists()
    }

    async fn decide_gate(
        &self,
        run: &RunRecord,
        decision: Decision,
        notes: Option<String>,
        by: &str,
    ) -> Result<GateView> {
        artifacts::decide_gate(
            PathBuf::from(&run.db_path),
            run.run_id.clone(),
            decision,
            notes,
            by.to_string(),
            self.confinement.file_owner(),
        )
        .await
    }

    async fn read_log(&self, run: &RunRecord, offset: u64, max: u64) -> Result<Vec<u8>> {
        let path = PathBuf::from(&run.log_path);
        Ok(tokio::task::spawn_blocking(move || artifacts::read_from(&path, offset, max)).await??)
    }

    async fn log_size(&self, run: &RunRecord) -> u64 {
        tokio::fs::metadata(&run.log_path)
            .await
            .map(|m| m.len())
            .unwrap_or(0)
    }

    fn file_owner(&self) -> artifacts::FileOwner {
        self.confinement.file_owner()
    }

    fn change_probe(&self, run: &RunRecord) -> Box<dyn ChangeProbe> {
        Box::new(artifacts::DbProbe {
            watcher: smithers::Watcher::new(run.db_path.clone()),
            owner: self.confinement.file_owner(),
        })
    }

    async fn fleet(&self) -> domain::fleet::FleetView {
        let (data, runs) = (self.data_dir.clone(), self.runs_dir.clone());
        tokio::task::spawn_blocking(move || fleet::host_view(&data, &runs))
            .await
            .unwrap_or_default()
    }

    async fn credentials(&self) -> Result<domain::fleet::CredentialsView> {
        Ok(fleet::credentials_view(&self.credentials_file()))
    }
}

impl LocalBackend {
    /// A re-adopted process is not our child, so we can't wait for it: poll until gone.
    fn watch_adopted(&self, run_id: String, pid: u32) {
        let events = self.events.clone();
        tokio::spawn(async move {
            while kill(Pid::from_raw(pid as i32), None).is_ok() {
                tokio::time::sleep(ADOPT_POLL).await;
            }
            let _ = events.send(ExecEvent::Lost {
                run_id,
                detail: "The process was re-adopted after a server restart; it has ended, and its state comes from the run database."
                    .into(),
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_runs_in_its_own_group_and_its_exit_code_arrives() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let backend = LocalBackend::new(dir.path(), tx, Confinement::none());
        let layout = backend.layout("r1");
        let pid = backend
            .launch(Launch {
                run_id: "r1".into(),
                command: vec!["sh".into(), "-c".into(), "echo hello; exit 3".into()],
                env: Default::default(),
                workspace: layout.workspace.clone(),
                log_path: layout.log_path.clone(),
                purpose: "run",
                inputs: Vec::new(),
                spec: None,
                project: None,
                env_set: None,
                credential_picks: Default::default(),
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            rx.recv().await,
            Some(ExecEvent::Exited {
                run_id: "r1".into(),
                pid: Some(pid),
                code: 3
            })
        );
        let log = std::fs::read_to_string(&layout.log_path).unwrap();
        assert!(log.contains("hello"));
        assert!(log.contains("exited with code 3 (waiting for approval)"));
    }
}
