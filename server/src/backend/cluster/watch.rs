//! Watches the runs' pods and turns the `fabrik` container's end into an
//! [`ExecEvent`] — once per pod, whatever the watch replays after a reconnect.
use super::found;
use super::logs::RunLogs;
use super::manifests::{pod_run_id, CONTAINER, MANAGED_BY};
use super::run_db::RunDbs;
use crate::backend::{ExecEvent, ExternalRun};
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::{self, Event};
use kube::Api;
use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Every Job in the namespace: the fabrik CLI's runs become runs here too.
pub fn spawn_jobs(jobs: Api<Job>, events: UnboundedSender<ExecEvent>) {
    tokio::spawn(async move {
        let mut stream = watcher::watcher(jobs, watcher::Config::default()).boxed();
        let mut last: HashMap<String, ExternalRun> = HashMap::new();
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Apply(job) | Event::InitApply(job)) => {
                    let Some(run) = found::from_job(&job) else {
                        continue;
                    };
                    if last.get(&run.run_id) != Some(&run) {
                        last.insert(run.run_id.clone(), run.clone());
                        let _ = events.send(ExecEvent::Found(run));
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "watching the runs' Jobs"),
            }
        }
    });
}

/// What happens when a run's pod ends.
pub struct PodEnds {
    pub events: UnboundedSender<ExecEvent>,
    pub dbs: Arc<RunDbs>,
    pub logs: Arc<RunLogs>,
}

/// The runs' pods: while one runs its DB is copied through it; when it ends, its log
/// is archived and the DB copied a last time (through a reader pod) before the exit is
/// reported, so the run's status is read from its final DB. Pods that ended while the
/// server was down are caught up once, not again at every start.
pub fn spawn(pods: Api<Pod>, ends: PodEnds) {
    let ends = Arc::new(ends);
    tokio::spawn(async move {
        let config = watcher::Config::default().labels(&format!("{MANAGED_BY}=fabrik"));
        let mut stream = watcher::watcher(pods, config).boxed();
        let mut reported: HashSet<String> = HashSet::new();
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Apply(pod)) => ends.seen(&pod, &mut reported, false),
                Ok(Event::InitApply(pod)) => ends.seen(&pod, &mut reported, true),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "watching the runs' pods"),
            }
        }
    });
}

impl PodEnds {
    fn seen(self: &Arc<Self>, pod: &Pod, reported: &mut HashSet<String>, initial: bool) {
        if let Some((run_id, name)) = running(pod) {
            self.dbs.pod_running(&run_id, &name);
            let (dbs, id, pod_name) = (self.dbs.clone(), run_id.clone(), name.clone());
            let still_running = move || dbs.running_pod(&id).as_deref() == Some(pod_name.as_str());
            self.logs.follow(&run_id, &name, still_running);
        }
        if let Some(exit) = exited(pod, reported) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            tokio::spawn(self.clone().ended(name, exit, initial));
        }
    }

    async fn ended(self: Arc<Self>, pod: String, exit: ExecEvent, initial: bool) {
        let run_id = exit.run_id().to_string();
        self.dbs.pod_ended(&run_id);
        let code = match &exit {
            ExecEvent::Exited { code, .. } => *code,
            _ => -1,
        };
        let archive = async {
            if initial && self.logs.has_archive(&run_id, &pod) {
                return;
            }
            if let Err(e) = self.logs.archive(&run_id, &pod, code).await {
                tracing::warn!(%run_id, %pod, error = %e.public().message, "archiving the pod's log");
            }
        };
        let copy = async {
            if initial && self.dbs.copied_after(&run_id, &pod) {
                return;
            }
            if let Err(e) = self.dbs.pull_after(&run_id, &pod).await {
                tracing::warn!(%run_id, error = %e.public().message, "copying the ended run's DB");
            }
        };
        tokio::join!(archive, copy);
        let _ = self.events.send(exit);
    }
}

/// The run and pod name, if the pod's `fabrik` container runs now.
pub fn running(pod: &Pod) -> Option<(String, String)> {
    let run_id = pod_run_id(pod.metadata.labels.as_ref()?)?;
    let status = pod.status.as_ref()?;
    let fabrik = status
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == CONTAINER)?;
    fabrik.state.as_ref()?.running.as_ref()?;
    Some((run_id, pod.metadata.name.clone()?))
}

/// The run's exit, if the pod's `fabrik` container has ended and it wasn't reported.
pub fn exited(pod: &Pod, reported: &mut HashSet<String>) -> Option<ExecEvent> {
    let run_id = pod_run_id(pod.metadata.labels.as_ref()?)?;
    let uid = pod
        .metadata
        .uid
        .clone()
        .or_else(|| pod.metadata.name.clone())?;
    let status = pod.status.as_ref()?.container_statuses.as_ref()?;
    let terminated = status
        .iter()
        .find(|c| c.name == CONTAINER)?
        .state
        .as_ref()?
        .terminated
        .as_ref()?;
    if !reported.insert(uid) {
        return None;
    }
    Some(ExecEvent::Exited {
        run_id,
        pid: None,
        code: terminated.exit_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(state: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "fabrik-01abc-x7k2p", "uid": "u-1", "labels": {"fabrik.sh/run-id": "01ABC", "fabrik.sh/managed-by": "fabrik"}},
            "status": {"containerStatuses": [
                {"name": "credential-sync", "ready": true, "restartCount": 0, "image": "x", "imageID": "", "state": {"running": {}}},
                {"name": "fabrik", "ready": false, "restartCount": 0, "image": "x", "imageID": "", "state": state}
            ]}
        }))
        .unwrap()
    }

    #[test]
    fn the_fabrik_containers_exit_is_reported_once() {
        let mut seen = HashSet::new();
        assert_eq!(
            exited(&pod(serde_json::json!({"running": {}})), &mut seen),
            None
        );
        let done = pod(serde_json::json!({"terminated": {"exitCode": 3}}));
        assert_eq!(
            exited(&done, &mut seen),
            Some(ExecEvent::Exited {
                run_id: "01ABC".into(),
                pid: None,
                code: 3
            })
        );
        assert_eq!(
            exited(&done, &mut seen),
            None,
            "a replayed watch doesn't repeat it"
        );
    }
}
