use super::Store;
use crate::error::Result;
use domain::filter::{Cursor, RunFilter};
use domain::run::{ExecState, Progress, RunStatus, RunSummary, TimelineEntry};
use domain::time::rfc3339;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};

/// A run as stored: what we launched and the last state we derived for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub run_id: String,
    pub template: String,
    pub workflow: Option<String>,
    pub spec: Option<String>,
    pub project: Option<String>,
    pub backend: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub exec_state: ExecState,
    pub pid: Option<u32>,
    pub exit_code: Option<i32>,
    pub exec_detail: Option<String>,
    pub workspace: String,
    pub db_path: String,
    pub log_path: String,
    pub status: RunStatus,
    pub phase: String,
    pub task: Option<String>,
    pub progress: Progress,
    pub error: Option<String>,
}

pub struct NewRun {
    pub run_id: String,
    pub template: String,
    pub workflow: Option<String>,
    pub spec: Option<String>,
    pub project: Option<String>,
    pub backend: String,
    pub created_at_ms: i64,
    pub workspace: String,
    pub db_path: String,
    pub log_path: String,
}

/// The derived, cached part of a run: written whenever the process or the DB changes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUpdate {
    pub status: RunStatus,
    pub phase: String,
    pub task: Option<String>,
    pub progress: Progress,
    pub error: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

const COLUMNS: &str = "run_id, template, workflow, spec, project, backend, created_at_ms, \
    started_at_ms, finished_at_ms, exec_state, pid, exit_code, exec_detail, workspace, db_path, \
    log_path, status, phase, task, progress_finished, progress_total, error";

impl RunRecord {
    /// What a new run looks like before it is stored or started.
    pub fn pending(new: &NewRun) -> RunRecord {
        RunRecord {
            run_id: new.run_id.clone(),
            template: new.template.clone(),
            workflow: new.workflow.clone(),
            spec: new.spec.clone(),
            project: new.project.clone(),
            backend: new.backend.clone(),
            created_at_ms: new.created_at_ms,
            started_at_ms: None,
            finished_at_ms: None,
            exec_state: ExecState::Pending,
            pid: None,
            exit_code: None,
            exec_detail: None,
            workspace: new.workspace.clone(),
            db_path: new.db_path.clone(),
            log_path: new.log_path.clone(),
            status: RunStatus::Pending,
            phase: "pending".into(),
            task: None,
            progress: Progress::default(),
            error: None,
        }
    }

    fn from_row(r: &Row) -> rusqlite::Result<RunRecord> {
        let exec: String = r.get(9)?;
        let status: String = r.get(16)?;
        Ok(RunRecord {
            run_id: r.get(0)?,
            template: r.get(1)?,
            workflow: r.get(2)?,
            spec: r.get(3)?,
            project: r.get(4)?,
            backend: r.get(5)?,
            created_at_ms: r.get(6)?,
            started_at_ms: r.get(7)?,
            finished_at_ms: r.get(8)?,
            exec_state: parse_exec(&exec),
            pid: r.get(10)?,
            exit_code: r.get(11)?,
            exec_detail: r.get(12)?,
            workspace: r.get(13)?,
            db_path: r.get(14)?,
            log_path: r.get(15)?,
            status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
            phase: r.get(17)?,
            task: r.get(18)?,
            progress: Progress {
                finished: r.get(19)?,
                total: r.get(20)?,
            },
            error: r.get(21)?,
        })
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            run_id: self.run_id.clone(),
            project: self.project.clone(),
            spec: self.spec.clone(),
            phase: self.phase.clone(),
            status: self.status,
            task: self.task.clone(),
            outcome: self.status.outcome().map(str::to_string),
            started_at: self.started_at_ms.map(rfc3339),
            finished_at: self.finished_at_ms.map(rfc3339),
            progress: self.progress,
            template: self.template.clone(),
            workflow: self.workflow.clone(),
            backend: self.backend.clone(),
            created_at_ms: self.created_at_ms,
            started_at_ms: self.started_at_ms,
            finished_at_ms: self.finished_at_ms,
            needs_feedback: self.status == RunStatus::WaitingApproval,
            error: self.error.clone(),
        }
    }
}

pub fn exec_str(s: ExecState) -> &'static str {
    match s {
        ExecState::Pending => "pending",
        ExecState::Running => "running",
        ExecState::Exited => "exited",
        ExecState::Lost => "lost",
        ExecState::Cancelled => "cancelled",
    }
}

fn parse_exec(s: &str) -> ExecState {
    match s {
        "pending" => ExecState::Pending,
        "running" => ExecState::Running,
        "exited" => ExecState::Exited,
        "cancelled" => ExecState::Cancelled,
        _ => ExecState::Lost,
    }
}

impl Store {
    pub async fn insert_run(&self, run: NewRun) -> Result<RunRecord> {
        let id = run.run_id.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO runs (run_id, template, workflow, spec, project, backend, created_at_ms, \
                 exec_state, workspace, db_path, log_path, status, phase, updated_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, 'pending', 'pending', ?7)",
                params![
                    run.run_id, run.template, run.workflow, run.spec, run.project, run.backend,
                    run.created_at_ms, run.workspace, run.db_path, run.log_path
                ],
            )?;
            Ok(())
        })
        .await?;
        self.get_run(&id).await?.ok_or_else(|| {
            domain::Error::internal("The run was stored but could not be read back.").into()
        })
    }

    pub async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE run_id = ?1"),
                [run_id],
                RunRecord::from_row,
            )
            .optional()?)
        })
        .await
    }

    /// Runs whose process may still be alive (to adopt or watch).
    pub async fn active_runs(&self) -> Result<Vec<RunRecord>> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE exec_state IN ('pending', 'running')"
            ))?;
            let rows = stmt.query_map([], RunRecord::from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub async fn set_exec(
        &self,
        run_id: &str,
        state: ExecState,
        pid: Option<u32>,
        exit_code: Option<i32>,
        detail: Option<String>,
        now_ms: i64,
    ) -> Result<()> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE runs SET exec_state = ?2, pid = ?3, exit_code = ?4, exec_detail = ?5, updated_at_ms = ?6 \
                 WHERE run_id = ?1",
                params![run_id, exec_str(state), pid, exit_code, detail, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// Records when the run first started (a resume keeps the original start).
    pub async fn mark_started(&self, run_id: &str, now_ms: i64) -> Result<()> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE runs SET started_at_ms = COALESCE(started_at_ms, ?2) WHERE run_id = ?1",
                params![run_id, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// Stores the derived state; returns whether anything visible changed.
    pub async fn apply_update(&self, run_id: &str, u: RunUpdate, now_ms: i64) -> Result<bool> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            let changed = c.execute(
                "UPDATE runs SET status = ?2, phase = ?3, task = ?4, progress_finished = ?5, \
                 progress_total = ?6, error = ?7, started_at_ms = COALESCE(started_at_ms, ?8), \
                 finished_at_ms = ?9, updated_at_ms = ?10 \
                 WHERE run_id = ?1 AND NOT (status IS ?2 AND phase IS ?3 AND task IS ?4 \
                   AND progress_finished IS ?5 AND progress_total IS ?6 AND error IS ?7 \
                   AND started_at_ms IS COALESCE(started_at_ms, ?8) AND finished_at_ms IS ?9)",
                params![
                    run_id,
                    u.status.as_str(),
                    u.phase,
                    u.task,
                    u.progress.finished,
                    u.progress.total,
                    u.error,
                    u.started_at_ms,
                    u.finished_at_ms,
                    now_ms
                ],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    pub async fn list_runs(&self, filter: RunFilter) -> Result<(Vec<RunRecord>, Option<String>)> {
        self.call(move |c| list(c, &filter)).await
    }

    pub async fn add_event(
        &self,
        run_id: &str,
        at_ms: i64,
        kind: &str,
        message: String,
        actor: Option<String>,
    ) -> Result<()> {
        let (run_id, kind) = (run_id.to_string(), kind.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO run_events (run_id, at_ms, kind, message, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run_id, at_ms, kind, message, actor],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn events_for(&self, run_id: &str) -> Result<Vec<TimelineEntry>> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT at_ms, kind, message, actor FROM run_events WHERE run_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([run_id], |r| {
                let actor: Option<String> = r.get(3)?;
                let message: String = r.get(2)?;
                Ok(TimelineEntry {
                    at_ms: r.get(0)?,
                    source: "fabrik".into(),
                    kind: r.get(1)?,
                    message: match actor {
                        Some(a) => format!("{message} (by {a})"),
                        None => message,
                    },
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

/// Newest first, keyset-paged on (created_at_ms, run_id) so page N costs the same as page 1.
fn list(c: &mut rusqlite::Connection, f: &RunFilter) -> Result<(Vec<RunRecord>, Option<String>)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(s) = f.status {
        let p = arg(Value::Text(s.as_str().into()), &mut args);
        clauses.push(format!("status = {p}"));
    }
    if let Some(t) = &f.template {
        let p = arg(Value::Text(t.clone()), &mut args);
        clauses.push(format!("template = {p}"));
    }
    if let Some(s) = &f.spec {
        let p = arg(Value::Text(format!("%{}%", escape_like(s))), &mut args);
        clauses.push(format!("spec LIKE {p} ESCAPE '\\'"));
    }
    if let Some(q) = &f.q {
        let p = arg(Value::Text(format!("%{}%", escape_like(q))), &mut args);
        clauses.push(format!(
            "(run_id LIKE {p} ESCAPE '\\' OR spec LIKE {p} ESCAPE '\\' OR template LIKE {p} ESCAPE '\\' \
             OR task LIKE {p} ESCAPE '\\' OR project LIKE {p} ESCAPE '\\')"
        ));
    }
    let (from_ms, to_ms) = f.created_range_ms();
    if let Some(ms) = from_ms {
        let p = arg(Value::Integer(ms), &mut args);
        clauses.push(format!("created_at_ms >= {p}"));
    }
    if let Some(ms) = to_ms {
        let p = arg(Value::Integer(ms), &mut args);
        clauses.push(format!("created_at_ms < {p}"));
    }
    if let Some(cursor) = &f.cursor {
        let cur = Cursor::decode(cursor)?;
        let a = arg(Value::Integer(cur.created_at_ms), &mut args);
        let b = arg(Value::Text(cur.run_id), &mut args);
        clauses.push(format!(
            "(created_at_ms < {a} OR (created_at_ms = {a} AND run_id < {b}))"
        ));
    }
    let limit = f.limit();
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM runs {where_sql} ORDER BY created_at_ms DESC, run_id DESC LIMIT {}",
        limit + 1
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows: Vec<RunRecord> = stmt
        .query_map(params_from_iter(args), RunRecord::from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            Cursor {
                created_at_ms: r.created_at_ms,
                run_id: r.run_id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    Ok((rows, next))
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_run(id: &str, template: &str, created: i64) -> NewRun {
        NewRun {
            run_id: id.into(),
            template: template.into(),
            workflow: None,
            spec: Some(format!("specs/{id}.json")),
            project: None,
            backend: "local".into(),
            created_at_ms: created,
            workspace: "/w".into(),
            db_path: "/w/db".into(),
            log_path: "/w/log".into(),
        }
    }

    async fn store_with(n: i64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("fabrik.db")).unwrap();
        for i in 0..n {
            let template = if i % 2 == 0 { "demo" } else { "coding" };
            store
                .insert_run(new_run(&format!("run-{i:03}"), template, 1000 + i / 2))
                .await
                .unwrap();
        }
        (dir, store)
    }

    #[tokio::test]
    async fn pages_cover_every_run_once_newest_first() {
        let (_dir, store) = store_with(25).await;
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let filter = RunFilter {
                limit: Some(10),
                cursor: cursor.clone(),
                ..Default::default()
            };
            let (rows, next) = store.list_runs(filter).await.unwrap();
            seen.extend(rows.into_iter().map(|r| (r.created_at_ms, r.run_id)));
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first, ties by id, no repeats");
    }

    #[tokio::test]
    async fn filters_combine() {
        let (_dir, store) = store_with(10).await;
        let f = RunFilter::from_pairs([("template", "coding"), ("q", "run-00")]).unwrap();
        let (rows, _) = store.list_runs(f).await.unwrap();
        let ids: Vec<_> = rows.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["run-009", "run-007", "run-005", "run-003", "run-001"]);
        let f = RunFilter::from_pairs([("status", "blocked")]).unwrap();
        assert!(store.list_runs(f).await.unwrap().0.is_empty());
        let f = RunFilter::from_pairs([("q", "100%_")]).unwrap();
        assert!(
            store.list_runs(f).await.unwrap().0.is_empty(),
            "LIKE wildcards are literal"
        );
    }

    #[tokio::test]
    async fn updates_report_whether_anything_changed() {
        let (_dir, store) = store_with(1).await;
        let u = RunUpdate {
            status: RunStatus::Running,
            phase: "implement".into(),
            task: Some("plan".into()),
            progress: Progress {
                finished: 1,
                total: 8,
            },
            error: None,
            started_at_ms: Some(5),
            finished_at_ms: None,
        };
        assert!(store.apply_update("run-000", u.clone(), 10).await.unwrap());
        assert!(!store.apply_update("run-000", u.clone(), 11).await.unwrap());
        let r = store.get_run("run-000").await.unwrap().unwrap();
        assert_eq!(r.status, RunStatus::Running);
        assert_eq!(r.progress.total, 8);
        assert_eq!(r.started_at_ms, Some(5));
    }
}
