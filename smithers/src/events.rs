//! `_smithers_events` as a timeline people can read, and the token usage it reports.
use domain::run::{GateStatus, GateView, TimelineEntry, TokenUsage};
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use crate::schema::{Schema, EVENTS};
use crate::values::readable_error_value;

/// The timeline shows at most this many of the latest events.
pub const TIMELINE_LIMIT: usize = 500;

/// Bookkeeping events that tell a person nothing (a frame per render, output chunks).
const HIDDEN_EVENTS: &str = "'FrameCommitted', 'NodeOutput'";

pub(crate) fn read_events(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
    gates: &[GateView],
) -> rusqlite::Result<Vec<TimelineEntry>> {
    if !schema.has_column(EVENTS, "run_id") || !schema.has_column(EVENTS, "type") {
        return Ok(Vec::new());
    }
    let cols = schema.select_list(EVENTS, &["seq", "timestamp_ms", "type", "payload_json"]);
    let seq = schema.select_list(EVENTS, &["seq"]);
    let sql = format!(
        "SELECT {cols} FROM {EVENTS} WHERE run_id = ?1 AND type NOT IN ({HIDDEN_EVENTS}) \
         ORDER BY {seq} DESC, rowid DESC LIMIT {TIMELINE_LIMIT}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([run_id], |r| {
        Ok((
            r.get::<_, Option<i64>>(0)?.unwrap_or(0),
            r.get::<_, Option<i64>>(1)?.unwrap_or(0),
            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, at_ms, kind, payload) = row?;
        let payload: Value = payload
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or(Value::Null);
        let message = match kind.as_str() {
            // Smithers numbers a run's events from 0; a later start is a resume.
            "RunStarted" if seq > 0 => "Run resumed".to_string(),
            _ => describe(&kind, &payload, gates),
        };
        entries.push(TimelineEntry {
            at_ms,
            source: "smithers".into(),
            message,
            kind,
        });
    }
    entries.reverse();
    Ok(entries)
}

/// A short sentence for one event.
fn describe(kind: &str, p: &Value, gates: &[GateView]) -> String {
    let task = task_name(p);
    let attempt = p.get("attempt").and_then(Value::as_i64).unwrap_or(1);
    let error = p.get("error").and_then(readable_error_value);
    let tool = p
        .get("toolName")
        .and_then(Value::as_str)
        .unwrap_or("a tool");
    match kind {
        "RunStarted" => "Run started".into(),
        "RunFinished" => "Run finished".into(),
        "RunCancelled" => "Run cancelled".into(),
        "RunFailed" => with_detail("Run failed", error),
        "RunStatusChanged" => match p.get("status").and_then(Value::as_str) {
            Some("waiting-approval") => "Run is waiting for approval".into(),
            Some(status) => format!("Run is now {status}"),
            None => "Run status changed".into(),
        },
        "NodePending" => format!("{task} is pending"),
        "NodeStarted" => format!("{task} started (attempt {attempt})"),
        "NodeFinished" => format!("{task} finished"),
        "NodeFailed" => with_detail(&format!("{task} failed (attempt {attempt})"), error),
        "NodeRetrying" => format!("{task} will retry (attempt {attempt})"),
        "NodeSkipped" => format!("{task} skipped"),
        "NodeCancelled" => with_detail(
            &format!("{task} cancelled"),
            p.get("reason").and_then(readable_error_value),
        ),
        "NodeWaitingApproval" => format!("{task} is waiting for approval"),
        "ApprovalRequested" => format!("Approval requested for {}", node_name(p)),
        "ApprovalGranted" => decided(p, "granted", GateStatus::Approved, gates),
        "ApprovalDenied" => decided(p, "denied", GateStatus::Denied, gates),
        "ToolCallStarted" => format!("{task} called {tool}"),
        "ToolCallFinished" => format!("{task}: {tool} finished"),
        "TokenUsageReported" => token_sentence(&task, p),
        other => match p.get("nodeId").and_then(Value::as_str) {
            Some(node) => format!("{other} ({node})"),
            None => other.to_string(),
        },
    }
}

fn node_name(p: &Value) -> String {
    let node = p.get("nodeId").and_then(Value::as_str).unwrap_or("?");
    match p.get("iteration").and_then(Value::as_i64) {
        Some(i) if i > 0 => format!("{node} (iteration {i})"),
        _ => node.to_string(),
    }
}

fn task_name(p: &Value) -> String {
    format!("Task {}", node_name(p))
}

fn with_detail(sentence: &str, detail: Option<String>) -> String {
    match detail {
        Some(d) => format!("{sentence}: {d}"),
        None => sentence.to_string(),
    }
}

/// The event payload does not say who decided; the approval row does.
fn decided(p: &Value, verb: &str, status: GateStatus, gates: &[GateView]) -> String {
    let node = p.get("nodeId").and_then(Value::as_str).unwrap_or("?");
    let iteration = p.get("iteration").and_then(Value::as_i64).unwrap_or(0);
    let by = gates
        .iter()
        .find(|g| g.node_id == node && g.iteration == iteration && g.status == status)
        .and_then(|g| g.decided_by.as_deref())
        .map(|who| format!(" by {who}"))
        .unwrap_or_default();
    format!("Approval {verb} for {}{by}", node_name(p))
}

fn token_sentence(task: &str, p: &Value) -> String {
    let total: u64 = [
        "inputTokens",
        "outputTokens",
        "cacheReadTokens",
        "cacheWriteTokens",
    ]
    .iter()
    .filter_map(|k| p.get(*k).and_then(Value::as_u64))
    .sum();
    match p.get("model").and_then(Value::as_str) {
        Some(model) => format!("{task} used {total} tokens ({model})"),
        None => format!("{task} used {total} tokens"),
    }
}

/// Sums of `TokenUsageReported` payloads per model, over the whole run.
pub(crate) fn read_event_tokens(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
) -> rusqlite::Result<Vec<TokenUsage>> {
    if !schema.has_column(EVENTS, "payload_json") || !schema.has_column(EVENTS, "type") {
        return Ok(Vec::new());
    }
    let sum = |key: &str| {
        format!("CAST(SUM(COALESCE(json_extract(payload_json, '$.{key}'), 0)) AS INTEGER)")
    };
    let sql = format!(
        "SELECT COALESCE(json_extract(payload_json, '$.model'), 'unknown'), {}, {}, {}, {}, {} \
         FROM {EVENTS} WHERE run_id = ?1 AND type = 'TokenUsageReported' AND json_valid(payload_json) \
         GROUP BY 1 ORDER BY 1",
        sum("inputTokens"),
        sum("outputTokens"),
        sum("cacheReadTokens"),
        sum("cacheWriteTokens"),
        sum("reasoningTokens"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([run_id], |r| {
        let n = |i: usize| {
            r.get::<_, Option<i64>>(i)
                .map(|v| v.unwrap_or(0).max(0) as u64)
        };
        Ok(TokenUsage {
            model: r.get::<_, rusqlite::types::Value>(0).map(model_name)?,
            input_tokens: n(1)?,
            output_tokens: n(2)?,
            cache_read_tokens: n(3)?,
            cache_write_tokens: n(4)?,
            reasoning_tokens: n(5)?,
        })
    })?;
    rows.collect()
}

fn model_name(value: rusqlite::types::Value) -> String {
    use rusqlite::types::Value as V;
    match value {
        V::Text(s) => s,
        V::Integer(i) => i.to_string(),
        V::Real(f) => f.to_string(),
        V::Null | V::Blob(_) => "unknown".into(),
    }
}

/// Why a failed run failed, when `error_json` is empty: its last `RunFailed` event.
pub(crate) fn run_failure_from_events(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
) -> rusqlite::Result<Option<String>> {
    if !schema.has_column(EVENTS, "payload_json") || !schema.has_column(EVENTS, "type") {
        return Ok(None);
    }
    let seq = schema.select_list(EVENTS, &["seq"]);
    let sql = format!(
        "SELECT payload_json FROM {EVENTS} WHERE run_id = ?1 AND type = 'RunFailed' \
         ORDER BY {seq} DESC, rowid DESC LIMIT 1"
    );
    let payload: Option<Option<String>> =
        conn.query_row(&sql, [run_id], |r| r.get(0)).optional()?;
    Ok(payload
        .flatten()
        .and_then(|p| serde_json::from_str::<Value>(&p).ok())
        .and_then(|p| p.get("error").and_then(readable_error_value)))
}
