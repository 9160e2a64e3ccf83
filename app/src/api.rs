//! Server functions: the pages' only way to the run service.
//!
//! Each body runs on the server, where `fabrik-server` provides per request an
//! `Arc<dyn RunService>` and the caller's `Actor` as Leptos context.
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

/// Largest log slice one call returns.
pub const MAX_LOG_CHUNK: u64 = 512 * 1024;

#[cfg(feature = "ssr")]
mod ctx {
    use crate::error::AppError;
    use domain::service::{Actor, RunService};
    use domain::ErrorCode;
    use std::sync::Arc;

    pub fn service() -> Result<Arc<dyn RunService>, AppError> {
        leptos::prelude::use_context::<Arc<dyn RunService>>().ok_or_else(|| {
            AppError::new(
                ErrorCode::Internal,
                "The run service is not available to this page. Restart fabrik-server; \
                 if it persists, report it as a bug.",
            )
        })
    }

    pub fn actor() -> Result<Actor, AppError> {
        leptos::prelude::use_context::<Actor>().ok_or_else(|| {
            AppError::new(
                ErrorCode::Unauthorized,
                "You are not signed in. Sign in and try again.",
            )
        })
    }

    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// One page of runs matching `filter` (newest first).
#[server(endpoint = "list_runs", input = Json)]
pub async fn list_runs(filter: RunFilter) -> Result<RunListing, AppError> {
    let page = ctx::service()?.list_runs(filter).await?;
    Ok(RunListing {
        page,
        now_ms: ctx::now_ms(),
    })
}

/// Everything the run and feedback pages show.
#[server(endpoint = "get_run", input = Json)]
pub async fn get_run(run_id: String) -> Result<RunDetail, AppError> {
    Ok(ctx::service()?.get_run(&run_id).await?)
}

/// Starts a run; the caller navigates to `/runs/<run_id>`.
#[server(endpoint = "dispatch_run", input = Json)]
pub async fn dispatch_run(request: DispatchRequest) -> Result<Dispatched, AppError> {
    let request = request.normalized()?;
    let actor = ctx::actor()?;
    Ok(ctx::service()?.dispatch(&actor, request).await?)
}

#[server(endpoint = "cancel_run", input = Json)]
pub async fn cancel_run(run_id: String) -> Result<RunSummary, AppError> {
    let actor = ctx::actor()?;
    Ok(ctx::service()?.cancel(&actor, &run_id).await?)
}

#[server(endpoint = "resume_run", input = Json)]
pub async fn resume_run(run_id: String) -> Result<RunSummary, AppError> {
    let actor = ctx::actor()?;
    Ok(ctx::service()?.resume(&actor, &run_id).await?)
}

/// Approves or rejects the run's open human gate.
#[server(endpoint = "submit_feedback", input = Json)]
pub async fn submit_feedback(
    run_id: String,
    decision: Decision,
    notes: Option<String>,
) -> Result<RunSummary, AppError> {
    let request = domain::feedback::FeedbackRequest { decision, notes };
    request.validate()?;
    let actor = ctx::actor()?;
    Ok(ctx::service()?.feedback(&actor, &run_id, request).await?)
}

#[server(endpoint = "list_templates", input = Json)]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, AppError> {
    Ok(ctx::service()?.templates().await?)
}

/// A slice of the run's log from byte `offset`, at most `max_bytes` long.
#[server(endpoint = "read_logs", input = Json)]
pub async fn read_logs(run_id: String, offset: u64, max_bytes: u64) -> Result<LogChunk, AppError> {
    let max_bytes = max_bytes.clamp(1, MAX_LOG_CHUNK);
    Ok(ctx::service()?.logs(&run_id, offset, max_bytes).await?)
}
