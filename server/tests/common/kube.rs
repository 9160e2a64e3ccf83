//! A Kubernetes API emulator (PyPI kmock, `helpers/kube_emulator.py`) on loopback, and
//! the kubelet's part played by the test: pods written, the Job's container run here
//! with its volume mapped onto a local directory and its env from its Secrets.
use super::*;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

pub struct Emulator {
    pub url: String,
    child: Child,
}

impl Emulator {
    pub fn start() -> Emulator {
        let python = repo_root().join(".tools/py/bin/python");
        assert!(
            python.exists(),
            "run scripts/setup.sh: it installs kmock in .tools/py"
        );
        let mut child = Command::new(python)
            .arg(repo_root().join("server/tests/helpers/kube_emulator.py"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("http://"), "the emulator printed {line:?}");
        Emulator {
            url: line.trim().to_string(),
            child,
        }
    }

    pub fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("kubeconfig.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {{server: \"{}\"}}\n  name: emu\ncontexts:\n- context: {{cluster: emu, user: u, namespace: fabrik-runs}}\n  name: emu\ncurrent-context: emu\nusers:\n- name: u\n  user: {{token: test}}\n",
                self.url
            ),
        )
        .unwrap();
        path
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = ::reqwest::get(format!("{}{path}", self.url)).await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Says where the PVC's files are: pods mounting it see this directory.
    pub async fn attach_volume(&self, claim: &str, dir: &std::path::Path) {
        self.tell("volumes", claim, dir).await;
    }

    /// Tells the emulator which local file or directory stands for `what/name`.
    async fn tell(&self, what: &str, name: &str, path: &std::path::Path) {
        let r = ::reqwest::Client::new()
            .post(format!("{}/_emulator/{what}/{name}", self.url))
            .body(path.display().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    /// Plays the kubelet: a pod of `job` whose `fabrik` container is in `state`, made
    /// on first sight and updated after that.
    pub async fn pod_of(&self, run_id: &str, job: &str, phase: &str, state: Value) {
        let name = format!("{job}-x1");
        let status = json!({"phase": phase, "containerStatuses": [
            {"name": "fabrik", "ready": phase == "Running", "restartCount": 0, "image": "runner", "imageID": "",
             "state": state}]});
        let http = ::reqwest::Client::new();
        let pods = format!("{}/api/v1/namespaces/fabrik-runs/pods", self.url);
        let exists = http
            .get(format!("{pods}/{name}"))
            .send()
            .await
            .unwrap()
            .status()
            == 200;
        let r = if exists {
            http.patch(format!("{pods}/{name}"))
                .header("Content-Type", "application/merge-patch+json")
                .body(json!({"status": status}).to_string())
                .send()
                .await
                .unwrap()
        } else {
            let pod = self.new_pod(run_id, job, &name, status).await;
            http.post(&pods).json(&pod).send().await.unwrap()
        };
        assert!(r.status().is_success(), "{}", r.status());
    }

    /// A pod as the Job controller makes it from the Job's template (labels, volumes,
    /// mounts, env), labelled with its Job; a pod of a Job the emulator doesn't have
    /// is the run's by its label.
    async fn new_pod(&self, run_id: &str, job: &str, name: &str, status: Value) -> Value {
        let (code, found) = self.get(&job_path(job)).await;
        let template = &found["spec"]["template"];
        let (mut labels, spec) = if code == 200 {
            (
                template["metadata"]["labels"].clone(),
                template["spec"].clone(),
            )
        } else {
            let claim = format!("data-fabrik-{}", run_id.to_lowercase());
            (
                json!({"fabrik.sh/run-id": run_id, "fabrik.sh/managed-by": "fabrik"}),
                json!({"containers": [{"name": "fabrik", "image": "runner"}],
                    "volumes": [{"name": "workspace", "persistentVolumeClaim": {"claimName": claim}}]}),
            )
        };
        labels["job-name"] = json!(job);
        labels["batch.kubernetes.io/job-name"] = json!(job);
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "fabrik-runs", "uid": format!("uid-{name}"),
                "labels": labels},
            "spec": spec,
            "status": status
        })
    }

    /// The claim a Job's pods mount at /workspace, and the directory in it they see
    /// (a CronJob's runs each have their own: `subPathExpr` names it by the Job).
    pub async fn workspace_of(&self, job: &str) -> (String, Option<String>) {
        let (code, found) = self.get(&job_path(job)).await;
        assert_eq!(code, 200, "{found}");
        let pod = &found["spec"]["template"]["spec"];
        let mount = pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == "/workspace")
            .unwrap()
            .clone();
        let claim = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap()["persistentVolumeClaim"]["claimName"]
            .as_str()
            .unwrap()
            .to_string();
        let sub = mount["subPath"].as_str().map(str::to_string).or_else(|| {
            let expr = mount["subPathExpr"].as_str()?;
            Some(expr.replace("$(FABRIK_RUN_ID)", job))
        });
        (claim, sub)
    }

    /// Plays the CronJob controller: the Job it makes of schedule `name`'s CronJob for
    /// the cron time `at_ms` (`<cron-job>-<minutes>`, owned by the CronJob, with its
    /// template's labels and annotations and the scheduled time). Returns its name.
    pub async fn fire_cron_job(&self, cron_job: &str, at_ms: i64) -> String {
        let (code, cron) = self
            .get(&format!(
                "/apis/batch/v1/namespaces/fabrik-runs/cronjobs/{cron_job}"
            ))
            .await;
        assert_eq!(code, 200, "{cron}");
        assert_ne!(
            cron["spec"]["suspend"], true,
            "a suspended CronJob doesn't fire"
        );
        let name = format!("{cron_job}-{}", at_ms / 60_000);
        let template = &cron["spec"]["jobTemplate"];
        let mut annotations = template["metadata"]["annotations"].clone();
        let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap();
        annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] =
            json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "fabrik-runs",
                "labels": template["metadata"]["labels"], "annotations": annotations,
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cron_job,
                    "uid": cron["metadata"]["uid"].as_str().unwrap_or("uid-cron"), "controller": true}]},
            "spec": template["spec"]
        });
        let r = ::reqwest::Client::new()
            .post(format!(
                "{}/apis/batch/v1/namespaces/fabrik-runs/jobs",
                self.url
            ))
            .json(&job)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        name
    }

    /// Plays the container: runs the Job's `fabrik` command here, /workspace mapped onto
    /// `volume`, its environment read from the Secrets its `envFrom` names (in order: a
    /// later one wins, as in Kubernetes); its output is the log of the pod `{job}-x1`.
    pub async fn run_container(
        &self,
        job: &str,
        volume: &std::path::Path,
        extra_env: &[(&str, &str)],
    ) -> std::process::ExitStatus {
        let log = volume.with_file_name(format!("{job}-x1.log"));
        self.tell("logs", &format!("{job}-x1"), &log).await;
        let job_name = job;
        let (code, job) = self.get(&job_path(job)).await;
        assert_eq!(code, 200, "{job}");
        let container = &job["spec"]["template"]["spec"]["containers"][0];
        // The kubelet's `$(VAR)`: FABRIK_RUN_ID is the Job's name (a CronJob's runs).
        let own_env: Vec<(String, String)> = container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let value = match e["value"].as_str() {
                    Some(v) => v.to_string(),
                    None => job_name.to_string(),
                };
                (e["name"].as_str().unwrap().to_string(), value)
            })
            .collect();
        let mapped = |s: &str| {
            let mut s = s.replace("/workspace", volume.to_str().unwrap());
            for (k, v) in &own_env {
                s = s.replace(&format!("$({k})"), v);
            }
            s
        };
        let command: Vec<String> = container["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| mapped(a.as_str().unwrap()))
            .collect();
        let mut cmd = tokio::process::Command::new(&command[0]);
        cmd.args(&command[1..]).current_dir(volume);
        for source in container["envFrom"].as_array().unwrap() {
            let name = source["secretRef"]["name"].as_str().unwrap();
            let (code, secret) = self
                .get(&format!("/api/v1/namespaces/fabrik-runs/secrets/{name}"))
                .await;
            if code == 404 && source["secretRef"]["optional"] == true {
                continue;
            }
            assert_eq!(code, 200, "the pod can't start without Secret {name}");
            use base64::Engine;
            let base64 = base64::engine::general_purpose::STANDARD;
            for (k, v) in secret["data"].as_object().into_iter().flatten() {
                let value = base64.decode(v.as_str().unwrap()).unwrap();
                cmd.env(k, String::from_utf8(value).unwrap());
            }
            for (k, v) in secret["stringData"].as_object().into_iter().flatten() {
                cmd.env(k, mapped(v.as_str().unwrap()));
            }
        }
        cmd.envs(own_env);
        cmd.envs(extra_env.iter().copied());
        let out = std::fs::File::create(&log).unwrap();
        cmd.stdout(out.try_clone().unwrap()).stderr(out);
        cmd.status().await.unwrap()
    }

    /// The run's Jobs, oldest first (its first, then each resume's).
    pub async fn jobs_of(&self, run_id: &str) -> Vec<String> {
        let (_, jobs) = self.get("/apis/batch/v1/namespaces/fabrik-runs/jobs").await;
        let mut names: Vec<String> = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| {
                j["metadata"]["labels"]["fabrik.sh/run-id"] == run_id
                    || j["metadata"]["name"] == run_id
            })
            .map(|j| j["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        // `fabrik-<id>` sorts before `fabrik-<id>-r<time>`.
        names.sort();
        names
    }

    pub async fn pod_running(&self, run_id: &str, job: &str) {
        self.pod_of(run_id, job, "Running", json!({"running": {}}))
            .await;
    }

    pub async fn pod_ended(&self, run_id: &str, job: &str, code: i32) {
        let phase = if code == 0 { "Succeeded" } else { "Failed" };
        let state = json!({"terminated": {"exitCode": code}});
        self.pod_of(run_id, job, phase, state).await;
    }

    /// Plays the kubelet: the run's pod, its `fabrik` container ended with `code`.
    pub async fn pod_exited(&self, run_id: &str, job: &str, code: i32) {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{job}-x1"), "namespace": "fabrik-runs", "uid": format!("uid-{job}"),
                "labels": {"fabrik.sh/run-id": run_id, "fabrik.sh/managed-by": "fabrik", "job-name": job}},
            "status": {"phase": if code == 0 { "Succeeded" } else { "Failed" }, "containerStatuses": [
                {"name": "fabrik", "ready": false, "restartCount": 0, "image": "runner", "imageID": "",
                 "state": {"terminated": {"exitCode": code}}}]}
        });
        let r = ::reqwest::Client::new()
            .post(format!("{}/api/v1/namespaces/fabrik-runs/pods", self.url))
            .json(&pod)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn job_path(job: &str) -> String {
    format!("/apis/batch/v1/namespaces/fabrik-runs/jobs/{job}")
}

pub fn start_on(emu: &Emulator) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = emu.kubeconfig(dir.path());
    let server = Server::start_with(
        dir.path(),
        &[
            ("FABRIK_KUBECONFIG", kubeconfig.to_str().unwrap()),
            (
                "FABRIK_KUBE_IMAGE",
                "registry.example/fabrik-runner@sha256:0123",
            ),
        ],
    );
    (server, dir)
}
