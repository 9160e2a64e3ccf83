//! The one service layer: the JSON API, the pages' server functions and (through the
//! API) the CLI all call this trait, so no rule lives in two places.
use crate::auth::{AuditView, NewUser, Role, TokenView, UserChange, UserView};
use crate::backup::BackupView;
use crate::cost::PriceTable;
use crate::dispatch::{DispatchRequest, Dispatched};
use crate::env::{EnvSetSummary, EnvSetView, SaveEnvSet, SaveOutcome};
use crate::error::Result;
use crate::feedback::FeedbackRequest;
use crate::filter::RunFilter;
use crate::fleet::{CredentialsView, FleetView};
use crate::links::{LinkCheck, ObservabilityLinks};
use crate::metrics::{MetricsReport, RunCost, TimeRange};
use crate::notify::{
    ChannelKind, ChannelUpdate, ChannelView, DeviceView, NotifySettings, OutboxStatus,
    PushSubscription,
};
use crate::overview::Overview;
use crate::run::{LogChunk, RunDetail, RunPage, RunSummary};
use crate::schedule::{CronPreview, CronPreviewRequest, NewSchedule, ScheduleView};
use crate::spec::{Spec, SpecSummary, SpecView, Todo};
use crate::template::TemplateSummary;
use serde::{Deserialize, Serialize};

/// Who asks, with what role, and from where; checked by the service, recorded in the
/// audit log and as Smithers `decided_by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    pub from: Option<String>,
}

/// A new API token: the secret is shown once and only its hash is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: String,
    pub info: TokenView,
}

/// Users, API tokens and the audit log (pages, API and CLI call this, as for runs).
#[async_trait::async_trait]
pub trait AdminService: Send + Sync + 'static {
    async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>>;
    async fn create_user(&self, actor: &Actor, user: NewUser) -> Result<UserView>;
    async fn change_user(
        &self,
        actor: &Actor,
        username: &str,
        change: UserChange,
    ) -> Result<UserView>;
    /// The caller's own tokens.
    async fn list_tokens(&self, actor: &Actor) -> Result<Vec<TokenView>>;
    async fn create_token(&self, actor: &Actor, name: &str) -> Result<CreatedToken>;
    async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<()>;
    /// Newest first; `before_id` pages back.
    async fn audit_log(
        &self,
        actor: &Actor,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditView>>;
}

/// Runs. Every method gets the acting user, reads included, so per-resource rules
/// (who may see logs, secret values) are enforced in one place.
#[async_trait::async_trait]
pub trait RunService: Send + Sync + 'static {
    async fn list_runs(&self, actor: &Actor, filter: RunFilter) -> Result<RunPage>;
    /// Reads only: what the run's page shows, derived from its DB as it is now.
    async fn get_run(&self, actor: &Actor, run_id: &str) -> Result<RunDetail>;
    async fn dispatch(&self, actor: &Actor, request: DispatchRequest) -> Result<Dispatched>;
    async fn cancel(&self, actor: &Actor, run_id: &str) -> Result<RunSummary>;
    async fn resume(&self, actor: &Actor, run_id: &str) -> Result<RunSummary>;
    async fn feedback(
        &self,
        actor: &Actor,
        run_id: &str,
        request: FeedbackRequest,
    ) -> Result<RunSummary>;
    /// At most [`crate::run::MAX_LOG_CHUNK`] bytes from `offset`.
    async fn logs(
        &self,
        actor: &Actor,
        run_id: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<LogChunk>;
    async fn templates(&self, actor: &Actor) -> Result<Vec<TemplateSummary>>;
    /// The active runs' tasks in lanes (`/runs/board`).
    async fn board(&self, actor: &Actor) -> Result<crate::board::Board>;
    /// The newest `limit` events of all runs, newest first.
    async fn activity(&self, actor: &Actor, limit: u32) -> Result<Vec<crate::board::ActivityItem>>;
    /// Every run the filter matches (all pages; its limit and cursor are ignored).
    async fn export_runs(&self, actor: &Actor, filter: RunFilter) -> Result<Vec<RunSummary>>;
}

/// Env sets: per project and env, values encrypted at rest, versioned so no save
/// overwrites another silently.
#[async_trait::async_trait]
pub trait EnvService: Send + Sync + 'static {
    async fn list_env_sets(&self, actor: &Actor) -> Result<Vec<EnvSetSummary>>;
    /// Values masked unless `reveal` (operators and admins; audited).
    async fn get_env_set(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        reveal: bool,
    ) -> Result<EnvSetView>;
    async fn save_env_set(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        save: SaveEnvSet,
    ) -> Result<SaveOutcome>;
    async fn delete_env_set(&self, actor: &Actor, project: &str, env: &str) -> Result<()>;
    /// One value, for the editor's per-row reveal (operators and admins; audited).
    async fn reveal_env_value(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
        key: &str,
    ) -> Result<String>;
}

/// Specs and their todos: the wizard, the todo page, the API and the CLI.
#[async_trait::async_trait]
pub trait SpecService: Send + Sync + 'static {
    async fn list_specs(&self, actor: &Actor) -> Result<Vec<SpecSummary>>;
    async fn get_spec(&self, actor: &Actor, id: &str) -> Result<SpecView>;
    /// A new spec: it must pass fabrik's schema and every interview rule, and start as
    /// a draft.
    async fn create_spec(&self, actor: &Actor, spec: Spec) -> Result<SpecView>;
    /// Replaces a spec if it is still at `revision`; a changed spec goes back to draft
    /// and its todo must be approved again.
    async fn replace_spec(&self, actor: &Actor, spec: Spec, revision: i64) -> Result<SpecView>;
    async fn delete_spec(&self, actor: &Actor, id: &str) -> Result<()>;
    /// Generates (or regenerates) the spec's todo; it waits for approval.
    async fn generate_todo(&self, actor: &Actor, id: &str) -> Result<SpecView>;
    async fn save_todo(&self, actor: &Actor, id: &str, todo: Todo) -> Result<SpecView>;
    /// Approves the todo: the spec becomes ready to dispatch.
    async fn approve_todo(&self, actor: &Actor, id: &str) -> Result<SpecView>;
}

/// Schedules: a dispatch on a cron, with history (pages, API and CLI).
#[async_trait::async_trait]
pub trait ScheduleService: Send + Sync + 'static {
    async fn list_schedules(&self, actor: &Actor) -> Result<Vec<ScheduleView>>;
    async fn get_schedule(&self, actor: &Actor, name: &str) -> Result<ScheduleView>;
    /// Refused unless its cron, zone and dispatch (template, spec, env) are all usable.
    async fn create_schedule(&self, actor: &Actor, schedule: NewSchedule) -> Result<ScheduleView>;
    async fn delete_schedule(&self, actor: &Actor, name: &str) -> Result<()>;
    async fn suspend_schedule(
        &self,
        actor: &Actor,
        name: &str,
        suspend: bool,
    ) -> Result<ScheduleView>;
    /// Starts a run now, whatever the cron says (recorded as a manual fire).
    async fn trigger_schedule(&self, actor: &Actor, name: &str) -> Result<ScheduleView>;
    async fn cron_preview(&self, actor: &Actor, request: CronPreviewRequest)
        -> Result<CronPreview>;
}

/// The machines runs go to and the credentials they get (admin pages, API, CLI):
/// admins only.
#[async_trait::async_trait]
pub trait FleetService: Send + Sync + 'static {
    async fn fleet(&self, actor: &Actor) -> Result<FleetView>;
    async fn credentials(&self, actor: &Actor) -> Result<CredentialsView>;
    /// Moves the provider's runs to the next key of its pool (new runs; running ones
    /// keep theirs).
    async fn rotate_credential(&self, actor: &Actor, provider: &str) -> Result<CredentialsView>;
}

/// Token usage and cost over the runs, and the price table they are costed with.
#[async_trait::async_trait]
pub trait MetricsService: Send + Sync + 'static {
    async fn metrics(&self, actor: &Actor, range: TimeRange) -> Result<MetricsReport>;
    /// Every run created in range with its tokens and cost, newest first.
    async fn run_costs(&self, actor: &Actor, range: TimeRange) -> Result<Vec<RunCost>>;
    async fn price_table(&self, actor: &Actor) -> Result<PriceTable>;
    async fn set_price_table(&self, actor: &Actor, table: PriceTable) -> Result<PriceTable>;
    /// `/admin`: active runs, gates waiting, failures, upcoming schedules, machines.
    async fn overview(&self, actor: &Actor) -> Result<Overview>;
    /// Grafana, Loki and LAOS links (everyone signed in may follow them).
    async fn links(&self, actor: &Actor) -> Result<ObservabilityLinks>;
    async fn set_links(
        &self,
        actor: &Actor,
        links: ObservabilityLinks,
    ) -> Result<ObservabilityLinks>;
    /// Asks each link whether it answers, and says what to do about those that don't.
    async fn check_links(&self, actor: &Actor) -> Result<Vec<LinkCheck>>;
}

/// Backups of the server's state (admins).
#[async_trait::async_trait]
pub trait BackupService: Send + Sync + 'static {
    /// The most recent attempts, newest first.
    async fn backups(&self, actor: &Actor) -> Result<Vec<BackupView>>;
    async fn back_up_now(&self, actor: &Actor) -> Result<BackupView>;
}

/// Notifications: this user's subscribed browsers, and (admins) the alert channels and
/// site settings (pages, API and CLI).
#[async_trait::async_trait]
pub trait NotifyService: Send + Sync + 'static {
    /// What browsers pass to `pushManager.subscribe` as `applicationServerKey`.
    async fn vapid_public_key(&self, actor: &Actor) -> Result<String>;
    async fn devices(&self, actor: &Actor) -> Result<Vec<DeviceView>>;
    async fn subscribe_push(
        &self,
        actor: &Actor,
        subscription: PushSubscription,
        user_agent: Option<String>,
    ) -> Result<DeviceView>;
    /// By id (the list's Remove) or by endpoint (the browser unsubscribing itself).
    async fn unsubscribe_push(
        &self,
        actor: &Actor,
        id: Option<i64>,
        endpoint: Option<String>,
    ) -> Result<()>;
    /// Queues a test notification to each of the actor's browsers; how many.
    async fn test_push(&self, actor: &Actor) -> Result<usize>;
    async fn notify_settings(&self, actor: &Actor) -> Result<NotifySettings>;
    async fn save_notify_settings(
        &self,
        actor: &Actor,
        settings: NotifySettings,
    ) -> Result<NotifySettings>;
    /// Every channel, configured or not; secrets masked.
    async fn channels(&self, actor: &Actor) -> Result<Vec<ChannelView>>;
    async fn save_channel(
        &self,
        actor: &Actor,
        kind: ChannelKind,
        update: ChannelUpdate,
    ) -> Result<ChannelView>;
    async fn delete_channel(&self, actor: &Actor, kind: ChannelKind) -> Result<()>;
    /// Queues a test message on the saved settings; its outcome shows on the channel.
    async fn test_channel(&self, actor: &Actor, kind: ChannelKind) -> Result<()>;
    async fn outbox_status(&self, actor: &Actor) -> Result<OutboxStatus>;
}
