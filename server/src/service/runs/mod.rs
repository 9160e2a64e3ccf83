//! Runs: dispatch, the process lifecycle (events, cancel, resume), gate decisions,
//! observation of the Smithers DB, and logs — each in its own module.
mod board;
mod dispatch;
pub(crate) use dispatch::{SPEC_FILE, TODO_FILE};
mod found;
mod gates;
mod lifecycle;
mod logs;
mod observe;
pub(crate) use observe::snapshot_or_problem;

use super::{public, Service};
use domain::auth::Action;
use domain::board::{ActivityItem, Board, ACTIVITY_MAX};
use domain::dispatch::{DispatchRequest, Dispatched};
use domain::feedback::FeedbackRequest;
use domain::filter::RunFilter;
use domain::run::{LogChunk, RunDetail, RunPage, RunSummary};
use domain::service::{Actor, RunService};
use domain::template::{Template, TemplateSummary};

use crate::store::RunRecord;

#[async_trait::async_trait]
impl RunService for Service {
    #[tracing::instrument(name = "service.list_runs", skip_all)]
    async fn list_runs(&self, actor: &Actor, filter: RunFilter) -> domain::Result<RunPage> {
        actor.role.require(Action::View)?;
        let (rows, next_cursor) = public(self.store.list_runs(filter).await)?;
        Ok(RunPage {
            runs: rows.iter().map(RunRecord::summary).collect(),
            next_cursor,
        })
    }

    #[tracing::instrument(name = "service.get_run", skip(self, actor))]
    async fn get_run(&self, actor: &Actor, run_id: &str) -> domain::Result<RunDetail> {
        actor.role.require(Action::View)?;
        public(self.detail(run_id).await)
    }

    #[tracing::instrument(name = "service.dispatch", skip_all)]
    async fn dispatch(
        &self,
        actor: &Actor,
        request: DispatchRequest,
    ) -> domain::Result<Dispatched> {
        public(self.dispatch_run(actor, request).await)
    }

    #[tracing::instrument(name = "service.cancel", skip(self, actor))]
    async fn cancel(&self, actor: &Actor, run_id: &str) -> domain::Result<RunSummary> {
        public(self.cancel_run(actor, run_id).await)
    }

    #[tracing::instrument(name = "service.resume", skip(self, actor))]
    async fn resume(&self, actor: &Actor, run_id: &str) -> domain::Result<RunSummary> {
        public(self.resume_run(actor, run_id).await)
    }

    #[tracing::instrument(name = "service.feedback", skip(self, actor, request))]
    async fn feedback(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> domain::Result<RunSummary> {
        public(self.decide_gate(actor, run_id, request).await)
    }

    #[tracing::instrument(name = "service.logs", skip(self, actor))]
    async fn logs(
        &self,
        actor: &Actor,
        run_id: &str,
        offset: u64,
        max_bytes: u64,
    ) -> domain::Result<LogChunk> {
        actor.role.require(Action::View)?;
        public(self.read_log(run_id, offset, max_bytes).await)
    }

    #[tracing::instrument(name = "service.templates", skip_all)]
    async fn templates(&self, actor: &Actor) -> domain::Result<Vec<TemplateSummary>> {
        actor.role.require(Action::View)?;
        let all = public(self.templates.list())?;
        Ok(all.iter().map(Template::summary).collect())
    }

    #[tracing::instrument(name = "service.board", skip_all)]
    async fn board(&self, actor: &Actor) -> domain::Result<Board> {
        actor.role.require(Action::View)?;
        public(self.active_board().await)
    }

    #[tracing::instrument(name = "service.activity", skip(self, actor))]
    async fn activity(&self, actor: &Actor, limit: u32) -> domain::Result<Vec<ActivityItem>> {
        actor.role.require(Action::View)?;
        if limit == 0 || limit > ACTIVITY_MAX {
            return Err(domain::Error::bad_request(format!(
                "limit must be from 1 to {ACTIVITY_MAX}, not {limit}."
            )));
        }
        public(self.store.activity(limit).await)
    }

    #[tracing::instrument(name = "service.export_runs", skip_all)]
    async fn export_runs(
        &self,
        actor: &Actor,
        filter: RunFilter,
    ) -> domain::Result<Vec<RunSummary>> {
        actor.role.require(Action::View)?;
        public(self.all_matching(filter).await)
    }
}
