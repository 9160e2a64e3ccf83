//! The one service layer: the JSON API, the pages' server functions and (through the
//! API) the CLI all call this trait, so no rule lives in two places.
use crate::dispatch::{DispatchRequest, Dispatched};
use crate::error::Result;
use crate::feedback::FeedbackRequest;
use crate::filter::RunFilter;
use crate::run::{LogChunk, RunDetail, RunPage, RunSummary};
use crate::template::TemplateSummary;
use serde::{Deserialize, Serialize};

/// Who asked for a change, and from where; recorded in the audit log and as Smithers
/// `decided_by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub from: Option<String>,
}

#[async_trait::async_trait]
pub trait RunService: Send + Sync + 'static {
    async fn list_runs(&self, filter: RunFilter) -> Result<RunPage>;
    async fn get_run(&self, run_id: &str) -> Result<RunDetail>;
    async fn dispatch(&self, actor: &Actor, request: DispatchRequest) -> Result<Dispatched>;
    async fn cancel(&self, actor: &Actor, run_id: &str) -> Result<RunSummary>;
    async fn resume(&self, actor: &Actor, run_id: &str) -> Result<RunSummary>;
    async fn feedback(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> Result<RunSummary>;
    async fn logs(&self, run_id: &str, offset: u64, max_bytes: u64) -> Result<LogChunk>;
    async fn templates(&self) -> Result<Vec<TemplateSummary>>;
}
