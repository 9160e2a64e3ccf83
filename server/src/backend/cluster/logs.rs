//! Cluster runs' logs, kept by the server: each pod's `fabrik` container log is
//! archived to `<data-dir>/kube-runs/<run>/logs/` when the pod ends (so it outlives pod
//! cleanup and the Job's TTL), with a closing line as a local run's log has. A run's
//! log is its archived pods' logs in order, then the live log of the pod running now —
//! followed (streamed) into a file while the pod runs, so a page view reads a file, not
//! the API server.
use super::manifests::CONTAINER;
use super::{connect, rbac};
use crate::error::Result;
use futures::AsyncReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::Api;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How soon a dropped log stream of a running pod is opened again.
const REFOLLOW: Duration = Duration::from_secs(2);

pub struct RunLogs {
    pods: Api<Pod>,
    namespace: String,
    root: PathBuf,
    /// Pods whose log is being followed now.
    following: Mutex<HashSet<String>>,
}

impl RunLogs {
    pub fn new(pods: Api<Pod>, namespace: String, root: PathBuf) -> RunLogs {
        RunLogs {
            pods,
            namespace,
            root,
            following: Mutex::default(),
        }
    }

    /// Follows the running `pod`'s log into a file of the run's, once per pod. A
    /// stream that drops while `running()` still says so is opened again, from the
    /// start (the file is rewritten whole).
    pub fn follow(
        self: &Arc<Self>,
        run_id: &str,
        pod: &str,
        running: impl Fn() -> bool + Send + 'static,
    ) {
        if !self.lock().insert(pod.to_string()) {
            return;
        }
        let (logs, run_id, pod) = (self.clone(), run_id.to_string(), pod.to_string());
        tokio::spawn(async move {
            loop {
                if let Err(e) = logs.stream_into_file(&run_id, &pod).await {
                    tracing::debug!(%pod, error = %e, "following the pod's log");
                }
                if !running() {
                    break;
                }
                tokio::time::sleep(REFOLLOW).await;
            }
            logs.lock().remove(&pod);
        });
    }

    async fn stream_into_file(&self, run_id: &str, pod: &str) -> std::io::Result<()> {
        let params = LogParams {
            container: Some(CONTAINER.into()),
            follow: true,
            ..Default::default()
        };
        let mut stream = self
            .pods
            .log_stream(pod, &params)
            .await
            .map_err(std::io::Error::other)?;
        let dir = self.dir(run_id);
        std::fs::create_dir_all(&dir)?;
        let mut file = std::fs::File::create(live_path(&dir, pod))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            file.write_all(&buf[..n])?;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.following.lock().unwrap_or_else(|e| e.into_inner())
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
        let _ = std::fs::remove_file(live_path(&dir, pod));
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
            match std::fs::read(live_path(&self.dir(run_id), pod)) {
                Ok(followed) => bytes.extend(followed),
                Err(_) => bytes.extend(self.live(pod).await?.into_bytes()),
            }
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

/// Where a running pod's log is followed to (not a `.log`: not an archive).
fn live_path(dir: &Path, pod: &str) -> PathBuf {
    dir.join(format!(".live-{pod}"))
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
