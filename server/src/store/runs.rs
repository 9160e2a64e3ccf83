use super::audit::insert_audit;
use super::{AuditEntry, Store};
use crate::error::Result;
use domain::dispatch::RunOptions;
use domain::filter::{Cursor, RunFilter};
use domain::run::{ExecState, Progress, RunStatus, RunSummary, TimelineEntry, TokenUsage};
use domain::status::{Derived, RunFacts};
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
    pub env: Option<String>,
    pub options: RunOptions,
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
    /// Sequence number of the Smithers observation the cached state came from.
    pub observed_seq: i64,
}

pub struct NewRun {
    pub run_id: String,
    pub template: String,
    pub workflow: Option<String>,
    pub spec: Option<String>,
    pub project: Option<String>,
    pub env: Option<String>,
    pub options: RunOptions,
    pub backend: String,
    pub created_at_ms: i64,
    pub workspace: String,
    pub db_path: String,
    pub log_path: String,
}

/// A new line in the run's own timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: String,
    pub message: String,
    pub actor: Option<String>,
}

impl NewEvent {
    pub fn new(kind: &str, message: impl Into<String>, actor: Option<&str>) -> NewEvent {
        NewEvent {
            kind: kind.into(),
            message: message.into(),
            actor: actor.map(str::to_string),
        }
    }
}

/// The process side of a run, as it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecChange {
    pub state: ExecState,
    pub pid: Option<u32>,
    pub exit_code: Option<i32>,
    pub detail: Option<String>,
}

/// One step of a run's life, written in one transaction: the process state, the first
/// start time, a timeline line and an audit entry either all land or none does.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    pub exec: Option<ExecChange>,
    pub started_at_ms: Option<i64>,
    /// Progress and task reported from outside the run DB (the fabrik CLI's
    /// annotations), kept until the DB can be read.
    pub reported: Option<(domain::run::Progress, Option<String>)>,
    pub event: Option<NewEvent>,
    pub audit: Option<AuditEntry>,
}

/// Whether a derived update was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Changed,
    Unchanged,
    /// A newer observation was stored already; this one was older and is dropped.
    Stale,
}

pub(super) const COLUMNS: &str = "run_id, template, workflow, spec, project, backend, created_at_ms, \
    started_at_ms, finished_at_ms, exec_state, pid, exit_code, exec_detail, workspace, db_path, \
    log_path, status, phase, task, progress_finished, progress_total, error, observed_seq, env, options";

impl RunRecord {
    /// What a new run looks like before it is stored or started.
    pub fn pending(new: &NewRun) -> RunRecord {
        RunRecord {
            run_id: new.run_id.clone(),
            template: new.template.clone(),
            workflow: new.workflow.clone(),
            spec: new.spec.clone(),
            project: new.project.clone(),
            env: new.env.clone(),
            options: new.options.clone(),
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
            observed_seq: 0,
        }
    }

    /// What the status rules need to know about this run.
    pub fn facts(&self) -> RunFacts {
        RunFacts {
            exec: self.exec_state,
            exit_code: self.exit_code,
            exec_detail: self.exec_detail.clone(),
            started_at_ms: self.started_at_ms,
            finished_at_ms: self.finished_at_ms,
            progress: self.progress,
            task: self.task.clone(),
        }
    }

    /// This record with a derived state applied (what the store now holds).
    pub fn with(mut self, d: &Derived) -> RunRecord {
        self.status = d.status;
        self.phase = d.phase.clone();
        self.task = d.task.clone();
        self.progress = d.progress;
        self.error = d.error.clone();
        self.started_at_ms = self.started_at_ms.or(d.started_at_ms);
        self.finished_at_ms = d.finished_at_ms;
        self
    }

    pub(super) fn from_row(r: &Row) -> rusqlite::Result<RunRecord> {
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
            observed_seq: r.get(22)?,
            env: r.get(23)?,
            options: r
                .get::<_, Option<String>>(24)?
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
        })
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            run_id: self.run_id.clone(),
            project: self.project.clone(),
            env: self.env.clone(),
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
    /// Stores a new run with its first timeline line and audit entry, all or nothing.
    pub async fn insert_run(
        &self,
        run: NewRun,
        event: NewEvent,
        audit: AuditEntry,
    ) -> Result<RunRecord> {
        let id = run.run_id.clone();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO runs (run_id, template, workflow, spec, project, backend, created_at_ms, \
                 exec_state, workspace, db_path, log_path, status, phase, updated_at_ms, env, options) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, 'pending', 'pending', ?7, ?11, ?12)",
                params![
                    run.run_id, run.template, run.workflow, run.spec, run.project, run.backend,
                    run.created_at_ms, run.workspace, run.db_path, run.log_path, run.env,
                    serde_json::to_string(&run.options)?
                ],
            )?;
            insert_event(&tx, &run.run_id, run.created_at_ms, &event)?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        self.get_run(&id).await?.ok_or_else(|| {
            domain::Error::internal("The run was stored but could not be read back.").into()
        })
    }

    pub async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        let run_id = run_id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE run_id = ?1"),
                [run_id],
                RunRecord::from_row,
            )
            .optional()?)
        })
        .await
    }

    /// Runs the live watcher follows: those whose process may still be alive, and those
    /// waiting at a gate (which may be decided outside the product).
    pub async fn watched_runs(&self) -> Result<Vec<RunRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE exec_state IN ('pending', 'running') \
                 UNION ALL SELECT {COLUMNS} FROM runs WHERE status = 'waiting-approval' \
                 AND exec_state NOT IN ('pending', 'running')"
            ))?;
            let rows = stmt.query_map([], RunRecord::from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Runs whose process may still be alive (to adopt after a restart).
    pub async fn active_runs(&self) -> Result<Vec<RunRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE exec_state IN ('pending', 'running')"
            ))?;
            let rows = stmt.query_map([], RunRecord::from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// The highest observation sequence stored, so numbering continues after a restart.
    pub async fn max_observed_seq(&self) -> Result<i64> {
        self.call(|c| {
            Ok(
                c.query_row("SELECT COALESCE(MAX(observed_seq), 0) FROM runs", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    /// Writes one step of the run's life in one transaction.
    pub async fn transition(&self, run_id: &str, t: Transition, now_ms: i64) -> Result<()> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            if let Some(e) = &t.exec {
                tx.execute(
                    "UPDATE runs SET exec_state = ?2, pid = ?3, exit_code = ?4, exec_detail = ?5, \
                     updated_at_ms = ?6 WHERE run_id = ?1",
                    params![
                        run_id,
                        exec_str(e.state),
                        e.pid,
                        e.exit_code,
                        e.detail,
                        now_ms
                    ],
                )?;
            }
            if let Some(at) = t.started_at_ms {
                tx.execute(
                    "UPDATE runs SET started_at_ms = COALESCE(started_at_ms, ?2) WHERE run_id = ?1",
                    params![run_id, at],
                )?;
            }
            if let Some((progress, task)) = &t.reported {
                tx.execute(
                    "UPDATE runs SET progress_finished = ?2, progress_total = ?3, task = ?4 \
                     WHERE run_id = ?1",
                    params![run_id, progress.finished, progress.total, task],
                )?;
            }
            if let Some(event) = &t.event {
                insert_event(&tx, &run_id, now_ms, event)?;
            }
            if let Some(audit) = &t.audit {
                insert_audit(&tx, audit)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Stores the derived state from observation `seq`, unless a later observation was
    /// stored already; says whether anything visible changed.
    /// Stores the run's derived state (and its token figures, when the DB was read),
    /// unless a newer observation got there first.
    pub async fn apply_update(
        &self,
        run_id: &str,
        u: Derived,
        tokens: Option<Vec<TokenUsage>>,
        seq: i64,
        now_ms: i64,
    ) -> Result<UpdateOutcome> {
        let run_id = run_id.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let stored: Option<i64> = tx
                .query_row(
                    "SELECT observed_seq FROM runs WHERE run_id = ?1",
                    [&run_id],
                    |r| r.get(0),
                )
                .optional()?;
            if stored.is_some_and(|s| s > seq) {
                return Ok(UpdateOutcome::Stale);
            }
            let changed = tx.execute(
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
            tx.execute(
                "UPDATE runs SET observed_seq = ?2 WHERE run_id = ?1",
                params![run_id, seq],
            )?;
            if let Some(tokens) = &tokens {
                super::metrics::replace_run_tokens(&tx, &run_id, tokens)?;
            }
            tx.commit()?;
            Ok(if changed > 0 {
                UpdateOutcome::Changed
            } else {
                UpdateOutcome::Unchanged
            })
        })
        .await
    }

    pub async fn list_runs(&self, filter: RunFilter) -> Result<(Vec<RunRecord>, Option<String>)> {
        self.read(move |c| list(c, &filter)).await
    }

    pub async fn events_for(&self, run_id: &str) -> Result<Vec<TimelineEntry>> {
        let run_id = run_id.to_string();
        self.read(move |c| {
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

fn insert_event(
    c: &rusqlite::Connection,
    run_id: &str,
    at_ms: i64,
    e: &NewEvent,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO run_events (run_id, at_ms, kind, message, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run_id, at_ms, e.kind, e.message, e.actor],
    )?;
    Ok(())
}

/// Newest first, keyset-paged on (created_at_ms, run_id) so page N costs the same as page 1.
fn list(c: &rusqlite::Connection, f: &RunFilter) -> Result<(Vec<RunRecord>, Option<String>)> {
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
    if let Some(q) = f.q.as_ref().filter(|q| few_matches(c, q, f.limit())) {
        let p = arg(Value::Text(fts_phrase(q)), &mut args);
        clauses.push(format!(
            "rowid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH {p})"
        ));
    } else if let Some(q) = &f.q {
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

/// Whether `q` goes through the trigram index: 3 characters or more, and no more hits
/// than a page, so reading them by rowid answers the page exactly. With more, matches
/// are common and walking the runs newest first fills a page as soon; counting stops
/// one past the page, so the probe stays cheap when a substring is everywhere.
fn few_matches(c: &rusqlite::Connection, q: &str, page: u32) -> bool {
    if q.chars().count() < 3 {
        return false;
    }
    let cap = i64::from(page) + 1;
    let hits: rusqlite::Result<i64> = c
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM runs_fts WHERE runs_fts MATCH ?1 LIMIT ?2)",
        )
        .and_then(|mut stmt| stmt.query_row(params![fts_phrase(q), cap], |r| r.get(0)));
    matches!(hits, Ok(n) if n < cap)
}

/// `q` as one FTS5 phrase: a substring for the trigram tokenizer, nothing in it an
/// operator.
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
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
            env: None,
            options: Default::default(),
            backend: "local".into(),
            created_at_ms: created,
            workspace: "/w".into(),
            db_path: "/w/db".into(),
            log_path: "/w/log".into(),
        }
    }

    fn audit(action: &str) -> AuditEntry {
        AuditEntry {
            at_ms: 1,
            actor: "admin".into(),
            source: None,
            action: action.into(),
            target: None,
            detail: None,
        }
    }

    async fn store_with(n: i64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("fabrik.db")).unwrap();
        for i in 0..n {
            let template = if i % 2 == 0 { "demo" } else { "coding" };
            store
                .insert_run(
                    new_run(&format!("run-{i:03}"), template, 1000 + i / 2),
                    NewEvent::new("dispatched", "Dispatched", Some("admin")),
                    audit("run.dispatch"),
                )
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

    fn running(finished: u32) -> Derived {
        Derived {
            status: RunStatus::Running,
            phase: "implement".into(),
            task: Some("plan".into()),
            progress: Progress { finished, total: 8 },
            error: None,
            started_at_ms: Some(5),
            finished_at_ms: None,
        }
    }

    async fn search(store: &Store, q: &str) -> Vec<String> {
        let filter = RunFilter {
            q: Some(q.into()),
            limit: Some(500),
            ..Default::default()
        };
        let (rows, _) = store.list_runs(filter).await.unwrap();
        rows.into_iter().map(|r| r.run_id).collect()
    }

    #[tokio::test]
    async fn search_follows_updates_and_deletes_and_finds_nothing_when_nothing_matches() {
        let (_dir, store) = store_with(6).await;
        assert!(search(&store, "no-such-run").await.is_empty());
        assert_eq!(search(&store, "RUN-004").await, vec!["run-004"], "any case");
        assert_eq!(search(&store, "codi").await.len(), 3, "by template");
        assert_eq!(search(&store, "un").await.len(), 6, "short: still found");
        assert_eq!(
            search(&store, "\"quoted\" OR run").await.len(),
            0,
            "no operators"
        );

        let mut task = running(1);
        task.task = Some("write-the-migration".into());
        store
            .apply_update("run-002", task, None, 1, 10)
            .await
            .unwrap();
        assert_eq!(search(&store, "the-migr").await, vec!["run-002"]);
        let mut next = running(2);
        next.task = Some("review".into());
        store
            .apply_update("run-002", next, None, 2, 11)
            .await
            .unwrap();
        assert!(
            search(&store, "the-migr").await.is_empty(),
            "the old task is gone"
        );
        assert_eq!(search(&store, "review").await, vec!["run-002"]);

        store
            .call(|c| {
                c.execute("DELETE FROM run_events WHERE run_id = 'run-002'", [])?;
                c.execute("DELETE FROM runs WHERE run_id = 'run-002'", [])?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(search(&store, "review").await.is_empty(), "deleted");
        assert!(search(&store, "run-002").await.is_empty());
    }

    #[tokio::test]
    async fn a_search_matching_many_runs_pages_like_the_list() {
        let (_dir, store) = store_with(1010).await;
        let hits = search(&store, "run-").await;
        assert_eq!(hits.len(), 500, "a full page");
        let filter = RunFilter {
            q: Some("demo".into()),
            limit: Some(5),
            ..Default::default()
        };
        let (rows, next) = store.list_runs(filter).await.unwrap();
        assert!(rows.iter().all(|r| r.template == "demo"));
        assert!(next.is_some());
        assert_eq!(search(&store, "run-1007").await, vec!["run-1007"]);
    }

    #[tokio::test]
    async fn updates_report_whether_anything_changed() {
        let (_dir, store) = store_with(1).await;
        let changed = store.apply_update("run-000", running(1), None, 1, 10).await;
        assert_eq!(changed.unwrap(), UpdateOutcome::Changed);
        let same = store.apply_update("run-000", running(1), None, 2, 11).await;
        assert_eq!(same.unwrap(), UpdateOutcome::Unchanged);
        let r = store.get_run("run-000").await.unwrap().unwrap();
        assert_eq!(r.status, RunStatus::Running);
        assert_eq!(r.progress.total, 8);
        assert_eq!(r.started_at_ms, Some(5));
    }

    #[tokio::test]
    async fn a_stale_snapshot_never_overwrites_a_newer_one() {
        let (_dir, store) = store_with(1).await;
        let newer = store.apply_update("run-000", running(5), None, 7, 10).await;
        assert_eq!(newer.unwrap(), UpdateOutcome::Changed);
        let older = store.apply_update("run-000", running(2), None, 6, 11).await;
        assert_eq!(older.unwrap(), UpdateOutcome::Stale);
        let r = store.get_run("run-000").await.unwrap().unwrap();
        assert_eq!(r.progress.finished, 5, "the newer observation stays");
        assert_eq!(r.observed_seq, 7);
    }

    #[tokio::test]
    async fn a_failed_audit_write_leaves_no_half_dispatched_run() {
        let (_dir, store) = store_with(0).await;
        store
            .call(|c| {
                c.execute_batch(
                    "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log \
                     BEGIN SELECT RAISE(FAIL, 'audit disk full'); END;",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let stored = store
            .insert_run(
                new_run("run-x", "demo", 1),
                NewEvent::new("dispatched", "Dispatched", None),
                audit("run.dispatch"),
            )
            .await;
        assert!(stored.is_err());
        assert!(store.get_run("run-x").await.unwrap().is_none());
        assert!(store.events_for("run-x").await.unwrap().is_empty());
    }
}
