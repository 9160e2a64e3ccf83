//! `fabrik runs list|show|logs|cancel|resume` and `fabrik feedback`.
use super::Session;
use crate::client::{segment, typed};
use crate::error::{CliError, Result};
use crate::output::{self, Cell, Table, Tone};
use domain::run::{RunDetail, RunPage, RunStatus, RunSummary};
use futures::StreamExt;
use serde_json::{json, Value};
use std::io::Write;

/// `runs list` filters, as the API takes them.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<String>,
    pub template: Option<String>,
    pub spec: Option<String>,
    pub query: Option<String>,
    pub limit: Option<u32>,
}

impl ListFilter {
    fn query_string(&self) -> String {
        let pairs = [
            ("status", self.status.clone()),
            ("template", self.template.clone()),
            ("spec", self.spec.clone()),
            ("q", self.query.clone()),
            ("limit", self.limit.map(|n| n.to_string())),
        ];
        let set: Vec<String> = pairs
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", segment(&v))))
            .collect();
        match set.is_empty() {
            true => String::new(),
            false => format!("?{}", set.join("&")),
        }
    }
}

pub async fn list(s: &Session, filter: ListFilter) -> Result<i32> {
    let page: Value = s
        .client
        .get(&format!("/runs{}", filter.query_string()))
        .await?;
    output::print(s.format, &page, |page| {
        Ok(runs_table(&typed::<RunPage>(page)?.runs))
    })?;
    Ok(0)
}

/// Like `kubectl get -w`: the runs, then a line for each run whose status, progress or
/// task changes (JSON: one object per line), until interrupted.
pub async fn watch(s: &Session, filter: ListFilter) -> Result<i32> {
    let path = format!("/runs{}", filter.query_string());
    let mut seen: std::collections::HashMap<String, (RunStatus, u32, u32, Option<String>)> =
        Default::default();
    let mut first = true;
    loop {
        let page: RunPage = s.client.get(&path).await?;
        let changed: Vec<RunSummary> = page
            .runs
            .into_iter()
            .rev()
            .filter(|r| {
                let now = (
                    r.status,
                    r.progress.finished,
                    r.progress.total,
                    r.task.clone(),
                );
                seen.insert(r.run_id.clone(), now.clone()) != Some(now)
            })
            .collect();
        print_changes(s, &changed, first)?;
        first = false;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn print_changes(s: &Session, runs: &[RunSummary], header: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match s.format {
        output::Format::Table => {
            let rendered = runs_table(runs).render(output::colour());
            let skip = if header { 0 } else { 1 };
            for line in rendered.lines().skip(skip) {
                writeln!(out, "{line}")?;
            }
        }
        _ => {
            for run in runs {
                let line =
                    serde_json::to_string(run).map_err(|e| CliError::Failed(e.to_string()))?;
                writeln!(out, "{line}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

pub async fn show(s: &Session, id: &str) -> Result<i32> {
    let detail = match from_daemon(s, id).await {
        Some(answer) => answer?,
        None => s.client.get(&run_path(id)).await?,
    };
    output::print(s.format, &detail, |d| {
        Ok(detail_table(&typed::<RunDetail>(d)?))
    })?;
    Ok(0)
}

/// The log so far; with `follow`, what the run writes after, until it can write no more.
pub async fn logs(s: &Session, id: &str, follow: bool) -> Result<i32> {
    let path = format!(
        "{}/logs{}",
        run_path(id),
        if follow { "?follow=true" } else { "" }
    );
    let response = s.client.stream(&path).await?;
    let mut body = response.bytes_stream();
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| CliError::Failed(format!("the log stream broke: {e}")))?;
        out.write_all(&chunk)?;
        out.flush()?;
    }
    Ok(0)
}

pub async fn cancel(s: &Session, id: &str) -> Result<i32> {
    let summary: Value = s
        .client
        .post(&format!("{}/cancel", run_path(id)), &json!({}))
        .await?;
    output::print(s.format, &summary, |v| {
        Ok(runs_table(&[typed::<RunSummary>(v)?]))
    })?;
    Ok(0)
}

pub async fn resume(s: &Session, id: &str) -> Result<i32> {
    let summary: Value = s
        .client
        .post(&format!("{}/resume", run_path(id)), &json!({}))
        .await?;
    output::print(s.format, &summary, |v| {
        Ok(runs_table(&[typed::<RunSummary>(v)?]))
    })?;
    Ok(0)
}

/// Approves or rejects the run's open gate, as the web page's buttons do.
pub async fn feedback(s: &Session, id: &str, approve: bool, notes: Option<String>) -> Result<i32> {
    let decision = if approve { "approve" } else { "reject" };
    let body = json!({"decision": decision, "notes": notes});
    let answer: Value = s
        .client
        .post(&format!("{}/feedback", run_path(id)), &body)
        .await?;
    output::print(s.format, &answer, |_| {
        Ok(Table {
            headers: vec!["run", "decision"],
            rows: vec![vec![id.into(), decision.into()]],
        })
    })?;
    Ok(0)
}

/// The run's detail from the daemon, when one runs for this context.
async fn from_daemon(s: &Session, id: &str) -> Option<Result<Value>> {
    let context = s.context.clone()?;
    let request = crate::daemon::Request::Show {
        context,
        run_id: id.to_string(),
    };
    let answer = crate::daemon::ask(&request).await?;
    if let Some(detail) = answer.get("detail") {
        return Some(Ok(detail.clone()));
    }
    let message = answer["error"]
        .as_str()
        .unwrap_or("The daemon could not answer.");
    // The server's refusal, with its exit code; anything else: ask the server itself.
    let status = match answer["exit"].as_i64()? {
        5 => 404,
        4 => 403,
        3 => 401,
        _ => return None,
    };
    Some(Err(CliError::from_api(status, message.to_string())))
}

pub fn run_path(id: &str) -> String {
    format!("/runs/{}", segment(id))
}

pub fn tone(status: RunStatus) -> Tone {
    match status {
        RunStatus::Finished => Tone::Good,
        RunStatus::WaitingApproval => Tone::Warn,
        RunStatus::Failed => Tone::Bad,
        RunStatus::Cancelled => Tone::Dim,
        RunStatus::Pending | RunStatus::Running => Tone::Plain,
    }
}

pub fn runs_table(runs: &[RunSummary]) -> Table {
    Table {
        headers: vec![
            "run", "status", "template", "spec", "progress", "task", "created",
        ],
        rows: runs
            .iter()
            .map(|r| {
                vec![
                    r.run_id.clone().into(),
                    Cell::toned(r.status.as_str(), tone(r.status)),
                    r.template.clone().into(),
                    r.spec.clone().unwrap_or_else(|| "-".into()).into(),
                    format!("{}/{}", r.progress.finished, r.progress.total).into(),
                    r.task.clone().unwrap_or_else(|| "-".into()).into(),
                    domain::time::rfc3339(r.created_at_ms)[..19]
                        .replace('T', " ")
                        .into(),
                ]
            })
            .collect(),
    }
}

fn detail_table(d: &RunDetail) -> Table {
    let s = &d.summary;
    let row = |k: &'static str, v: String| vec![Cell::toned(k, Tone::Dim), v.into()];
    let mut rows = vec![
        row("run", s.run_id.clone()),
        vec![
            Cell::toned("status", Tone::Dim),
            Cell::toned(s.status.as_str(), tone(s.status)),
        ],
        row("template", s.template.clone()),
        row("spec", s.spec.clone().unwrap_or_else(|| "-".into())),
        row("phase", s.phase.clone()),
        row("task", s.task.clone().unwrap_or_else(|| "-".into())),
        row(
            "progress",
            format!("{}/{}", s.progress.finished, s.progress.total),
        ),
        row("backend", d.execution.backend.clone()),
        row(
            "exit code",
            d.execution.exit_code.map_or("-".into(), |c| c.to_string()),
        ),
    ];
    if let Some(e) = &s.error {
        rows.push(row("error", e.clone()));
    }
    if d.actions.feedback {
        rows.push(row(
            "gate",
            format!(
                "waiting: fabrik feedback --id {} --approve|--reject",
                s.run_id
            ),
        ));
    }
    Table {
        headers: vec!["field", "value"],
        rows,
    }
}
