//! The Kubernetes backend: a run is a Job in the runs namespace, made as the real
//! fabrik CLI makes it (see `manifests`), watched through its pods: the `fabrik`
//! container's exit code is the run's, as a local process's is.
//!
//! A run's Smithers DB is read from the server's copy of it (`run_db`), pulled from
//! the run's volume; a gate decision is written back there and the run resumed by a
//! Job of its own on the same volume.
pub mod connect;
mod credentials;
mod env_sets;
mod fleet;
pub mod found;
mod logs;
pub mod manifests;
mod mirror;
pub mod rbac;
mod run_db;
pub mod schedules;
mod specs;
#[cfg(test)]
mod tests;
pub mod volume;
mod watch;

use crate::backend::{Backend, ChangeProbe, ExecEvent, Launch, RunLayout, SnapshotRead};
use crate::error::Result;
use crate::store::RunRecord;
use domain::feedback::Decision;
use domain::run::GateView;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use logs::RunLogs;
use manifests::{RunLabels, RunSettings};
use run_db::RunDbs;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

pub use connect::{connect, KubeTarget};

/// An object the backend writes into one of fabrik's namespaces.
trait Written:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + serde::Serialize
    + serde::de::DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Written for K where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::Serialize
        + serde::de::DeserializeOwned
        + std::fmt::Debug
{
}

pub struct KubeBackend {
    client: Client,
    settings: RunSettings,
    events: UnboundedSender<ExecEvent>,
    dbs: Arc<RunDbs>,
    logs: Arc<RunLogs>,
}

impl KubeBackend {
    /// `copies` is where the runs' Smithers DBs are copied to (in the data dir).
    pub fn new(
        client: Client,
        settings: RunSettings,
        events: UnboundedSender<ExecEvent>,
        copies: PathBuf,
    ) -> KubeBackend {
        let pods: Api<Pod> = Api::namespaced(client.clone(), &settings.namespace);
        let volumes = volume::Volumes::new(pods.clone(), settings.clone());
        let logs = RunLogs::new(pods, settings.namespace.clone(), copies.clone());
        let dbs = Arc::new(RunDbs::new(volumes, copies, events.clone()));
        KubeBackend {
            client,
            settings,
            events,
            dbs,
            logs: Arc::new(logs),
        }
    }

    /// Starts watching the runs' pods and Jobs, and copying running runs' DBs; exits
    /// reach the service as [`ExecEvent`]s.
    pub fn spawn_watcher(&self) {
        let ends = watch::PodEnds {
            events: self.events.clone(),
            dbs: self.dbs.clone(),
            logs: self.logs.clone(),
        };
        watch::spawn(self.pods(), ends);
        watch::spawn_jobs(self.api(), self.events.clone());
        let dbs = self.dbs.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(run_db::PULL_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                dbs.pull_running().await;
            }
        });
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.settings.namespace)
    }

    fn pods(&self) -> Api<Pod> {
        self.api()
    }

    async fn run_log(&self, run: &RunRecord) -> Result<Vec<u8>> {
        let running = self.dbs.running_pod(&run.run_id);
        self.logs.read(&run.run_id, running.as_deref()).await
    }

    /// Creates the object in `namespace`, or replaces it whole (keys it no longer has
    /// go too).
    async fn upsert<K: Written>(
        &self,
        namespace: &str,
        object: K,
        (create, update): (rbac::Permission, rbac::Permission),
    ) -> Result<()> {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let name = object.meta().name.clone().unwrap_or_default();
        match api.create(&PostParams::default(), &object).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(connect::explain(e, create, namespace)),
        }
        api.replace(&name, &PostParams::default(), &object)
            .await
            .map_err(|e| connect::explain(e, update, namespace))?;
        Ok(())
    }

    /// Deletes the object if it is there (gone already is fine).
    async fn delete_in<K: Written>(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
        asked: rbac::Permission,
    ) -> Result<()> {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        match api.delete(name, params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(connect::explain(e, asked, namespace)),
        }
    }

    async fn create<K: Written>(
        &self,
        object: &K,
        asked: rbac::Permission,
        tolerate_existing: bool,
    ) -> Result<()> {
        match self.api::<K>().create(&PostParams::default(), object).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && tolerate_existing => Ok(()),
            Err(e) => Err(connect::explain(e, asked, &self.settings.namespace)),
        }
    }
}

fn labels_for(launch: &Launch) -> RunLabels {
    RunLabels {
        spec: launch.spec.clone(),
        project: launch.project.clone(),
        phase: if launch.purpose == "resume" {
            "resume".into()
        } else {
            "implement".into()
        },
    }
}

#[async_trait::async_trait]
impl Backend for KubeBackend {
    fn name(&self) -> &'static str {
        "kube"
    }

    fn protection(&self) -> String {
        format!(
            "Kubernetes Job in namespace {}: its own pod, with only its PVC, its env Secret and the cluster's network policy",
            self.settings.namespace
        )
    }

    fn preflight(&self, launch: &Launch) -> Result<()> {
        if launch.command.is_empty() {
            return Err(domain::Error::bad_request(
                "The template has no command to run in the Job.",
            )
            .into());
        }
        Ok(())
    }

    async fn launch(&self, launch: Launch) -> Result<Option<u32>> {
        let run = labels_for(&launch);
        let s = &self.settings;
        self.hand_over_credentials().await?;
        if let Some(set) = &launch.env_set {
            self.hand_over_set(set).await?;
        }
        self.create(
            &manifests::env_secret(&launch, &run, s),
            rbac::CREATE_SECRETS,
            true,
        )
        .await?;
        if !launch.inputs.is_empty() {
            self.create(
                &manifests::inputs(&launch, &run, s),
                rbac::CREATE_CONFIGMAPS,
                true,
            )
            .await?;
        }
        // A resume reuses the run's PVC, where its Smithers DB is.
        self.create(&manifests::pvc(&launch, &run, s), rbac::CREATE_PVCS, true)
            .await?;
        let name = if launch.purpose == "resume" {
            manifests::resume_job_name(&launch.run_id, crate::clock::now_ms())
        } else {
            manifests::job_name(&launch.run_id)
        };
        self.create(
            &manifests::job(&launch, &run, s, name),
            rbac::CREATE_JOBS,
            false,
        )
        .await?;
        Ok(None)
    }

    /// Deletes the run's Jobs (its first and any resume's), pods first.
    async fn cancel(&self, run: &RunRecord) -> Result<()> {
        let ns = &self.settings.namespace;
        let selector = format!(
            "{}={}",
            manifests::RUN_ID,
            manifests::label_value(&run.run_id)
        );
        let jobs = self
            .api::<Job>()
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| connect::explain(e, rbac::LIST_JOBS, ns))?;
        let mut names: Vec<String> = jobs
            .items
            .into_iter()
            .filter_map(|j| j.metadata.name)
            .collect();
        // A CronJob's run is its Job, which has the CronJob's labels, not the run's.
        if manifests::cron_of(&run.run_id).is_some() {
            names.push(manifests::job_name(&run.run_id));
        }
        for name in names {
            let foreground = DeleteParams::foreground();
            self.delete_in::<Job>(ns, &name, &foreground, rbac::DELETE_JOBS)
                .await?;
        }
        Ok(())
    }

    async fn adopt(&self, _runs: Vec<RunRecord>) {
        // The pod watcher lists every run's pods when it starts: exits that happened
        // while the server was down arrive from there.
    }

    fn layout(&self, _run_id: &str) -> RunLayout {
        RunLayout {
            workspace: PathBuf::from(manifests::WORKSPACE),
            db_path: PathBuf::from(manifests::SMITHERS_DB),
            log_path: PathBuf::from("pod log of the fabrik container"),
        }
    }

    async fn snapshot(&self, run: &RunRecord) -> SnapshotRead {
        self.dbs.snapshot(&run.run_id).await
    }

    async fn has_run_db(&self, run: &RunRecord) -> bool {
        self.dbs.has_db(&run.run_id).await
    }

    async fn decide_gate(
        &self,
        run: &RunRecord,
        decision: Decision,
        notes: Option<String>,
        by: &str,
    ) -> Result<GateView> {
        self.dbs.decide(&run.run_id, decision, notes, by).await
    }

    async fn read_log(&self, run: &RunRecord, offset: u64, max: u64) -> Result<Vec<u8>> {
        let bytes = self.run_log(run).await?;
        let start = (offset as usize).min(bytes.len());
        let end = start.saturating_add(max as usize).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    async fn log_size(&self, run: &RunRecord) -> u64 {
        self.run_log(run).await.map(|b| b.len() as u64).unwrap_or(0)
    }

    fn change_probe(&self, run: &RunRecord) -> Box<dyn ChangeProbe> {
        self.dbs.probe(&run.run_id)
    }

    fn keeps_published(&self) -> bool {
        true
    }

    fn wanted(&self, run: &RunRecord) {
        self.dbs.fetch_if_missing(&run.run_id);
    }

    async fn publish_env_set(
        &self,
        project: &str,
        env: &str,
        vars: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        self.publish_set(project, env, vars).await
    }

    async fn withdraw_env_set(&self, project: &str, env: &str) -> Result<()> {
        self.withdraw_set(project, env).await
    }

    async fn publish_spec(&self, id: &str, files: &[crate::backend::RunInput]) -> Result<()> {
        self.publish_spec_files(id, files).await
    }

    async fn withdraw_spec(&self, id: &str) -> Result<()> {
        self.withdraw_spec_files(id).await
    }

    fn fires_schedules(&self) -> bool {
        true
    }

    async fn fleet(&self) -> domain::fleet::FleetView {
        self.fleet_view().await
    }

    async fn credentials(&self) -> Result<domain::fleet::CredentialsView> {
        self.credential_keys().await
    }

    async fn publish_schedule(&self, schedule: &crate::backend::ScheduledLaunch) -> Result<()> {
        self.publish_cron(schedule).await
    }

    async fn withdraw_schedule(&self, name: &str) -> Result<()> {
        self.withdraw_cron(name).await
    }

    async fn trigger_schedule(&self, name: &str) -> Result<String> {
        self.trigger_cron(name).await
    }
}
