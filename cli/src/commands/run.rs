//! `fabrik run`: dispatches a run as the web form does; `--wait` follows it with a
//! progress line and exits as smithers does: 0 finished, 1 failed, 2 cancelled,
//! 3 waiting at its human gate.
use super::runs::run_path;
use super::Session;
use crate::client::typed;
use crate::error::Result;
use crate::output::{self, Table};
use domain::dispatch::DispatchRequest;
use domain::run::{RunDetail, RunStatus};
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(500);

pub async fn dispatch(s: &Session, request: DispatchRequest, wait: bool) -> Result<i32> {
    let dispatched: Value = s.client.post("/runs", &request).await?;
    let run_id = dispatched["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !wait {
        output::print(s.format, &dispatched, |_| {
            Ok(Table {
                headers: vec!["run", "next"],
                rows: vec![vec![
                    run_id.clone().into(),
                    format!("fabrik runs show {run_id}").into(),
                ]],
            })
        })?;
        return Ok(0);
    }
    eprintln!("Dispatched {run_id}.");
    let detail = follow(s, &run_id).await?;
    let summary = &detail.summary;
    let code = exit_code(summary.status);
    let ending = match summary.status {
        RunStatus::WaitingApproval => {
            format!("waiting at its gate: fabrik feedback --id {run_id} --approve|--reject")
        }
        status => status.label().to_lowercase(),
    };
    eprintln!("Run {run_id} {ending} (exit {code}).");
    let raw: Value = s.client.get(&run_path(&run_id)).await?;
    output::print(s.format, &raw, |v| {
        Ok(super::runs::runs_table(&[typed::<RunDetail>(v)?.summary]))
    })?;
    Ok(code)
}

/// Polls the run until it ends or waits for a person; a progress line on a terminal.
async fn follow(s: &Session, run_id: &str) -> Result<RunDetail> {
    let terminal = std::io::stderr().is_terminal();
    loop {
        let detail: RunDetail = s.client.get(&run_path(run_id)).await?;
        let status = detail.summary.status;
        if terminal {
            eprint!("\r\x1b[2K{}", progress_line(&detail));
            let _ = std::io::stderr().flush();
        }
        if !matches!(status, RunStatus::Pending | RunStatus::Running) {
            if terminal {
                eprintln!();
            }
            return Ok(detail);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `[#######.............] 7/20 implement · task-3`
pub fn progress_line(detail: &RunDetail) -> String {
    let s = &detail.summary;
    let (done, total) = (s.progress.finished, s.progress.total.max(1));
    let width = 20;
    let filled = (done as usize * width / total as usize).min(width);
    format!(
        "[{}{}] {}/{} {} · {}",
        "#".repeat(filled),
        ".".repeat(width - filled),
        s.progress.finished,
        s.progress.total,
        s.status.as_str(),
        s.task.as_deref().unwrap_or(&s.phase)
    )
}

/// As `smithers run` exits.
pub fn exit_code(status: RunStatus) -> i32 {
    match status {
        RunStatus::Finished => 0,
        RunStatus::Failed => 1,
        RunStatus::Cancelled => 2,
        RunStatus::WaitingApproval => 3,
        RunStatus::Pending | RunStatus::Running => 1,
    }
}
