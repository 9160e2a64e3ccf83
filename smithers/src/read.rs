//! One consistent snapshot of a run, read from the Smithers database.
use std::collections::HashMap;
use std::path::Path;

use domain::run::{GateStatus, GateView, NodeState, SmithersRunStatus, SmithersSnapshot, TaskView};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::error::{At, Result};
use crate::events::{read_event_tokens, read_events, run_failure_from_events};
use crate::open::open_read_only;
use crate::outputs::{read_outputs, reviews_from, tokens_from_outputs};
use crate::schema::{Schema, APPROVALS, ATTEMPTS, NODES, RUNS};
use crate::values::readable_error_value;

/// Reads everything Smithers recorded about one run. `run_id: None` picks the most
/// recently created run. Safe to call while Smithers writes the database.
pub fn read_snapshot(db_path: &Path, run_id: Option<&str>) -> Result<SmithersSnapshot> {
    let conn = open_read_only(db_path)?;
    snapshot_from(&conn, run_id).at(db_path)
}

/// The names of the workflow's output tables (whether or not they hold rows yet).
pub fn output_tables(db_path: &Path) -> Result<Vec<String>> {
    let conn = open_read_only(db_path)?;
    let schema = Schema::load(&conn).at(db_path)?;
    Ok(schema
        .output_tables()
        .into_iter()
        .map(String::from)
        .collect())
}

pub(crate) fn snapshot_from(
    conn: &Connection,
    run_id: Option<&str>,
) -> rusqlite::Result<SmithersSnapshot> {
    // One read transaction, so every part comes from the same commit. In WAL mode it
    // does not block the writer.
    let tx = conn.unchecked_transaction()?;
    let schema = Schema::load(&tx)?;
    let run_id = match run_id {
        Some(id) => Some(id.to_string()),
        None => latest_run_id(&tx, &schema)?,
    };
    let mut snap = SmithersSnapshot::default();
    snap.outputs = read_outputs(&tx, &schema, run_id.as_deref())?;
    snap.reviews = reviews_from(&schema, &snap.outputs);
    if let Some(run_id) = run_id.as_deref() {
        fill_run(&tx, &schema, run_id, &mut snap)?;
        snap.tasks = read_tasks(&tx, &schema, run_id)?;
        snap.gates = read_gates(&tx, &schema, run_id)?;
        snap.events = read_events(&tx, &schema, run_id, &snap.gates)?;
        snap.tokens = read_event_tokens(&tx, &schema, run_id)?;
    }
    // Smithers 0.5 reports no token events; the workflow's own output columns do.
    if snap.tokens.is_empty() {
        snap.tokens = tokens_from_outputs(&schema, &snap.outputs);
    }
    tx.finish()?;
    Ok(snap)
}

fn latest_run_id(conn: &Connection, schema: &Schema) -> rusqlite::Result<Option<String>> {
    if !schema.has_column(RUNS, "run_id") {
        return Ok(None);
    }
    let order = schema.select_list(RUNS, &["created_at_ms"]);
    let sql = format!("SELECT run_id FROM {RUNS} ORDER BY {order} DESC, rowid DESC LIMIT 1");
    conn.query_row(&sql, [], |r| r.get(0)).optional()
}

fn fill_run(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
    snap: &mut SmithersSnapshot,
) -> rusqlite::Result<()> {
    if !schema.has_column(RUNS, "run_id") {
        return Ok(());
    }
    let cols = schema.select_list(
        RUNS,
        &[
            "status",
            "workflow_name",
            "started_at_ms",
            "finished_at_ms",
            "heartbeat_at_ms",
            "error_json",
        ],
    );
    let sql = format!("SELECT {cols} FROM {RUNS} WHERE run_id = ?1");
    let row = conn
        .query_row(&sql, [run_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((status, workflow, started, finished, heartbeat, error_json)) = row else {
        return Ok(());
    };
    let status = status.as_deref().map(SmithersRunStatus::parse);
    snap.run_status = status;
    snap.workflow_name = workflow;
    snap.started_at_ms = started;
    snap.finished_at_ms = finished;
    snap.heartbeat_at_ms = heartbeat;
    snap.error = error_json.as_deref().and_then(readable_error);
    if snap.error.is_none() && status == Some(SmithersRunStatus::Failed) {
        snap.error = run_failure_from_events(conn, schema, run_id)?;
    }
    Ok(())
}

/// What a person should read from a Smithers `error_json`: its `.message` when it is
/// an object that has one, else the text (or compact JSON) itself.
pub(crate) fn readable_error(text: &str) -> Option<String> {
    let text = text.trim();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Null) => None,
        Ok(value) => readable_error_value(&value),
        Err(_) if text.is_empty() => None,
        Err(_) => Some(text.to_string()),
    }
}

#[derive(Default)]
struct AttemptSummary {
    count: u32,
    started_at_ms: Option<i64>,
    finished_at_ms: Option<i64>,
    last_error: Option<String>,
}

fn read_tasks(conn: &Connection, schema: &Schema, run_id: &str) -> rusqlite::Result<Vec<TaskView>> {
    if !schema.has_column(NODES, "run_id") {
        return Ok(Vec::new());
    }
    let attempts = read_attempts(conn, schema, run_id)?;
    let cols = schema.select_list(
        NODES,
        &["node_id", "iteration", "state", "label", "updated_at_ms"],
    );
    let sql = format!("SELECT {cols} FROM {NODES} WHERE run_id = ?1 ORDER BY rowid");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([run_id], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            r.get::<_, Option<i64>>(1)?.unwrap_or(0),
            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut tasks = Vec::new();
    for row in rows {
        let (node_id, iteration, state, label, updated_at_ms) = row?;
        let summary = attempts.get(&(node_id.clone(), iteration));
        tasks.push(TaskView {
            state: NodeState::parse(&state),
            label: label.filter(|l| !l.is_empty()),
            attempts: summary.map_or(0, |s| s.count),
            started_at_ms: summary.and_then(|s| s.started_at_ms),
            finished_at_ms: summary.and_then(|s| s.finished_at_ms),
            error: summary.and_then(|s| s.last_error.clone()),
            updated_at_ms,
            node_id,
            iteration,
        });
    }
    Ok(tasks)
}

fn read_attempts(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
) -> rusqlite::Result<HashMap<(String, i64), AttemptSummary>> {
    let mut by_node: HashMap<(String, i64), AttemptSummary> = HashMap::new();
    if !schema.has_column(ATTEMPTS, "run_id") {
        return Ok(by_node);
    }
    // Never the (possibly large) response_text: only what the task list shows.
    let cols = schema.select_list(
        ATTEMPTS,
        &[
            "node_id",
            "iteration",
            "state",
            "started_at_ms",
            "finished_at_ms",
            "error_json",
        ],
    );
    let order = schema.select_list(ATTEMPTS, &["attempt"]);
    let sql = format!("SELECT {cols} FROM {ATTEMPTS} WHERE run_id = ?1 ORDER BY {order}, rowid");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![run_id])?;
    while let Some(r) = rows.next()? {
        let key = (
            r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            r.get::<_, Option<i64>>(1)?.unwrap_or(0),
        );
        let summary = by_node.entry(key).or_default();
        summary.count += 1;
        let started: Option<i64> = r.get(3)?;
        if summary.count == 1 {
            summary.started_at_ms = started;
        }
        summary.finished_at_ms = r.get(4)?;
        if r.get::<_, Option<String>>(2)?.as_deref() == Some("failed") {
            let error: Option<String> = r.get(5)?;
            summary.last_error = error
                .as_deref()
                .and_then(readable_error)
                .or_else(|| Some("attempt failed".to_string()));
        }
    }
    Ok(by_node)
}

pub(crate) fn read_gates(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
) -> rusqlite::Result<Vec<GateView>> {
    if !schema.has_column(APPROVALS, "run_id") {
        return Ok(Vec::new());
    }
    let cols = schema.select_list(
        APPROVALS,
        &[
            "node_id",
            "iteration",
            "status",
            "requested_at_ms",
            "decided_at_ms",
            "note",
            "decided_by",
        ],
    );
    // rowid is request order: deciding upserts the row in place.
    let sql = format!("SELECT {cols} FROM {APPROVALS} WHERE run_id = ?1 ORDER BY rowid");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([run_id], |r| {
        Ok(GateView {
            node_id: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            iteration: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
            status: gate_status(r.get::<_, Option<String>>(2)?.as_deref()),
            requested_at_ms: r.get(3)?,
            decided_at_ms: r.get(4)?,
            note: r.get(5)?,
            decided_by: r.get(6)?,
        })
    })?;
    rows.collect()
}

fn gate_status(status: Option<&str>) -> GateStatus {
    match status.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("approved") => GateStatus::Approved,
        Some("denied") => GateStatus::Denied,
        _ => GateStatus::Requested,
    }
}
