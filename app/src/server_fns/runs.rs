//! Server functions for runs: list, detail, dispatch, cancel, resume, gate decisions,
//! templates and logs.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx};
use crate::error::AppError;
use domain::dispatch::{DispatchRequest, Dispatched};
use domain::feedback::Decision;
use domain::filter::RunFilter;
use domain::run::{LogChunk, RunDetail, RunPage, RunSummary};
use domain::template::TemplateSummary;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// One page of the runs list plus the server's clock, so relative times render the
/// same on the server and during hydration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunListing {
    pub page: RunPage,
    pub now_ms: i64,
}

/// One page of runs matching `filter` (newest first).
#[server(endpoint = "list_runs", input = Json, output = JsonText)]
pub async fn list_runs(filter: RunFilter) -> Result<RunListing, AppError> {
    let result = async move {
        let actor = actor()?;
        let page = ctx::service()?.list_runs(&actor, filter).await?;
        Ok(RunListing {
            page,
            now_ms: ctx::now_ms(),
        })
    }
    .await;
    answer(result)
}

/// Everything the run and feedback pages show.
#[server(endpoint = "get_run", input = Json, output = JsonText)]
pub async fn get_run(run_id: String) -> Result<RunDetail, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.get_run(&actor, &run_id).await?)
    }
    .await;
    answer(result)
}

/// Starts a run; the caller navigates to `/runs/<run_id>`.
#[server(endpoint = "dispatch_run", input = Json, output = JsonText)]
pub async fn dispatch_run(request: DispatchRequest) -> Result<Dispatched, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.dispatch(&actor, request).await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "cancel_run", input = Json, output = JsonText)]
pub async fn cancel_run(run_id: String) -> Result<RunSummary, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.cancel(&actor, &run_id).await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "resume_run", input = Json, output = JsonText)]
pub async fn resume_run(run_id: String) -> Result<RunSummary, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.resume(&actor, &run_id).await?)
    }
    .await;
    answer(result)
}

/// Approves or rejects the run's open human gate.
#[server(endpoint = "submit_feedback", input = Json, output = JsonText)]
pub async fn submit_feedback(
    run_id: String,
    decision: Decision,
    notes: Option<String>,
) -> Result<RunSummary, AppError> {
    let result = async move {
        let actor = actor()?;
        let request = domain::feedback::FeedbackRequest { decision, notes };
        Ok(ctx::service()?.feedback(&actor, &run_id, request).await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "list_templates", input = Json, output = JsonText)]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.templates(&actor).await?)
    }
    .await;
    answer(result)
}

/// A slice of the run's log from byte `offset`, at most `max_bytes` long (the service
/// caps it at [`domain::run::MAX_LOG_CHUNK`]).
#[server(endpoint = "read_logs", input = Json, output = JsonText)]
pub async fn read_logs(run_id: String, offset: u64, max_bytes: u64) -> Result<LogChunk, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?
            .logs(&actor, &run_id, offset, max_bytes)
            .await?)
    }
    .await;
    answer(result)
}

/// `/runs/board`: the active runs' tasks in lanes, and the server's clock.
#[server(endpoint = "runs_board", input = Json, output = JsonText)]
pub async fn runs_board() -> Result<(domain::board::Board, i64), AppError> {
    let result = async move {
        let board = ctx::service()?.board(&actor()?).await?;
        Ok((board, ctx::now_ms()))
    }
    .await;
    answer(result)
}

/// `/runs/activity`: the newest events of all runs, and the server's clock.
#[server(endpoint = "runs_activity", input = Json, output = JsonText)]
pub async fn runs_activity(
    limit: u32,
) -> Result<(Vec<domain::board::ActivityItem>, i64), AppError> {
    let result = async move {
        let events = ctx::service()?.activity(&actor()?, limit).await?;
        Ok((events, ctx::now_ms()))
    }
    .await;
    answer(result)
}
