//! One suite, both backends: every scenario runs against the local backend (real
//! processes) and the Kubernetes one (kmock's emulator, the test playing the kubelet),
//! through the server's API only. What a user sees must not depend on where runs go.
mod common;

use common::kube::{start_on, Emulator};
use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Mutex;

/// A server on one backend, and whatever that backend needs the test to play.
struct Harness {
    server: Server,
    admin: reqwest::Client,
    dir: tempfile::TempDir,
    cluster: Option<Cluster>,
}

struct Cluster {
    emulator: Emulator,
    played: Mutex<HashSet<String>>,
}

impl Harness {
    async fn local() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        fast_demo_template(dir.path(), 200);
        let server = Server::start_in(dir.path());
        let admin = server.admin().await;
        Harness {
            server,
            admin,
            dir,
            cluster: None,
        }
    }

    async fn kube() -> Harness {
        let emulator = Emulator::start();
        let (server, dir) = start_on(&emulator);
        fast_demo_template(dir.path(), 200);
        let admin = server.admin().await;
        let cluster = Cluster {
            emulator,
            played: Mutex::default(),
        };
        Harness {
            server,
            admin,
            dir,
            cluster: Some(cluster),
        }
    }

    /// Runs what the backend started and doesn't run by itself: in a cluster, the
    /// run's newest Job not played yet (its pod, its container, its end). Locally the
    /// process runs on its own.
    async fn execute(&self, run_id: &str) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let emu = &cluster.emulator;
        let job = emu
            .jobs_of(run_id)
            .await
            .into_iter()
            .rfind(|j| !cluster.played.lock().unwrap().contains(j))
            .expect("a Job to run");
        cluster.played.lock().unwrap().insert(job.clone());
        let (claim, own_dir) = emu.workspace_of(&job).await;
        let root = self.dir.path().join("volumes").join(&claim);
        let volume = root.join(own_dir.unwrap_or_default());
        std::fs::create_dir_all(&volume).unwrap();
        emu.attach_volume(&claim, &root).await;
        emu.pod_running(run_id, &job).await;
        let code = emu.run_container(&job, &volume, &[]).await.code().unwrap();
        emu.pod_ended(run_id, &job, code).await;
    }

    /// The credentials every run gets: the data dir's `credentials.env` locally, the
    /// Secret `fabrik-credentials` in `fabrik-system` in a cluster.
    async fn give_credentials(&self, vars: &[(&str, &str)]) {
        let Some(cluster) = &self.cluster else {
            let lines: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            return std::fs::write(self.dir.path().join("credentials.env"), lines).unwrap();
        };
        use base64::Engine;
        let base64 = base64::engine::general_purpose::STANDARD;
        let data: serde_json::Map<String, Value> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), json!(base64.encode(v))))
            .collect();
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "fabrik-credentials", "namespace": "fabrik-system"},
            "data": data});
        let url = format!(
            "{}/api/v1/namespaces/fabrik-system/secrets",
            cluster.emulator.url
        );
        let r = reqwest::Client::new()
            .post(url)
            .json(&secret)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }

    async fn dispatch(&self, body: Value) -> String {
        let (code, body) = post(&self.admin, &self.server.url("/api/v1/runs"), body).await;
        assert_eq!(code, 201, "dispatch: {body}");
        body["run_id"].as_str().unwrap().to_string()
    }

    async fn wait(&self, run_id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(&self.admin, &self.server, run_id, what, pred).await
    }

    async fn decide(&self, run_id: &str, body: Value) {
        let url = self.server.url(&format!("/api/v1/runs/{run_id}/feedback"));
        let (code, body) = post(&self.admin, &url, body).await;
        assert_eq!(code, 200, "{body}");
    }
}

/// Dispatch → listed → progress while it runs → the gate → Approve → resumed to the
/// end, with the decision, timeline and both exits in the log.
async fn approve_resumes_the_run_to_the_end(h: Harness) {
    let id = h
        .dispatch(json!({"template": "demo", "spec": "specs/demo.json"}))
        .await;
    let (_, page) = get(&h.admin, &h.server.url("/api/v1/runs")).await;
    assert_eq!(page["runs"][0]["run_id"], id.as_str(), "listed: {page}");
    let progress = h.wait(&id, "progress", |d| {
        d["summary"]["progress"]["finished"].as_u64().unwrap_or(0) >= 1
            || d["execution"]["exit_code"].is_number()
    });
    let (_, running) = tokio::join!(h.execute(&id), progress);
    if running["execution"]["exit_code"] == 1 {
        panic!("{}", run_log(&h.admin, &h.server, &id).await);
    }
    assert!(
        running["summary"]["progress"]["total"].as_u64().unwrap() >= 10,
        "{running}"
    );
    let blocked = h
        .wait(&id, "the gate", |d| status_of(d) == "waiting-approval")
        .await;
    assert_eq!(blocked["summary"]["phase"], "human-gate");
    assert_eq!(blocked["summary"]["needs_feedback"], true);
    assert_eq!(blocked["smithers"]["reviews"].as_array().unwrap().len(), 4);
    assert_eq!(blocked["smithers"]["gates"][0]["status"], "requested");

    h.decide(&id, json!({"decision": "approve", "notes": "Ship it"}))
        .await;
    h.execute(&id).await;
    let done = h.wait(&id, "the end", |d| status_of(d) == "finished").await;
    let gate = &done["smithers"]["gates"][0];
    assert_eq!(
        (&gate["status"], &gate["decided_by"], &gate["note"]),
        (&json!("approved"), &json!("admin"), &json!("Ship it"))
    );
    assert_eq!(done["summary"]["outcome"], "succeeded");
    assert!(done["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "gate-approve"));
    let log = run_log(&h.admin, &h.server, &id).await;
    let gate_exit = log.find("exited with code 3 (waiting for approval)");
    let end_exit = log.find("exited with code 0 (finished)");
    assert!(gate_exit.is_some() && gate_exit < end_exit, "{log}");
}

/// Reject ends the run failed, the gate denied.
async fn reject_fails_the_run(h: Harness) {
    let id = h.dispatch(json!({"template": "demo"})).await;
    h.execute(&id).await;
    h.wait(&id, "the gate", |d| status_of(d) == "waiting-approval")
        .await;
    h.decide(
        &id,
        json!({"decision": "reject", "notes": "Wrong approach"}),
    )
    .await;
    h.execute(&id).await;
    let failed = h.wait(&id, "failure", |d| status_of(d) == "failed").await;
    assert_eq!(failed["smithers"]["gates"][0]["status"], "denied");
    assert_eq!(failed["summary"]["outcome"], "failed");
}

/// A template `echo-env` whose run echoes `line` (shell words) and whose `[env]` sets
/// `MODE=from-template`.
fn echo_env_template(h: &Harness, line: &str) {
    let template = format!(
        "name = \"echo-env\"\ncommand = [\"sh\", \"-c\", \"echo {line}\"]\nresume_command = [\"sh\", \"-c\", \"true\", \"{{run_id}}\"]\n[env]\nMODE = \"from-template\"\n"
    );
    std::fs::write(h.dir.path().join("templates/echo-env.toml"), template).unwrap();
}

/// A run started with an env set sees its values (in a cluster, through the Secrets
/// its Job names), and the run's own settings win over the set's.
async fn an_env_set_reaches_the_run(h: Harness) {
    echo_env_template(&h, "GREETING=$GREETING MODE=$MODE");
    let vars = json!({"vars": {"GREETING": "hello-from-the-set", "MODE": "from-set",
        "ANTHROPIC_API_KEY": "sk-1", "LAOS_LOKI_URL": "http://loki:3100"}});
    let r = h
        .admin
        .put(h.server.url("/api/v1/env/hoth/dev"))
        .json(&vars)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = h
        .dispatch(json!({"template": "echo-env", "project": "hoth", "env": "dev"}))
        .await;
    h.execute(&id).await;
    h.wait(&id, "the end", |d| d["execution"]["exit_code"] == 0)
        .await;
    let log = run_log(&h.admin, &h.server, &id).await;
    assert!(
        log.contains("GREETING=hello-from-the-set MODE=from-set"),
        "the set's values, the set over the template: {log}"
    );
}

/// The credentials reach every run, beneath its env set and template.
async fn credentials_reach_the_run(h: Harness) {
    echo_env_template(&h, "KEY=$ANTHROPIC_API_KEY_1 MODE=$MODE");
    h.give_credentials(&[
        ("ANTHROPIC_API_KEY_1", "sk-from-credentials"),
        ("MODE", "from-credentials"),
    ])
    .await;
    let id = h.dispatch(json!({"template": "echo-env"})).await;
    h.execute(&id).await;
    h.wait(&id, "the end", |d| d["execution"]["exit_code"] == 0)
        .await;
    let log = run_log(&h.admin, &h.server, &id).await;
    assert!(
        log.contains("KEY=sk-from-credentials MODE=from-template"),
        "the credentials, beneath the template: {log}"
    );
    let (_, view) = get(&h.admin, &h.server.url("/api/v1/admin/credentials")).await;
    assert_eq!(view["providers"][0]["provider"], "anthropic", "{view}");
}

/// Cancel stops the run wherever it runs, and says so.
async fn cancel_stops_the_run(h: Harness) {
    let id = h.dispatch(json!({"template": "demo"})).await;
    let url = h.server.url(&format!("/api/v1/runs/{id}/cancel"));
    let (code, body) = post(&h.admin, &url, json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    let done = h
        .wait(&id, "cancelled", |d| status_of(d) == "cancelled")
        .await;
    assert_eq!(done["execution"]["state"], "cancelled", "{done}");
    if let Some(cluster) = &h.cluster {
        assert_eq!(cluster.emulator.jobs_of(&id).await, Vec::<String>::new());
    }
}

/// A schedule's "trigger now" starts a run through the backend (in a cluster, a Job
/// from the schedule's CronJob), recorded in the schedule's history, and the run goes
/// as a dispatched one does: to its gate, and on to the end once approved.
async fn a_triggered_schedule_starts_a_run(h: Harness) {
    let schedules = h.server.url("/api/v1/schedules");
    let schedule = json!({"name": "nightly-demo", "cron": "0 3 * * *", "timezone": "UTC",
        "concurrency": "Forbid", "dispatch": {"template": "demo"}});
    let (code, body) = post(&h.admin, &schedules, schedule).await;
    assert_eq!(code, 201, "{body}");
    let trigger = format!("{schedules}/nightly-demo/trigger");
    let (code, view) = post(&h.admin, &trigger, json!({})).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["history"][0]["outcome"], "started", "{view}");
    let id = view["history"][0]["run_id"].as_str().unwrap().to_string();
    if h.cluster.is_some() {
        assert!(
            id.starts_with("fabrik-cron-nightly-demo-"),
            "a CronJob's Job: {id}"
        );
    }
    h.execute(&id).await;
    let blocked = h
        .wait(&id, "the gate", |d| status_of(d) == "waiting-approval")
        .await;
    assert_eq!(blocked["summary"]["template"], "demo");
    h.decide(&id, json!({"decision": "approve"})).await;
    h.execute(&id).await;
    let done = h.wait(&id, "the end", |d| status_of(d) == "finished").await;
    assert_eq!(done["summary"]["outcome"], "succeeded", "{done}");
    let (_, view) = get(&h.admin, &format!("{schedules}/nightly-demo")).await;
    assert_eq!(
        view["history"].as_array().unwrap().len(),
        1,
        "one fire: {view}"
    );
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $scenario() {
                super::$scenario(super::Harness::local().await).await
            })*
        }
        mod kube {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $scenario() {
                super::$scenario(super::Harness::kube().await).await
            })*
        }
    };
}

on_both_backends!(
    approve_resumes_the_run_to_the_end,
    reject_fails_the_run,
    an_env_set_reaches_the_run,
    cancel_stops_the_run,
    a_triggered_schedule_starts_a_run,
    credentials_reach_the_run,
);
