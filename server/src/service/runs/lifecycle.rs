//! A run's process over its life: started (pid stored before anyone else may act on
//! the run), exited, lost or re-adopted, cancelled and resumed. Every step holds the
//! run's lock and is written in one transaction.
use crate::backend::{ExecEvent, Launch};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::service::{audit_entry, Service};
use crate::store::{ExecChange, NewEvent, RunRecord, Transition};
use domain::auth::Action;
use domain::run::{ExecState, RunStatus, RunSummary};
use domain::service::Actor;
use domain::status;
use domain::template::Template;
use domain::Error as DomainError;

impl Service {
    /// Starts `launch` for `record` and stores its pid; the caller holds the lock.
    pub(super) async fn start(&self, record: &RunRecord, mut launch: Launch) -> Result<()> {
        launch.credential_picks = self.credential_picks().await;
        let pid = match self.backend.launch(launch).await {
            Ok(pid) => pid,
            Err(e) => {
                self.mark_launch_failed(&record.run_id, &e).await?;
                return Err(e);
            }
        };
        let now = now_ms();
        let message = match pid {
            Some(pid) => format!("Process started (pid {pid})"),
            None => "Started".to_string(),
        };
        let started = Transition {
            exec: Some(ExecChange {
                state: ExecState::Running,
                pid,
                exit_code: None,
                detail: None,
            }),
            started_at_ms: Some(now),
            event: Some(NewEvent::new("started", message, None)),
            ..Default::default()
        };
        self.store.transition(&record.run_id, started, now).await?;
        self.observe_locked(&record.run_id).await?;
        Ok(())
    }

    async fn mark_launch_failed(&self, run_id: &str, e: &Error) -> Result<()> {
        let detail = e.public().message;
        let failed = Transition {
            exec: Some(ExecChange {
                state: ExecState::Lost,
                pid: None,
                exit_code: None,
                detail: Some(detail.clone()),
            }),
            event: Some(NewEvent::new("launch-failed", detail, None)),
            ..Default::default()
        };
        self.store.transition(run_id, failed, now_ms()).await?;
        self.observe_locked(run_id).await?;
        Ok(())
    }

    /// Applies what the backend saw happen: to a run's process, to a run it found, or
    /// to a run's DB copy.
    pub async fn on_exec_event(&self, event: ExecEvent) -> Result<()> {
        match event {
            ExecEvent::Found(run) => self.on_found(run).await,
            ExecEvent::DbCopied { run_id } => self.refresh(&run_id).await.map(drop),
            process => self.on_process_event(process).await,
        }
    }

    async fn on_process_event(&self, event: ExecEvent) -> Result<()> {
        let run_id = event.run_id().to_string();
        let _lock = self.locks.lock(&run_id).await;
        let record = self.record(&run_id).await?;
        let Some(transition) = process_transition(&record, event) else {
            return Ok(());
        };
        self.store.transition(&run_id, transition, now_ms()).await?;
        self.observe_locked(&run_id).await?;
        Ok(())
    }

    pub(crate) async fn cancel_run(&self, actor: &Actor, run_id: &str) -> Result<RunSummary> {
        actor.role.require(Action::Cancel)?;
        let _lock = self.locks.lock(run_id).await;
        let record = self.observe_locked(run_id).await?.record;
        if record.status.is_terminal() {
            return Err(DomainError::conflict(format!(
                "Run {run_id} has already ended ({}); there is nothing to cancel.",
                record.status.as_str()
            ))
            .into());
        }
        let cancelled = Transition {
            exec: Some(ExecChange {
                state: ExecState::Cancelled,
                pid: record.pid,
                exit_code: record.exit_code,
                detail: Some("Cancelled on request".into()),
            }),
            event: Some(NewEvent::new(
                "cancelled",
                "Cancel requested",
                Some(&actor.name),
            )),
            audit: Some(audit_entry(actor, "run.cancel", run_id, None)),
            ..Default::default()
        };
        self.store.transition(run_id, cancelled, now_ms()).await?;
        self.backend.cancel(&record).await?;
        Ok(self.observe_locked(run_id).await?.record.summary())
    }

    pub(super) async fn resume_run(&self, actor: &Actor, run_id: &str) -> Result<RunSummary> {
        actor.role.require(Action::Resume)?;
        let _lock = self.locks.lock(run_id).await;
        let observed = self.observe_locked(run_id).await?;
        let record = &observed.record;
        if record.exec_state == ExecState::Cancelled
            && record.exit_code.is_none()
            && record.pid.is_some()
        {
            return Err(DomainError::conflict(format!(
                "Run {run_id} is still stopping after its cancel; resume it once it shows cancelled."
            ))
            .into());
        }
        if !status::actions(record.status, &observed.snapshot).resume {
            let why = match record.status {
                RunStatus::WaitingApproval => format!(
                    "Run {run_id} is waiting for a decision: approve or reject it at /runs/{run_id}/feedback."
                ),
                RunStatus::Finished => format!("Run {run_id} has finished; there is nothing to resume."),
                s => format!("Run {run_id} is {}; only failed, cancelled or blocked runs can be resumed.", s.as_str()),
            };
            return Err(DomainError::conflict(why).into());
        }
        let audit = audit_entry(actor, "run.resume", run_id, None);
        self.relaunch(record, actor, "Resume requested", Some(audit))
            .await?;
        Ok(self.record(run_id).await?.summary())
    }

    /// The template that resumes the run, or why there is none — asked before anything
    /// is written (a gate decided for a run that can't then resume would be stuck).
    pub(super) fn resume_template(&self, record: &RunRecord) -> Result<Template> {
        if record.template == super::found::FOUND_TEMPLATE {
            return Err(DomainError::conflict(domain::run::DECIDE_WITH_THE_CLI).into());
        }
        self.templates.get(&record.template).map_err(|_| {
            DomainError::conflict(format!(
                "The run's template '{}' no longer exists, so the run can't be resumed. Restore the template file.",
                record.template
            ))
            .into()
        })
    }

    /// Starts the run's resume command; the caller holds the lock.
    pub(super) async fn relaunch(
        &self,
        record: &RunRecord,
        actor: &Actor,
        why: &str,
        audit: Option<crate::store::AuditEntry>,
    ) -> Result<()> {
        let template = self.resume_template(record)?;
        if !self.backend.has_run_db(record).await {
            return Err(DomainError::conflict(
                "The run database is missing, so there is nothing to resume. Dispatch a new run.",
            )
            .into());
        }
        let env_vars = self
            .env_for_run(record.project.as_deref(), record.env.as_deref())
            .await?;
        let launch = self.launch_for(&template, record, true, env_vars)?;
        self.backend.preflight(&launch)?;
        let pending = Transition {
            exec: Some(ExecChange {
                state: ExecState::Pending,
                pid: None,
                exit_code: None,
                detail: None,
            }),
            event: Some(NewEvent::new("resumed", why, Some(&actor.name))),
            audit,
            ..Default::default()
        };
        self.store
            .transition(&record.run_id, pending, now_ms())
            .await?;
        self.start(record, launch).await
    }
}

/// What a process's exit, loss or adoption changes in the run; nothing for the late
/// exit of a process the run no longer uses, or for an event about no process.
fn process_transition(record: &RunRecord, event: ExecEvent) -> Option<Transition> {
    let transition = match event {
        ExecEvent::Exited { pid, .. } if pid != record.pid => {
            tracing::debug!(run_id = %record.run_id, ?pid, "ignoring the exit of a process the run no longer uses");
            return None;
        }
        ExecEvent::Exited { code, .. } => Transition {
            exec: Some(ExecChange {
                state: keep_cancelled(record.exec_state, ExecState::Exited),
                pid: record.pid,
                exit_code: Some(code),
                detail: record.exec_detail.clone(),
            }),
            event: Some(NewEvent::new(
                "exited",
                format!("Process exited with code {code}"),
                None,
            )),
            ..Default::default()
        },
        ExecEvent::Lost { detail, .. } => Transition {
            exec: Some(ExecChange {
                state: keep_cancelled(record.exec_state, ExecState::Lost),
                pid: record.pid,
                exit_code: record.exit_code,
                // A cancelled run keeps saying why it ended.
                detail: if record.exec_state == ExecState::Cancelled {
                    record.exec_detail.clone()
                } else {
                    Some(detail.clone())
                },
            }),
            event: Some(NewEvent::new("lost", detail, None)),
            ..Default::default()
        },
        ExecEvent::Adopted { pid, .. } => Transition {
            exec: Some(ExecChange {
                state: keep_cancelled(record.exec_state, ExecState::Running),
                pid: Some(pid),
                exit_code: None,
                detail: record.exec_detail.clone(),
            }),
            started_at_ms: Some(now_ms()),
            event: Some(NewEvent::new(
                "adopted",
                format!("Found the run's process (pid {pid}) alive after a server restart"),
                None,
            )),
            ..Default::default()
        },
        ExecEvent::Found(_) | ExecEvent::DbCopied { .. } => return None,
    };
    Some(transition)
}

/// A cancelled run stays cancelled whatever its process does next.
fn keep_cancelled(current: ExecState, next: ExecState) -> ExecState {
    if current == ExecState::Cancelled {
        ExecState::Cancelled
    } else {
        next
    }
}
