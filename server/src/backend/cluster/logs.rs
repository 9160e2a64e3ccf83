//! Cluster runs' logs, kept by the server: each pod's `fabrik` container log is
//! archived to `<data-dir>/kube-runs/<run>/logs/` when the pod ends (so it outlives pod
//! cleanup and the Job's TTL), with a closing line as a local run's log has. A run's
//! log is its archived pods' logs in order, then the live log of the pod running now.
use super::manifests::CONTAINER;
use super::{connect, rbac};
use crate::error::Result;
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::Api;
use std::path::{Path, PathBuf};

pub struct RunLogs {
    pods: Api<Pod>,
    namespace: String,
    root: PathBuf,
}

impl RunLogs {
    pub fn new(pods: Api<Pod>, namespace: String, root: PathBuf) -> RunLogs {
        RunLogs {
            pods,
            namespace,
            root,
        }
    }

    /// Keeps the ended pod's log (once per pod).
    pub async fn archive(&self, run_id: &str, pod: &str, exit_code: i32) -> Result<()> {
        let dir = self.dir(run_id);
        if archived(&dir)?.iter().any(|p| pod_of(p) == Some(pod)) {
            return Ok(());
        }
        let mut text = self.live(pod).await?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "[fabrik] pod {pod} exited with code {exit_code}{}\n",
            meaning(exit_code)
        ));
        std::fs::create_dir_all(&dir)?;
        let seq = archived(&dir)?.len();
        let path = dir.join(format!("{seq:04}-{pod}.log"));
        let partial = dir.join(format!(".{seq:04}-{pod}.partial"));
        std::fs::write(&partial, text)?;
        std::fs::rename(partial, path)?;
        Ok(())
    }

    pub fn has_archive(&self, run_id: &str, pod: &str) -> bool {
        archived(&self.dir(run_id))
            .map(|files| files.iter().any(|p| pod_of(p) == Some(pod)))
            .unwrap_or(false)
    }

    /// The whole log: archived pods, then `running` (a pod running now) live.
    pub async fn read(&self, run_id: &str, running: Option<&str>) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        for path in archived(&self.dir(run_id))? {
            bytes.extend(std::fs::read(path)?);
        }
        if let Some(pod) = running {
            bytes.extend(self.live(pod).await?.into_bytes());
        }
        Ok(bytes)
    }

    async fn live(&self, pod: &str) -> Result<String> {
        let params = LogParams {
            container: Some(CONTAINER.into()),
            ..Default::default()
        };
        match self.pods.logs(pod, &params).await {
            Ok(text) => Ok(text),
            // A pod still pulling its image has no log yet; a deleted one has none left.
            Err(kube::Error::Api(s)) if s.code == 400 || s.code == 404 => Ok(String::new()),
            Err(e) => Err(connect::explain(e, rbac::GET_POD_LOGS, &self.namespace)),
        }
    }

    fn dir(&self, run_id: &str) -> PathBuf {
        self.root
            .join(super::mirror::safe_name(run_id))
            .join("logs")
    }
}

/// What a `smithers` exit code means, as a local run's log says it.
fn meaning(code: i32) -> &'static str {
    match code {
        0 => " (finished)",
        1 => " (failed)",
        2 => " (cancelled)",
        3 => " (waiting for approval)",
        _ => "",
    }
}

/// The archived logs, oldest first.
fn archived(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.sort();
    Ok(files)
}

/// `0003-fabrik-01abc-x1.log` → `fabrik-01abc-x1`.
fn pod_of(path: &Path) -> Option<&str> {
    path.file_stem()?
        .to_str()?
        .split_once('-')
        .map(|(_, pod)| pod)
}
