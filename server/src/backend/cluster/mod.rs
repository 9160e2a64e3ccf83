//! The Kubernetes backend: a run is a Job in the runs namespace, made as the real
//! fabrik CLI makes it (see `manifests`), watched through its pods: the `fabrik`
//! container's exit code is the run's, as a local process's is.
//!
//! Not yet here (said on the run page, never faked): reading the Smithers DB from the
//! run's PVC, deciding the gate in the cluster, listing Jobs the fabrik CLI made.
pub mod connect;
pub mod found;
pub mod manifests;
pub mod rbac;
#[cfg(test)]
mod tests;
mod watch;

use crate::backend::{Backend, ChangeProbe, ExecEvent, Launch, RunLayout, SnapshotRead};
use crate::error::Result;
use crate::store::RunRecord;
use domain::feedback::Decision;
use domain::run::GateView;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use kube::{Api, Client};
use manifests::{RunLabels, RunSettings};
use std::path::PathBuf;
use tokio::sync::mpsc::UnboundedSender;

pub use connect::{connect, KubeTarget};

pub struct KubeBackend {
    client: Client,
    settings: RunSettings,
    events: UnboundedSender<ExecEvent>,
}

impl KubeBackend {
    pub fn new(
        client: Client,
        settings: RunSettings,
        events: UnboundedSender<ExecEvent>,
    ) -> KubeBackend {
        KubeBackend {
            client,
            settings,
            events,
        }
    }

    /// Starts watching the runs' pods; exits reach the service as [`ExecEvent`]s.
    pub fn spawn_watcher(&self) {
        watch::spawn(self.pods(), self.events.clone());
        watch::spawn_jobs(self.api(), self.events.clone());
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

    /// The newest pod of the run's Job, if any.
    async fn pod(&self, run_id: &str) -> Result<Option<Pod>> {
        let selector = format!("job-name={}", manifests::job_name(run_id));
        let pods = self
            .pods()
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| connect::explain(e, rbac::LIST_PODS, &self.settings.namespace))?;
        Ok(pods
            .items
            .into_iter()
            .max_by_key(|p| p.metadata.creation_timestamp.clone()))
    }

    async fn pod_log(&self, run: &RunRecord) -> Result<String> {
        let Some(pod) = self.pod(&run.run_id).await? else {
            return Ok(String::new());
        };
        let name = pod.metadata.name.unwrap_or_default();
        let params = LogParams {
            container: Some(manifests::CONTAINER.into()),
            ..Default::default()
        };
        match self.pods().logs(&name, &params).await {
            Ok(text) => Ok(text),
            // A pod still pulling its image has no log yet.
            Err(kube::Error::Api(s)) if s.code == 400 => Ok(String::new()),
            Err(e) => Err(connect::explain(
                e,
                rbac::GET_POD_LOGS,
                &self.settings.namespace,
            )),
        }
    }

    async fn create<K>(
        &self,
        object: &K,
        asked: rbac::Permission,
        tolerate_existing: bool,
    ) -> Result<()>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::Serialize
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
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
        self.create(&manifests::job(&launch, &run, s), rbac::CREATE_JOBS, false)
            .await?;
        Ok(None)
    }

    async fn cancel(&self, run: &RunRecord) -> Result<()> {
        let name = manifests::job_name(&run.run_id);
        match self
            .api::<Job>()
            .delete(&name, &DeleteParams::foreground())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(connect::explain(
                e,
                rbac::DELETE_JOBS,
                &self.settings.namespace,
            )),
        }
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

    async fn snapshot(&self, _run: &RunRecord) -> SnapshotRead {
        SnapshotRead::Problem(
            "Reading the Smithers DB from the run's volume is not available with the Kubernetes backend yet; the status comes from the Job's pod.".into(),
        )
    }

    async fn has_run_db(&self, _run: &RunRecord) -> bool {
        false
    }

    async fn decide_gate(
        &self,
        _run: &RunRecord,
        _decision: Decision,
        _notes: Option<String>,
        _by: &str,
    ) -> Result<GateView> {
        Err(domain::Error::unavailable(
            "Deciding a gate in the cluster is not available yet: use `smithers approve` in the run's pod.",
        )
        .into())
    }

    async fn read_log(&self, run: &RunRecord, offset: u64, max: u64) -> Result<Vec<u8>> {
        let text = self.pod_log(run).await?;
        let bytes = text.as_bytes();
        let start = (offset as usize).min(bytes.len());
        let end = start.saturating_add(max as usize).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    async fn log_size(&self, run: &RunRecord) -> u64 {
        self.pod_log(run).await.map(|t| t.len() as u64).unwrap_or(0)
    }

    fn change_probe(&self, _run: &RunRecord) -> Box<dyn ChangeProbe> {
        Box::new(NoDb)
    }
}

/// Until the run DB is read from the cluster, there is nothing to probe.
struct NoDb;

impl ChangeProbe for NoDb {
    fn changed(&mut self) -> std::result::Result<bool, String> {
        Ok(false)
    }
}
