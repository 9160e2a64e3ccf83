//! The service layer behind the JSON API and the pages' server functions: every rule
//! about runs is applied here, once.
use crate::backend::{Backend, ExecEvent, Launch};
use crate::error::{Error, Result};
use crate::store::{AuditEntry, NewRun, RunRecord, RunUpdate, Store};
use crate::templates::Templates;
use domain::auth::Action;
use domain::dispatch::{DispatchRequest, Dispatched};
use domain::event::LiveEvent;
use domain::feedback::{Decision, FeedbackRequest};
use domain::filter::RunFilter;
use domain::run::{
    ExecState, Execution, LogChunk, NodeState, RunDetail, RunPage, RunStatus, RunSummary,
    SmithersSnapshot, SmithersSource, TimelineEntry,
};
use domain::service::{Actor, RunService};
use domain::status;
use domain::template::{expand, Placeholders, Template, TemplateSummary};
use domain::Error as DomainError;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

use crate::clock::now_ms;

pub struct Service {
    store: Store,
    backend: Arc<dyn Backend>,
    templates: Templates,
    root: PathBuf,
    live: broadcast::Sender<LiveEvent>,
    busy: Mutex<HashSet<String>>,
}

/// What one read of a run's Smithers DB gave.
struct Observed {
    record: RunRecord,
    snapshot: SmithersSnapshot,
    problem: Option<String>,
}

impl Service {
    pub fn new(
        store: Store,
        backend: Arc<dyn Backend>,
        templates: Templates,
        root: PathBuf,
    ) -> Service {
        let (live, _) = broadcast::channel(1024);
        Service {
            store,
            backend,
            templates,
            root,
            live,
            busy: Mutex::new(HashSet::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Re-reads a run's Smithers DB, stores the derived state and announces a change.
    pub async fn refresh(&self, run_id: &str) -> Result<RunSummary> {
        Ok(self.observe(run_id).await?.record.summary())
    }

    async fn observe(&self, run_id: &str) -> Result<Observed> {
        let mut record = self.record(run_id).await?;
        let (snapshot, problem) = read_smithers(&record).await;
        let now = now_ms();
        let update = derive(&record, &snapshot, problem.as_deref(), now);
        if self.store.apply_update(run_id, update.clone(), now).await? {
            record.status = update.status;
            record.phase = update.phase;
            record.task = update.task;
            record.progress = update.progress;
            record.error = update.error;
            record.started_at_ms = record.started_at_ms.or(update.started_at_ms);
            record.finished_at_ms = update.finished_at_ms;
            let _ = self.live.send(LiveEvent::RunChanged {
                run: record.summary(),
            });
        }
        Ok(Observed {
            record,
            snapshot,
            problem,
        })
    }

    async fn record(&self, run_id: &str) -> Result<RunRecord> {
        self.store
            .get_run(run_id)
            .await?
            .ok_or_else(|| DomainError::run_not_found(run_id).into())
    }

    /// Applies what the backend saw happen to a process.
    pub async fn on_exec_event(&self, event: ExecEvent) -> Result<()> {
        let now = now_ms();
        let run_id = match &event {
            ExecEvent::Started { run_id, .. }
            | ExecEvent::Exited { run_id, .. }
            | ExecEvent::Lost { run_id, .. } => run_id.clone(),
        };
        let record = self.record(&run_id).await?;
        match event {
            ExecEvent::Started { pid, .. } => {
                self.store
                    .set_exec(&run_id, ExecState::Running, pid, None, None, now)
                    .await?;
                self.store.mark_started(&run_id, now).await?;
                let msg = match pid {
                    Some(pid) => format!("Process started (pid {pid})"),
                    None => "Started".to_string(),
                };
                self.store
                    .add_event(&run_id, now, "started", msg, None)
                    .await?;
            }
            ExecEvent::Exited { pid, .. } if pid != record.pid => {
                tracing::debug!(%run_id, ?pid, "ignoring the exit of a process the run no longer uses");
                return Ok(());
            }
            ExecEvent::Exited { code, .. } => {
                let state = if record.exec_state == ExecState::Cancelled {
                    ExecState::Cancelled
                } else {
                    ExecState::Exited
                };
                self.store
                    .set_exec(&run_id, state, record.pid, Some(code), None, now)
                    .await?;
                self.store
                    .add_event(
                        &run_id,
                        now,
                        "exited",
                        format!("Process exited with code {code}"),
                        None,
                    )
                    .await?;
            }
            ExecEvent::Lost { detail, .. } => {
                if record.exec_state != ExecState::Cancelled {
                    self.store
                        .set_exec(
                            &run_id,
                            ExecState::Lost,
                            record.pid,
                            None,
                            Some(detail.clone()),
                            now,
                        )
                        .await?;
                }
                self.store
                    .add_event(&run_id, now, "lost", detail, None)
                    .await?;
            }
        }
        self.refresh(&run_id).await?;
        Ok(())
    }

    fn claim(&self, run_id: &str) -> Result<BusyGuard<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        if !busy.insert(run_id.to_string()) {
            return Err(DomainError::conflict(
                "Another action on this run is in progress; try again in a moment.",
            )
            .into());
        }
        Ok(BusyGuard {
            service: self,
            run_id: run_id.to_string(),
        })
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        run_id: &str,
        detail: Option<String>,
    ) -> Result<()> {
        self.store
            .audit(AuditEntry {
                at_ms: now_ms(),
                actor: actor.name.clone(),
                source: actor.from.clone(),
                action: action.into(),
                target: Some(run_id.into()),
                detail,
            })
            .await
    }

    fn launch_for(&self, template: &Template, record: &RunRecord, resume: bool) -> Launch {
        let root = self.root.display().to_string();
        let workflow = record.workflow.clone().unwrap_or_default();
        let placeholders = Placeholders {
            root: &root,
            workflow: &workflow,
            run_id: &record.run_id,
            workspace: &record.workspace,
            db_path: &record.db_path,
            spec: record.spec.as_deref().unwrap_or(""),
        };
        let command = if resume {
            &template.resume_command
        } else {
            &template.command
        };
        let mut env: BTreeMap<String, String> = template.env.clone();
        env.insert("SMITHERS_DB_PATH".into(), record.db_path.clone());
        Launch {
            run_id: record.run_id.clone(),
            command: expand(command, &placeholders),
            env,
            workspace: PathBuf::from(&record.workspace),
            log_path: PathBuf::from(&record.log_path),
            purpose: if resume { "resume" } else { "run" },
        }
    }

    fn resolve_workflow(
        &self,
        template: &Template,
        requested: Option<&str>,
    ) -> Result<Option<String>> {
        let Some(wf) = requested.or(template.workflow.as_deref()) else {
            return Ok(None);
        };
        let path = Path::new(wf);
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        };
        if !path.is_file() {
            return Err(DomainError::bad_request(format!(
                "Workflow file '{}' does not exist. Check the path (relative paths start at {}).",
                wf,
                self.root.display()
            ))
            .into());
        }
        Ok(Some(path.display().to_string()))
    }

    async fn relaunch(&self, record: &RunRecord, actor: &Actor, why: &str) -> Result<()> {
        let template = self.templates.get(&record.template).map_err(|_| {
            DomainError::conflict(format!(
                "The run's template '{}' no longer exists, so the run can't be resumed. Restore the template file.",
                record.template
            ))
        })?;
        if !Path::new(&record.db_path).exists() {
            return Err(DomainError::conflict(
                "The run database is missing, so there is nothing to resume. Dispatch a new run.",
            )
            .into());
        }
        let launch = self.launch_for(&template, record, true);
        self.backend.preflight(&launch)?;
        self.store
            .set_exec(
                &record.run_id,
                ExecState::Pending,
                None,
                None,
                None,
                now_ms(),
            )
            .await?;
        self.store
            .add_event(
                &record.run_id,
                now_ms(),
                "resumed",
                why.to_string(),
                Some(actor.name.clone()),
            )
            .await?;
        if let Err(e) = self.backend.launch(launch).await {
            self.mark_launch_failed(&record.run_id, &e).await?;
            return Err(e);
        }
        Ok(())
    }

    async fn mark_launch_failed(&self, run_id: &str, e: &Error) -> Result<()> {
        let detail = e.public().message;
        self.store
            .set_exec(
                run_id,
                ExecState::Lost,
                None,
                None,
                Some(detail.clone()),
                now_ms(),
            )
            .await?;
        self.store
            .add_event(run_id, now_ms(), "launch-failed", detail, None)
            .await?;
        self.refresh(run_id).await?;
        Ok(())
    }

    fn detail(&self, o: Observed, events: Vec<TimelineEntry>) -> RunDetail {
        let now = now_ms();
        let r = &o.record;
        let mut timeline: Vec<TimelineEntry> = events;
        timeline.extend(o.snapshot.events.iter().cloned());
        timeline.sort_by_key(|e| e.at_ms);
        let log_bytes = std::fs::metadata(&r.log_path).map(|m| m.len()).unwrap_or(0);
        RunDetail {
            summary: r.summary(),
            execution: Execution {
                backend: r.backend.clone(),
                state: r.exec_state,
                pid: r.pid,
                exit_code: r.exit_code,
                detail: r.exec_detail.clone(),
            },
            heartbeat: status::heartbeat(now, o.snapshot.heartbeat_at_ms, r.status),
            actions: status::actions(r.status, &o.snapshot),
            smithers: o.snapshot,
            source: SmithersSource {
                db_path: Some(r.db_path.clone()),
                problem: o.problem,
            },
            timeline,
            log_bytes,
            now_ms: now,
        }
    }
}

struct BusyGuard<'a> {
    service: &'a Service,
    run_id: String,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        let mut busy = self.service.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.remove(&self.run_id);
    }
}

#[async_trait::async_trait]
impl RunService for Service {
    async fn list_runs(&self, filter: RunFilter) -> domain::Result<RunPage> {
        let (rows, next_cursor) = self.store.list_runs(filter).await.map_err(|e| e.public())?;
        Ok(RunPage {
            runs: rows.iter().map(RunRecord::summary).collect(),
            next_cursor,
        })
    }

    async fn get_run(&self, run_id: &str) -> domain::Result<RunDetail> {
        let observed = self.observe(run_id).await.map_err(|e| e.public())?;
        let events = self
            .store
            .events_for(run_id)
            .await
            .map_err(|e| e.public())?;
        Ok(self.detail(observed, events))
    }

    async fn dispatch(
        &self,
        actor: &Actor,
        request: DispatchRequest,
    ) -> domain::Result<Dispatched> {
        self.dispatch_inner(actor, request)
            .await
            .map_err(|e| e.public())
    }

    async fn cancel(&self, actor: &Actor, run_id: &str) -> domain::Result<RunSummary> {
        self.cancel_inner(actor, run_id)
            .await
            .map_err(|e| e.public())
    }

    async fn resume(&self, actor: &Actor, run_id: &str) -> domain::Result<RunSummary> {
        self.resume_inner(actor, run_id)
            .await
            .map_err(|e| e.public())
    }

    async fn feedback(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> domain::Result<RunSummary> {
        self.feedback_inner(actor, run_id, request)
            .await
            .map_err(|e| e.public())
    }

    async fn logs(&self, run_id: &str, offset: u64, max_bytes: u64) -> domain::Result<LogChunk> {
        self.logs_inner(run_id, offset, max_bytes)
            .await
            .map_err(|e| e.public())
    }

    async fn templates(&self) -> domain::Result<Vec<TemplateSummary>> {
        let all = self.templates.list().map_err(|e| e.public())?;
        Ok(all.iter().map(Template::summary).collect())
    }
}

impl Service {
    async fn dispatch_inner(&self, actor: &Actor, request: DispatchRequest) -> Result<Dispatched> {
        actor.role.require(Action::Dispatch)?;
        let request = request.normalized()?;
        let template = self.templates.get(&request.template)?;
        let workflow = self.resolve_workflow(&template, request.workflow.as_deref())?;
        let run_id = ulid::Ulid::new().to_string();
        let layout = self.backend.layout(&run_id);
        let now = now_ms();
        let new = NewRun {
            run_id: run_id.clone(),
            template: template.name.clone(),
            workflow,
            spec: request.spec.clone(),
            project: request.project.clone(),
            backend: self.backend.name().into(),
            created_at_ms: now,
            workspace: layout.workspace.display().to_string(),
            db_path: layout.db_path.display().to_string(),
            log_path: layout.log_path.display().to_string(),
        };
        // Check the launch before storing anything, so bad input leaves no trace.
        let probe = RunRecord::pending(&new);
        let launch = self.launch_for(&template, &probe, false);
        self.backend.preflight(&launch)?;
        let record = self.store.insert_run(new).await?;
        self.store
            .add_event(
                &run_id,
                now,
                "dispatched",
                format!("Dispatched with template {}", template.name),
                Some(actor.name.clone()),
            )
            .await?;
        self.audit(
            actor,
            "run.dispatch",
            &run_id,
            Some(format!("template={}", template.name)),
        )
        .await?;
        let _ = self.live.send(LiveEvent::RunChanged {
            run: record.summary(),
        });
        if let Err(e) = self.backend.launch(launch).await {
            self.mark_launch_failed(&run_id, &e).await?;
            return Err(e);
        }
        Ok(Dispatched { run_id })
    }

    async fn cancel_inner(&self, actor: &Actor, run_id: &str) -> Result<RunSummary> {
        actor.role.require(Action::Cancel)?;
        let _guard = self.claim(run_id)?;
        let observed = self.observe(run_id).await?;
        let record = observed.record;
        if record.status.is_terminal() {
            return Err(DomainError::conflict(format!(
                "Run {run_id} has already ended ({}); there is nothing to cancel.",
                record.status.as_str()
            ))
            .into());
        }
        let now = now_ms();
        self.store
            .set_exec(
                run_id,
                ExecState::Cancelled,
                record.pid,
                record.exit_code,
                Some("Cancelled on request".into()),
                now,
            )
            .await?;
        self.store
            .add_event(
                run_id,
                now,
                "cancelled",
                "Cancel requested".into(),
                Some(actor.name.clone()),
            )
            .await?;
        self.audit(actor, "run.cancel", run_id, None).await?;
        self.backend.cancel(&record).await?;
        self.refresh(run_id).await
    }

    async fn resume_inner(&self, actor: &Actor, run_id: &str) -> Result<RunSummary> {
        actor.role.require(Action::Resume)?;
        let _guard = self.claim(run_id)?;
        let observed = self.observe(run_id).await?;
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
        let actions = status::actions(observed.record.status, &observed.snapshot);
        if !actions.resume {
            let why = match observed.record.status {
                RunStatus::WaitingApproval => format!(
                    "Run {run_id} is waiting for a decision: approve or reject it at /runs/{run_id}/feedback."
                ),
                RunStatus::Finished => format!("Run {run_id} has finished; there is nothing to resume."),
                s => format!("Run {run_id} is {}; only failed, cancelled or blocked runs can be resumed.", s.as_str()),
            };
            return Err(DomainError::conflict(why).into());
        }
        self.relaunch(&observed.record, actor, "Resume requested")
            .await?;
        self.audit(actor, "run.resume", run_id, None).await?;
        self.refresh(run_id).await
    }

    async fn feedback_inner(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> Result<RunSummary> {
        actor.role.require(Action::DecideGate)?;
        request.validate()?;
        let _guard = self.claim(run_id)?;
        let observed = self.observe(run_id).await?;
        let record = observed.record;
        if record.status != RunStatus::WaitingApproval {
            if let Some(g) = observed
                .snapshot
                .gates
                .iter()
                .rev()
                .find(|g| g.decided_at_ms.is_some())
            {
                return Err(DomainError::conflict(format!(
                    "This gate was already decided: {:?} by {} at {}.",
                    g.status,
                    g.decided_by.as_deref().unwrap_or("someone"),
                    g.decided_at_ms
                        .map(domain::time::rfc3339)
                        .unwrap_or_default()
                ))
                .into());
            }
            return Err(DomainError::conflict(format!(
                "Run {run_id} is not waiting for a decision (it is {}).",
                record.status.as_str()
            ))
            .into());
        }
        let notes = request.clean_notes();
        let gate = {
            let (db, id, by, notes) = (
                record.db_path.clone(),
                run_id.to_string(),
                actor.name.clone(),
                notes.clone(),
            );
            let decision = request.decision;
            tokio::task::spawn_blocking(move || {
                smithers::decide_gate(
                    Path::new(&db),
                    &id,
                    None,
                    None,
                    to_smithers(decision),
                    notes.as_deref(),
                    &by,
                    now_ms(),
                )
            })
            .await??
        };
        let verb = match request.decision {
            Decision::Approve => "Approved",
            Decision::Reject => "Rejected",
        };
        let message = match &notes {
            Some(n) => format!("{verb} {}: {n}", gate.node_id),
            None => format!("{verb} {}", gate.node_id),
        };
        self.store
            .add_event(
                run_id,
                now_ms(),
                &format!("gate-{}", request.decision.as_str()),
                message,
                Some(actor.name.clone()),
            )
            .await?;
        self.audit(
            actor,
            &format!("gate.{}", request.decision.as_str()),
            run_id,
            notes,
        )
        .await?;
        self.relaunch(
            &record,
            actor,
            &format!("Resumed after the gate was {}", verb.to_lowercase()),
        )
        .await?;
        self.refresh(run_id).await
    }

    async fn logs_inner(&self, run_id: &str, offset: u64, max_bytes: u64) -> Result<LogChunk> {
        let record = self.record(run_id).await?;
        let path = PathBuf::from(&record.log_path);
        let max = max_bytes.clamp(1, 4 << 20);
        let bytes = tokio::task::spawn_blocking(move || read_from(&path, offset, max)).await??;
        let (text, used) = utf8_prefix(&bytes);
        // A blocked run writes again once resumed, so only an ended run is complete.
        let complete = !matches!(record.exec_state, ExecState::Pending | ExecState::Running)
            && record.status.is_terminal()
            && (used as u64) == bytes.len() as u64
            && bytes.len() < max as usize;
        Ok(LogChunk {
            offset,
            next_offset: offset + used as u64,
            text,
            complete,
        })
    }
}

fn read_from(path: &Path, offset: u64, max: u64) -> std::io::Result<Vec<u8>> {
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

/// The longest prefix that is whole UTF-8, so a chunk never splits a character.
fn utf8_prefix(bytes: &[u8]) -> (String, usize) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), bytes.len()),
        Err(e) if e.error_len().is_none() => {
            let end = e.valid_up_to();
            (String::from_utf8_lossy(&bytes[..end]).into_owned(), end)
        }
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), bytes.len()),
    }
}

fn to_smithers(d: Decision) -> smithers::Decision {
    match d {
        Decision::Approve => smithers::Decision::Approve,
        Decision::Reject => smithers::Decision::Deny,
    }
}

/// Reads the run's Smithers DB; a problem becomes words for the page, not an error.
async fn read_smithers(record: &RunRecord) -> (SmithersSnapshot, Option<String>) {
    let (db, run_id) = (PathBuf::from(&record.db_path), record.run_id.clone());
    let exec = record.exec_state;
    let read =
        tokio::task::spawn_blocking(move || smithers::read_snapshot(&db, Some(&run_id))).await;
    match read {
        Ok(Ok(snapshot)) => (snapshot, None),
        Ok(Err(smithers::Error::Missing(_)))
            if matches!(exec, ExecState::Pending | ExecState::Running) =>
        {
            (SmithersSnapshot::default(), None)
        }
        Ok(Err(e)) => (SmithersSnapshot::default(), Some(e.to_string())),
        Err(e) => (
            SmithersSnapshot::default(),
            Some(format!("Reading the run database failed: {e}")),
        ),
    }
}

/// The state to store and show, from the process state and the Smithers snapshot.
fn derive(
    record: &RunRecord,
    snap: &SmithersSnapshot,
    problem: Option<&str>,
    now: i64,
) -> RunUpdate {
    let status = status::derive_status(record.exec_state, record.exit_code, snap.run_status);
    // Smithers marks the gate node waiting from the first frame; it is only "current"
    // once the run actually waits.
    let current = status::current_task(&snap.tasks)
        .filter(|t| t.state != NodeState::WaitingApproval || status == RunStatus::WaitingApproval);
    let (progress, task) = if snap.tasks.is_empty() && problem.is_some() {
        (record.progress, record.task.clone())
    } else {
        (
            status::progress(&snap.tasks),
            current.map(|t| t.node_id.clone()),
        )
    };
    let error = match status {
        RunStatus::Failed => snap
            .error
            .clone()
            .or_else(|| record.exec_detail.clone())
            .or_else(|| {
                record
                    .exit_code
                    .map(|c| format!("The workflow exited with code {c}."))
            }),
        _ => None,
    };
    RunUpdate {
        status,
        phase: status::phase(status, current),
        task,
        progress,
        error,
        started_at_ms: record.started_at_ms.or(snap.started_at_ms),
        finished_at_ms: status
            .is_terminal()
            .then(|| record.finished_at_ms.or(snap.finished_at_ms).unwrap_or(now)),
    }
}
