//! Rows of the workflow's own output tables, and what they say about reviews and tokens.
use std::collections::BTreeMap;

use domain::run::{OutputRow, ReviewVerdict, TokenUsage};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use serde_json::{Map, Value};

use crate::schema::{quote, Schema};

/// Columns every output table has; they live in `OutputRow` itself, not in `fields`.
const KEY_COLUMNS: [&str; 3] = ["run_id", "node_id", "iteration"];

pub(crate) fn read_outputs(
    conn: &Connection,
    schema: &Schema,
    run_id: Option<&str>,
) -> rusqlite::Result<Vec<OutputRow>> {
    let mut rows = Vec::new();
    for table in schema.output_tables() {
        rows.extend(read_output_table(conn, schema, table, run_id)?);
    }
    Ok(rows)
}

fn read_output_table(
    conn: &Connection,
    schema: &Schema,
    table: &str,
    run_id: Option<&str>,
) -> rusqlite::Result<Vec<OutputRow>> {
    let columns = schema.columns(table);
    let list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let order = schema.insertion_order(table);
    // Without a run (a DB with no `_smithers_runs`) every row is the run's.
    let filter = if run_id.is_some() {
        "WHERE run_id = ?1"
    } else {
        "WHERE ?1 IS NULL"
    };
    let sql = format!(
        "SELECT {list} FROM {} {filter} ORDER BY {order}",
        quote(table)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut result = stmt.query([run_id])?;
    let mut rows = Vec::new();
    while let Some(row) = result.next()? {
        rows.push(output_row(table, columns, row)?);
    }
    Ok(rows)
}

fn output_row(table: &str, columns: &[String], row: &Row) -> rusqlite::Result<OutputRow> {
    let mut out = OutputRow {
        table: table.to_string(),
        node_id: None,
        iteration: 0,
        fields: Map::new(),
    };
    for (i, column) in columns.iter().enumerate() {
        let value = json_value(row.get_ref(i)?);
        match column.as_str() {
            "node_id" => out.node_id = value.as_str().map(String::from),
            "iteration" => out.iteration = value.as_i64().unwrap_or(0),
            c if KEY_COLUMNS.contains(&c) => {}
            c => {
                out.fields.insert(c.to_string(), value);
            }
        }
    }
    Ok(out)
}

/// SQLite value → JSON: numbers stay numbers, JSON-looking text is decoded.
fn json_value(value: ValueRef) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(bytes) => text_value(&String::from_utf8_lossy(bytes)),
        ValueRef::Blob(bytes) => Value::String(format!("<{} bytes>", bytes.len())),
    }
}

fn text_value(text: &str) -> Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(v) = serde_json::from_str(text) {
            return v;
        }
    }
    Value::String(text.to_string())
}

/// Reviewer verdicts: rows of tables named like "review" that have a `reviewer` column.
pub(crate) fn reviews_from(schema: &Schema, outputs: &[OutputRow]) -> Vec<ReviewVerdict> {
    outputs
        .iter()
        .filter(|row| row.table.contains("review") && schema.has_column(&row.table, "reviewer"))
        .map(review_verdict)
        .collect()
}

fn review_verdict(row: &OutputRow) -> ReviewVerdict {
    let field = |name: &str| row.fields.get(name).unwrap_or(&Value::Null);
    ReviewVerdict {
        reviewer: plain_text(field("reviewer")).unwrap_or_default(),
        approved: as_bool(field("approved")),
        summary: plain_text(field("summary")),
        issues: issue_lines(field("issues")),
        node_id: row.node_id.clone(),
        iteration: row.iteration,
    }
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|n| n != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn plain_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn issue_lines(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(issue_line).collect(),
        Value::Null => Vec::new(),
        Value::String(s) if s.trim().is_empty() => Vec::new(),
        other => issue_line(other).into_iter().collect(),
    }
}

/// One issue as a line: strings as they are; objects by their text field, prefixed
/// with the file (and line) they point at, else as compact JSON.
fn issue_line(item: &Value) -> Option<String> {
    let obj = match item {
        Value::Null => return None,
        Value::String(s) => return Some(s.clone()),
        Value::Object(obj) => obj,
        other => return Some(other.to_string()),
    };
    let text = [
        "description",
        "message",
        "title",
        "issue",
        "text",
        "summary",
    ]
    .iter()
    .find_map(|k| obj.get(*k).and_then(Value::as_str));
    let Some(text) = text else {
        return Some(item.to_string());
    };
    let place = ["file", "path"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str));
    Some(match (place, obj.get("line").and_then(Value::as_i64)) {
        (Some(file), Some(line)) => format!("{file}:{line}: {text}"),
        (Some(file), None) => format!("{file}: {text}"),
        _ => text.to_string(),
    })
}

/// Token usage that workflows record in their own output columns (`input_tokens`,
/// `output_tokens`, optionally `model` and `cache_read_tokens`…), summed per model.
pub(crate) fn tokens_from_outputs(schema: &Schema, outputs: &[OutputRow]) -> Vec<TokenUsage> {
    let mut per_model: BTreeMap<String, TokenUsage> = BTreeMap::new();
    let with_tokens = outputs.iter().filter(|row| {
        schema.has_column(&row.table, "input_tokens")
            && schema.has_column(&row.table, "output_tokens")
    });
    for row in with_tokens {
        let model = row
            .fields
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let usage = per_model
            .entry(model.to_string())
            .or_insert_with(|| TokenUsage {
                model: model.to_string(),
                ..TokenUsage::default()
            });
        usage.input_tokens += count(row.fields.get("input_tokens"));
        usage.output_tokens += count(row.fields.get("output_tokens"));
        usage.cache_read_tokens += count(row.fields.get("cache_read_tokens"));
        usage.cache_write_tokens += count(row.fields.get("cache_write_tokens"));
        usage.reasoning_tokens += count(row.fields.get("reasoning_tokens"));
    }
    per_model.into_values().collect()
}

fn count(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}
