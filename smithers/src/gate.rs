//! Deciding a human gate, exactly as `smithers approve` / `smithers deny` record it.
use std::path::Path;

use domain::run::{GateStatus, GateView};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, TransactionBehavior};

use crate::error::{At, Error, Result};
use crate::open::open_read_write;
use crate::read::read_gates;
use crate::schema::{quote, Schema, APPROVALS, EVENTS, NODES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    pub fn gate_status(self) -> GateStatus {
        match self {
            Decision::Approve => GateStatus::Approved,
            Decision::Deny => GateStatus::Denied,
        }
    }

    fn status_word(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Deny => "denied",
        }
    }

    fn event_type(self) -> &'static str {
        match self {
            Decision::Approve => "ApprovalGranted",
            Decision::Deny => "ApprovalDenied",
        }
    }

    /// Approve lets Smithers run the node on resume; deny fails it.
    fn node_state(self) -> &'static str {
        match self {
            Decision::Approve => "pending",
            Decision::Deny => "failed",
        }
    }
}

/// Approves or denies a requested gate in one IMMEDIATE transaction: the approval row,
/// an `ApprovalGranted`/`ApprovalDenied` event at the next `seq`, and the node's state.
/// `node_id: None` decides the one open gate; `iteration: None` the node's open one.
/// The run still has to be resumed (`smithers resume`) to act on the decision.
///
/// The write lock is taken only once a plain read has found the gate open: Smithers
/// sets no busy timeout, so a lock held while it writes fails its statement, and a
/// decision that has nothing to decide (a stale page, a run not at its gate yet) must
/// not cost a running workflow anything.
#[allow(clippy::too_many_arguments)] // mirrors the `smithers approve|deny` flags one to one
pub fn decide_gate(
    db_path: &Path,
    run_id: &str,
    node_id: Option<&str>,
    iteration: Option<i64>,
    decision: Decision,
    note: Option<&str>,
    decided_by: &str,
    now_ms: i64,
) -> Result<GateView> {
    let mut conn = open_read_write(db_path)?;
    open_gate(&conn, db_path, run_id, node_id, iteration)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .at(db_path)?;
    // Picked again under the lock: it may have been decided since the read.
    let (schema, gate) = open_gate(&tx, db_path, run_id, node_id, iteration)?;
    let decided = GateView {
        status: decision.gate_status(),
        requested_at_ms: None,
        decided_at_ms: Some(now_ms),
        note: note.map(String::from),
        decided_by: schema
            .has_column(APPROVALS, "decided_by")
            .then(|| decided_by.to_string()),
        ..gate
    };
    record_decision(&tx, &schema, run_id, &decided, decision, now_ms).at(db_path)?;
    tx.commit().at(db_path)?;
    Ok(decided)
}

fn open_gate(
    conn: &Connection,
    db_path: &Path,
    run_id: &str,
    node_id: Option<&str>,
    iteration: Option<i64>,
) -> Result<(Schema, GateView)> {
    let schema = Schema::load(conn).at(db_path)?;
    let gates = read_gates(conn, &schema, run_id).at(db_path)?;
    let gate = pick_gate(&gates, run_id, node_id, iteration)?;
    Ok((schema, gate))
}

fn pick_gate(
    gates: &[GateView],
    run_id: &str,
    node_id: Option<&str>,
    iteration: Option<i64>,
) -> Result<GateView> {
    let candidates: Vec<&GateView> = gates
        .iter()
        .filter(|g| node_id.is_none_or(|n| g.node_id == n))
        .filter(|g| iteration.is_none_or(|i| g.iteration == i))
        .collect();
    let open: Vec<&GateView> = candidates
        .iter()
        .copied()
        .filter(|g| g.status == GateStatus::Requested)
        .collect();
    let not_open = || Error::GateNotOpen {
        run_id: run_id.to_string(),
        node_id: node_id.map(String::from),
    };
    if open.is_empty() {
        // Only a named gate can have been "already decided"; otherwise nothing is open.
        let latest = candidates.iter().max_by_key(|g| g.iteration);
        return match (node_id, latest) {
            (Some(_), Some(g)) => Err(already_decided(g)),
            _ => Err(not_open()),
        };
    }
    let first = open[0];
    if open.iter().all(|g| g.node_id == first.node_id) {
        let latest = open.iter().max_by_key(|g| g.iteration).unwrap_or(&first);
        return Ok((*latest).clone());
    }
    Err(Error::AmbiguousGate {
        run_id: run_id.to_string(),
        open: open.iter().map(|g| g.node_id.clone()).collect(),
    })
}

fn already_decided(gate: &GateView) -> Error {
    Error::AlreadyDecided {
        node_id: gate.node_id.clone(),
        iteration: gate.iteration,
        decision: gate.status,
        by: gate.decided_by.clone(),
        at: gate.decided_at_ms,
    }
}

fn record_decision(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
    gate: &GateView,
    decision: Decision,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let key = [
        ("run_id", text(run_id)),
        ("node_id", text(&gate.node_id)),
        ("iteration", Value::Integer(gate.iteration)),
    ];
    let approval = [
        ("status", text(decision.status_word())),
        ("requested_at_ms", Value::Null),
        ("decided_at_ms", Value::Integer(now_ms)),
        ("note", gate.note.as_deref().map_or(Value::Null, text)),
        (
            "decided_by",
            gate.decided_by.as_deref().map_or(Value::Null, text),
        ),
    ];
    update_row(conn, schema, APPROVALS, &approval, &key)?;
    append_event(conn, schema, run_id, gate, decision, now_ms)?;
    set_node_state(conn, schema, &key, decision, now_ms)
}

fn append_event(
    conn: &Connection,
    schema: &Schema,
    run_id: &str,
    gate: &GateView,
    decision: Decision,
    now_ms: i64,
) -> rusqlite::Result<()> {
    if !schema.has_table(EVENTS) {
        return Ok(());
    }
    let seq: i64 = conn.query_row(
        &format!("SELECT COALESCE(MAX(seq), -1) + 1 FROM {EVENTS} WHERE run_id = ?1"),
        [run_id],
        |r| r.get(0),
    )?;
    let kind = decision.event_type();
    let payload = decision_payload(kind, run_id, &gate.node_id, gate.iteration, now_ms);
    let event = [
        ("run_id", text(run_id)),
        ("seq", Value::Integer(seq)),
        ("timestamp_ms", Value::Integer(now_ms)),
        ("type", text(kind)),
        ("payload_json", Value::Text(payload)),
    ];
    insert_row(conn, schema, EVENTS, &event)
}

/// The payload Smithers' `JSON.stringify` writes, keys in its order.
pub(crate) fn decision_payload(
    kind: &str,
    run_id: &str,
    node_id: &str,
    iteration: i64,
    timestamp_ms: i64,
) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    format!(
        "{{\"type\":{},\"runId\":{},\"nodeId\":{},\"iteration\":{iteration},\"timestampMs\":{timestamp_ms}}}",
        s(kind),
        s(run_id),
        s(node_id)
    )
}

fn set_node_state(
    conn: &Connection,
    schema: &Schema,
    key: &[(&str, Value)],
    decision: Decision,
    now_ms: i64,
) -> rusqlite::Result<()> {
    if !schema.has_table(NODES) {
        return Ok(());
    }
    let state = [
        ("state", text(decision.node_state())),
        ("updated_at_ms", Value::Integer(now_ms)),
    ];
    if update_row(conn, schema, NODES, &state, key)? > 0 {
        return Ok(());
    }
    // No node row yet: insert it the way Smithers' upsert does.
    let mut row: Vec<(&str, Value)> = key.to_vec();
    row.extend(state);
    row.push(("last_attempt", Value::Null));
    row.push(("output_table", text("")));
    row.push(("label", Value::Null));
    insert_row(conn, schema, NODES, &row)
}

/// UPDATE of the columns this table has; returns the number of rows changed.
fn update_row(
    conn: &Connection,
    schema: &Schema,
    table: &str,
    set: &[(&str, Value)],
    key: &[(&str, Value)],
) -> rusqlite::Result<usize> {
    let set = existing(schema, table, set);
    let key = existing(schema, table, key);
    if set.is_empty() {
        return Ok(0);
    }
    let assignments = numbered(&set, 1, ", ");
    let filter = numbered(&key, set.len() + 1, " AND ");
    let filter = if filter.is_empty() {
        "1".to_string()
    } else {
        filter
    };
    let sql = format!("UPDATE {} SET {assignments} WHERE {filter}", quote(table));
    let values = set.iter().chain(&key).map(|(_, v)| v);
    conn.execute(&sql, params_from_iter(values))
}

fn insert_row(
    conn: &Connection,
    schema: &Schema,
    table: &str,
    row: &[(&str, Value)],
) -> rusqlite::Result<()> {
    let row = existing(schema, table, row);
    let columns = row
        .iter()
        .map(|(c, _)| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let slots = (1..=row.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("INSERT INTO {} ({columns}) VALUES ({slots})", quote(table));
    conn.execute(&sql, params_from_iter(row.iter().map(|(_, v)| v)))?;
    Ok(())
}

/// Only the columns the table has: older Smithers versions lack some.
fn existing<'a>(
    schema: &Schema,
    table: &str,
    pairs: &'a [(&'a str, Value)],
) -> Vec<&'a (&'a str, Value)> {
    pairs
        .iter()
        .filter(|(c, _)| schema.has_column(table, c))
        .collect()
}

fn numbered(pairs: &[&(&str, Value)], first: usize, sep: &str) -> String {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{} = ?{}", quote(c), first + i))
        .collect::<Vec<_>>()
        .join(sep)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_keeps_smithers_key_order_and_escapes() {
        assert_eq!(
            decision_payload("ApprovalGranted", "r\"1", "gate", 2, 1700),
            r#"{"type":"ApprovalGranted","runId":"r\"1","nodeId":"gate","iteration":2,"timestampMs":1700}"#
        );
    }

    fn gate(node: &str, iteration: i64, status: GateStatus) -> GateView {
        GateView {
            node_id: node.into(),
            iteration,
            status,
            requested_at_ms: None,
            decided_at_ms: Some(5),
            note: None,
            decided_by: Some("bob".into()),
        }
    }

    #[test]
    fn picks_the_single_open_gate_or_explains_why_not() {
        let gates = [
            gate("a", 0, GateStatus::Approved),
            gate("b", 0, GateStatus::Requested),
        ];
        assert_eq!(pick_gate(&gates, "r", None, None).unwrap().node_id, "b");
        assert!(matches!(
            pick_gate(&gates, "r", Some("a"), None),
            Err(Error::AlreadyDecided {
                decision: GateStatus::Approved,
                ..
            })
        ));
        assert!(matches!(
            pick_gate(&gates, "r", Some("c"), None),
            Err(Error::GateNotOpen { .. })
        ));
        assert!(matches!(
            pick_gate(&gates[..1], "r", None, None),
            Err(Error::GateNotOpen { .. })
        ));
        let two = [
            gate("a", 0, GateStatus::Requested),
            gate("b", 0, GateStatus::Requested),
        ];
        assert!(matches!(
            pick_gate(&two, "r", None, None),
            Err(Error::AmbiguousGate { .. })
        ));
        assert_eq!(pick_gate(&two, "r", Some("a"), None).unwrap().node_id, "a");
    }

    #[test]
    fn a_node_with_several_open_iterations_decides_the_latest() {
        let gates = [
            gate("a", 0, GateStatus::Requested),
            gate("a", 1, GateStatus::Requested),
        ];
        assert_eq!(pick_gate(&gates, "r", None, None).unwrap().iteration, 1);
        assert_eq!(
            pick_gate(&gates, "r", Some("a"), Some(0))
                .unwrap()
                .iteration,
            0
        );
    }
}
