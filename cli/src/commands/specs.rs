//! `fabrik spec list|show|validate FILE` and `fabrik todo generate|approve`.
use super::Session;
use crate::client::segment;
use crate::client::typed;
use crate::error::{CliError, Result};
use crate::output::{self, Cell, Table, Tone};
use domain::spec::{SpecSummary, SpecView};
use serde_json::{json, Value};
use std::path::Path;

fn summary_table(specs: &[SpecSummary]) -> Table {
    Table {
        headers: vec!["id", "title", "status", "goals", "todo", "updated by"],
        rows: specs
            .iter()
            .map(|s| {
                let tone = if s.status == "ready" {
                    Tone::Good
                } else {
                    Tone::Plain
                };
                vec![
                    s.id.clone().into(),
                    s.title.clone().into(),
                    Cell::toned(s.status.clone(), tone),
                    s.goals.to_string().into(),
                    serde_json::to_value(s.todo)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                        .into(),
                    s.updated_by.clone().into(),
                ]
            })
            .collect(),
    }
}

pub async fn list(s: &Session) -> Result<i32> {
    let all: Value = s.client.get("/specs").await?;
    output::print(s.format, &all, |v| {
        Ok(summary_table(&typed::<Vec<SpecSummary>>(&v["specs"])?))
    })?;
    Ok(0)
}

pub async fn show(s: &Session, id: &str) -> Result<i32> {
    let view: Value = s.client.get(&format!("/specs/{}", segment(id))).await?;
    output::print(s.format, &view, |v| {
        let view: SpecView = typed(v)?;
        let row = |k: &'static str, v: String| vec![Cell::toned(k, Tone::Dim), v.into()];
        let mut rows = vec![
            row("id", view.spec.id.clone()),
            row("title", view.spec.title.clone()),
            row("status", view.spec.status.to_string()),
        ];
        rows.extend(view.spec.goals.iter().map(|g| row("goal", g.clone())));
        if let Some(todo) = &view.todo {
            rows.push(row("todo", format!("{} tasks", todo.todo.tasks.len())));
        }
        Ok(Table {
            headers: vec!["field", "value"],
            rows,
        })
    })?;
    Ok(0)
}

/// Checks a spec file with the server's rules; every problem named (exit 2 if any).
pub async fn validate(s: &Session, file: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    let spec: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{} is not JSON: {e}", file.display())))?;
    let answer: Value = s.client.post("/specs/validate", &spec).await?;
    output::print(s.format, &answer, |_| {
        Ok(Table {
            headers: vec!["file", "result"],
            rows: vec![vec![
                file.display().to_string().into(),
                Cell::toned("valid", Tone::Good),
            ]],
        })
    })?;
    Ok(0)
}

/// `generate` (a todo from the spec) or `approve` (the spec is then ready to dispatch).
pub async fn todo(s: &Session, id: &str, action: &str) -> Result<i32> {
    let path = match action {
        "approve" => format!("/specs/{}/todo/approve", segment(id)),
        _ => format!("/specs/{}/todo", segment(id)),
    };
    let view: Value = s.client.post(&path, &json!({})).await?;
    output::print(s.format, &view, |v| {
        let view: SpecView = typed(v)?;
        let tasks = view.todo.as_ref().map_or(0, |t| t.todo.tasks.len());
        Ok(Table {
            headers: vec!["spec", "status", "tasks"],
            rows: vec![vec![
                view.spec.id.into(),
                view.spec.status.to_string().into(),
                tasks.to_string().into(),
            ]],
        })
    })?;
    Ok(0)
}
