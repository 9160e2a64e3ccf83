//! Runs as local process groups. Each run gets a workspace dir under the data dir; the
//! workflow's stdout/stderr go to a log file that outlives the process; the process is
//! the leader of its own group, so cancel stops everything it started.
use super::{Backend, ExecEvent, Launch, RunLayout};
use crate::clock::now_ms;
use crate::error::Result;
use crate::store::RunRecord;
use domain::Error as DomainError;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::{getpgid, Pid};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How long a cancelled run gets to exit after SIGTERM before SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
const ADOPT_POLL: Duration = Duration::from_millis(500);

pub struct LocalBackend {
    runs_dir: PathBuf,
    events: UnboundedSender<ExecEvent>,
}

impl LocalBackend {
    pub fn new(data_dir: &Path, events: UnboundedSender<ExecEvent>) -> LocalBackend {
        LocalBackend {
            runs_dir: data_dir.join("runs"),
            events,
        }
    }
}

#[async_trait::async_trait]
impl Backend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn layout(&self, run_id: &str) -> RunLayout {
        let dir = self.runs_dir.join(run_id);
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
        Ok(())
    }

    async fn launch(&self, launch: Launch) -> Result<Option<u32>> {
        std::fs::create_dir_all(&launch.workspace)?;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log_path)?;
        writeln!(
            log,
            "[fabrik] {} {}: {}",
            domain::time::rfc3339(now_ms()),
            launch.purpose,
            launch.command.join(" ")
        )?;
        let mut cmd = tokio::process::Command::new(&launch.command[0]);
        cmd.args(&launch.command[1..])
            .current_dir(&launch.workspace)
            .envs(&launch.env)
            .env("FABRIK_RUN_ID", &launch.run_id)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .process_group(0)
            .kill_on_drop(false);
        let mut child = cmd.spawn().map_err(|e| {
            DomainError::bad_request(format!(
                "Could not start '{}': {e}. Check the template's command.",
                launch.command[0]
            ))
        })?;
        let pid = child.id();
        let _ = self.events.send(ExecEvent::Started {
            run_id: launch.run_id.clone(),
            pid,
        });
        let events = self.events.clone();
        let log_path = launch.log_path.clone();
        tokio::spawn(async move {
            let code = match child.wait().await {
                Ok(status) => exit_code(status),
                Err(_) => -1,
            };
            append_line(
                &log_path,
                &format!("process exited with code {code}{}", explain_exit(code)),
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
        let Some(pid) = run
            .pid
            .filter(|_| run.exec_state == domain::run::ExecState::Running)
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
                tokio::time::sleep(Duration::from_millis(100)).await;
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
            match run.pid.filter(|pid| is_our_process(*pid, &run.run_id)) {
                Some(pid) => {
                    tracing::info!(run_id = %run.run_id, pid, "re-adopted a running run");
                    self.watch_adopted(run.run_id, pid);
                }
                None => {
                    let _ = self.events.send(ExecEvent::Lost {
                        run_id: run.run_id,
                        detail: "The process ended while the server was not running, so its exit code is unknown; \
                                 the state shown comes from the run database."
                            .into(),
                    });
                }
            }
        }
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

/// True when `pid` is alive, leads its own group, and was started for this run (guards
/// against the pid having been reused by an unrelated process).
fn is_our_process(pid: u32, run_id: &str) -> bool {
    let p = Pid::from_raw(pid as i32);
    if kill(p, None).is_err() || getpgid(Some(p)).ok() != Some(p) {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| {
            let needle = format!("FABRIK_RUN_ID={run_id}");
            env.split(|b| *b == 0).any(|var| var == needle.as_bytes())
        })
        .unwrap_or(false)
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn explain_exit(code: i32) -> &'static str {
    match code {
        0 => " (finished)",
        1 => " (failed)",
        2 => " (cancelled)",
        3 => " (waiting for approval)",
        4 => " (usage error: check the template's command)",
        c if c > 128 => " (killed by a signal)",
        _ => "",
    }
}

fn append_line(path: &Path, line: &str) {
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "[fabrik] {} {line}", domain::time::rfc3339(now_ms()));
    }
}

/// An absolute/relative path that is an executable file, or a name found on PATH.
fn resolve_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| executable(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve_on_path_or_by_path() {
        assert!(resolve_program("sh").is_some());
        assert!(resolve_program("/bin/sh").is_some());
        assert!(resolve_program("definitely-not-a-program-xyz").is_none());
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, "x").unwrap();
        assert!(
            resolve_program(plain.to_str().unwrap()).is_none(),
            "not executable"
        );
        assert!(
            resolve_program(dir.path().to_str().unwrap()).is_none(),
            "a directory"
        );
    }

    #[tokio::test]
    async fn a_process_runs_in_its_own_group_and_its_exit_code_arrives() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let backend = LocalBackend::new(dir.path(), tx);
        let layout = backend.layout("r1");
        let pid = backend
            .launch(Launch {
                run_id: "r1".into(),
                command: vec!["sh".into(), "-c".into(), "echo hello; exit 3".into()],
                env: Default::default(),
                workspace: layout.workspace.clone(),
                log_path: layout.log_path.clone(),
                purpose: "run",
            })
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(rx.recv().await, Some(ExecEvent::Started { pid: Some(p), .. }) if p == pid)
        );
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
