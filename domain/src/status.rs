//! Rules that turn what we know about a run (its process, its Smithers DB) into what
//! people see: status, phase, progress, current task, staleness, allowed actions.
use crate::run::{
    Actions, ExecState, GateStatus, Heartbeat, NodeState, Progress, RunStatus, SmithersRunStatus,
    SmithersSnapshot, TaskView,
};

/// Smithers writes a heartbeat every second; five missed beats mean the writer is gone.
pub const HEARTBEAT_STALE_MS: i64 = 5_000;

/// Exit codes of `smithers run/resume`.
pub const EXIT_FINISHED: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_CANCELLED: i32 = 2;
pub const EXIT_WAITING_APPROVAL: i32 = 3;

/// The run status from the process state, its exit code and the Smithers DB's own word.
/// The DB wins when it states an end or a gate, because it records *why*; the process
/// wins while it runs, and its exit code decides when the DB is silent or contradicts a
/// dead process (a crash leaves the DB saying "running").
pub fn derive_status(
    exec: ExecState,
    exit_code: Option<i32>,
    smithers: Option<SmithersRunStatus>,
) -> RunStatus {
    let from_db = smithers.and_then(|s| match s {
        SmithersRunStatus::WaitingApproval => Some(RunStatus::WaitingApproval),
        SmithersRunStatus::Finished => Some(RunStatus::Finished),
        SmithersRunStatus::Failed => Some(RunStatus::Failed),
        SmithersRunStatus::Cancelled => Some(RunStatus::Cancelled),
        SmithersRunStatus::Running | SmithersRunStatus::Unknown => None,
    });
    match exec {
        ExecState::Cancelled => RunStatus::Cancelled,
        ExecState::Pending => RunStatus::Pending,
        ExecState::Running => RunStatus::Running,
        ExecState::Exited => match (exit_code, from_db) {
            (Some(EXIT_WAITING_APPROVAL), _) => RunStatus::WaitingApproval,
            (_, Some(db)) => db,
            (Some(EXIT_FINISHED), None) => RunStatus::Finished,
            (Some(EXIT_CANCELLED), None) => RunStatus::Cancelled,
            _ => RunStatus::Failed,
        },
        ExecState::Lost => from_db.unwrap_or(RunStatus::Failed),
    }
}

/// What the process side knows about a run, plus what was derived and stored last.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFacts {
    pub exec: ExecState,
    pub exit_code: Option<i32>,
    pub exec_detail: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub progress: Progress,
    pub task: Option<String>,
}

/// The state to store and show for a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub status: RunStatus,
    pub phase: String,
    pub task: Option<String>,
    pub progress: Progress,
    pub error: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

/// The state to store and show, from the process state and the Smithers snapshot. A
/// snapshot that could not be read (`problem`) keeps the last known progress.
pub fn derive(
    facts: &RunFacts,
    snap: &SmithersSnapshot,
    problem: Option<&str>,
    now_ms: i64,
) -> Derived {
    let status = derive_status(facts.exec, facts.exit_code, snap.run_status);
    // Smithers marks the gate node waiting from the first frame; it is only "current"
    // once the run actually waits.
    let current = current_task(&snap.tasks)
        .filter(|t| t.state != NodeState::WaitingApproval || status == RunStatus::WaitingApproval);
    let (progress, task) = if snap.tasks.is_empty() && problem.is_some() {
        (facts.progress, facts.task.clone())
    } else {
        (progress(&snap.tasks), current.map(|t| t.node_id.clone()))
    };
    let error = match status {
        RunStatus::Failed => snap
            .error
            .clone()
            .or_else(|| facts.exec_detail.clone())
            .or_else(|| {
                facts
                    .exit_code
                    .map(|c| format!("The workflow exited with code {c}."))
            }),
        _ => None,
    };
    Derived {
        status,
        phase: phase(status, current),
        task,
        progress,
        error,
        started_at_ms: facts.started_at_ms.or(snap.started_at_ms),
        finished_at_ms: status.is_terminal().then(|| {
            facts
                .finished_at_ms
                .or(snap.finished_at_ms)
                .unwrap_or(now_ms)
        }),
    }
}

/// Finished nodes over all nodes (latest iteration of each node counts once).
pub fn progress(tasks: &[TaskView]) -> Progress {
    let latest = latest_iterations(tasks);
    Progress {
        finished: latest
            .iter()
            .filter(|t| matches!(t.state, NodeState::Finished | NodeState::Skipped))
            .count() as u32,
        total: latest.len() as u32,
    }
}

/// The most recently updated in-progress node, else the one waiting for approval.
pub fn current_task(tasks: &[TaskView]) -> Option<&TaskView> {
    let newest = |state: NodeState| {
        tasks
            .iter()
            .filter(move |t| t.state == state)
            .max_by_key(|t| (t.updated_at_ms.unwrap_or(0), t.iteration))
    };
    newest(NodeState::InProgress).or_else(|| newest(NodeState::WaitingApproval))
}

/// A short word for where the run is: pending, implement, review, human-gate, done.
pub fn phase(status: RunStatus, current: Option<&TaskView>) -> String {
    match status {
        RunStatus::Pending => "pending".into(),
        RunStatus::WaitingApproval => "human-gate".into(),
        s if s.is_terminal() => "done".into(),
        _ => match current {
            Some(t) if t.node_id.contains("review") => "review".into(),
            Some(t) if t.node_id.contains("gate") => "human-gate".into(),
            Some(_) => "implement".into(),
            None => "starting".into(),
        },
    }
}

pub fn heartbeat(now_ms: i64, at_ms: Option<i64>, status: RunStatus) -> Option<Heartbeat> {
    let at_ms = at_ms?;
    let age_ms = (now_ms - at_ms).max(0);
    Some(Heartbeat {
        at_ms,
        age_ms,
        // Only a running run is expected to beat.
        stale: status == RunStatus::Running && age_ms > HEARTBEAT_STALE_MS,
    })
}

pub fn actions(status: RunStatus, snapshot: &SmithersSnapshot) -> Actions {
    let gate_open = snapshot
        .gates
        .iter()
        .any(|g| g.status == GateStatus::Requested);
    Actions {
        cancel: matches!(
            status,
            RunStatus::Pending | RunStatus::Running | RunStatus::WaitingApproval
        ),
        resume: matches!(status, RunStatus::Failed | RunStatus::Cancelled)
            || (status == RunStatus::WaitingApproval && !gate_open),
        feedback: status == RunStatus::WaitingApproval && gate_open,
        elsewhere: false,
    }
}

/// The latest iteration of each node, in the order nodes first appear.
pub fn latest_iterations(tasks: &[TaskView]) -> Vec<&TaskView> {
    let mut latest: Vec<&TaskView> = Vec::new();
    for t in tasks {
        match latest.iter_mut().find(|l| l.node_id == t.node_id) {
            Some(l) if l.iteration < t.iteration => *l = t,
            Some(_) => {}
            None => latest.push(t),
        }
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, iteration: i64, state: NodeState, updated: i64) -> TaskView {
        TaskView {
            node_id: id.into(),
            label: None,
            iteration,
            state,
            attempts: 1,
            started_at_ms: None,
            finished_at_ms: None,
            updated_at_ms: Some(updated),
            error: None,
        }
    }

    #[test]
    fn exit_code_three_means_waiting_for_approval() {
        let s = derive_status(ExecState::Exited, Some(3), Some(SmithersRunStatus::Running));
        assert_eq!(s, RunStatus::WaitingApproval);
    }

    #[test]
    fn a_crash_that_left_the_db_running_is_a_failure() {
        let s = derive_status(
            ExecState::Exited,
            Some(137),
            Some(SmithersRunStatus::Running),
        );
        assert_eq!(s, RunStatus::Failed);
    }

    #[test]
    fn the_db_explains_an_ended_process() {
        assert_eq!(
            derive_status(
                ExecState::Exited,
                Some(1),
                Some(SmithersRunStatus::Finished)
            ),
            RunStatus::Finished
        );
        assert_eq!(
            derive_status(ExecState::Exited, Some(0), None),
            RunStatus::Finished
        );
        assert_eq!(
            derive_status(ExecState::Exited, Some(2), None),
            RunStatus::Cancelled
        );
    }

    #[test]
    fn a_lost_process_is_judged_by_its_db() {
        assert_eq!(
            derive_status(
                ExecState::Lost,
                None,
                Some(SmithersRunStatus::WaitingApproval)
            ),
            RunStatus::WaitingApproval
        );
        assert_eq!(
            derive_status(ExecState::Lost, None, Some(SmithersRunStatus::Running)),
            RunStatus::Failed
        );
    }

    #[test]
    fn cancel_and_running_override_the_db() {
        assert_eq!(
            derive_status(ExecState::Cancelled, None, Some(SmithersRunStatus::Running)),
            RunStatus::Cancelled
        );
        assert_eq!(
            derive_status(ExecState::Running, None, Some(SmithersRunStatus::Failed)),
            RunStatus::Running
        );
    }

    #[test]
    fn progress_counts_each_node_once_at_its_latest_iteration() {
        let tasks = vec![
            task("a", 0, NodeState::Finished, 1),
            task("b", 0, NodeState::Finished, 2),
            task("b", 1, NodeState::InProgress, 3),
            task("c", 0, NodeState::Pending, 0),
        ];
        assert_eq!(
            progress(&tasks),
            Progress {
                finished: 1,
                total: 3
            }
        );
        assert_eq!(progress(&tasks).percent(), 33);
    }

    #[test]
    fn current_task_prefers_the_newest_in_progress_node() {
        let tasks = vec![
            task("gate", 0, NodeState::WaitingApproval, 9),
            task("old", 0, NodeState::InProgress, 1),
            task("new", 0, NodeState::InProgress, 5),
        ];
        assert_eq!(current_task(&tasks).unwrap().node_id, "new");
        assert_eq!(current_task(&tasks[..1]).unwrap().node_id, "gate");
        assert!(current_task(&[]).is_none());
    }

    #[test]
    fn heartbeat_is_stale_only_for_running_runs() {
        let hb = heartbeat(10_000, Some(4_000), RunStatus::Running).unwrap();
        assert!(hb.stale);
        assert_eq!(hb.age_ms, 6_000);
        assert!(
            !heartbeat(10_000, Some(4_000), RunStatus::Finished)
                .unwrap()
                .stale
        );
        assert!(heartbeat(10_000, None, RunStatus::Running).is_none());
    }

    #[test]
    fn feedback_needs_an_open_gate() {
        let mut snap = SmithersSnapshot::default();
        assert!(!actions(RunStatus::WaitingApproval, &snap).feedback);
        snap.gates.push(crate::run::GateView {
            node_id: "human-gate".into(),
            iteration: 0,
            status: GateStatus::Requested,
            requested_at_ms: Some(1),
            decided_at_ms: None,
            note: None,
            decided_by: None,
        });
        let a = actions(RunStatus::WaitingApproval, &snap);
        assert!(a.feedback && a.cancel && !a.resume);
        let done = actions(RunStatus::Finished, &snap);
        assert!(!done.cancel && !done.feedback && !done.resume);
    }

    fn facts(exec: ExecState, exit_code: Option<i32>) -> RunFacts {
        RunFacts {
            exec,
            exit_code,
            exec_detail: None,
            started_at_ms: Some(10),
            finished_at_ms: None,
            progress: Progress {
                finished: 3,
                total: 9,
            },
            task: Some("implement".into()),
        }
    }

    #[test]
    fn an_unreadable_db_keeps_the_last_progress_and_an_ended_run_gets_a_finish_time() {
        let d = derive(
            &facts(ExecState::Running, None),
            &SmithersSnapshot::default(),
            Some("locked"),
            99,
        );
        assert_eq!(d.status, RunStatus::Running);
        assert_eq!(
            d.progress,
            Progress {
                finished: 3,
                total: 9
            }
        );
        assert_eq!(d.task.as_deref(), Some("implement"));
        assert_eq!(d.finished_at_ms, None);
        let d = derive(
            &facts(ExecState::Exited, Some(1)),
            &SmithersSnapshot::default(),
            None,
            99,
        );
        assert_eq!(d.status, RunStatus::Failed);
        assert_eq!(d.error.as_deref(), Some("The workflow exited with code 1."));
        assert_eq!(d.finished_at_ms, Some(99));
        assert_eq!(d.started_at_ms, Some(10));
    }
}
