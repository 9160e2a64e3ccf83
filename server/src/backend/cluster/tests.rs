//! Every API call the backend makes, checked against a scripted API server
//! (tower-test): method, path, query and body.
use super::manifests::RunSettings;
use super::KubeBackend;
use crate::backend::{Backend, Launch, RunInput};
use http::{Request, Response};
use kube::client::Body;
use kube::Client;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::task::JoinHandle;
use tower_test::mock;

struct Seen {
    method: String,
    uri: String,
    body: Value,
}

/// An API server answering `replies` in order, recording each request.
fn api_server(replies: Vec<(u16, Value)>) -> (Client, JoinHandle<Vec<Seen>>) {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let recorder = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (status, reply) in replies {
            let Some((request, send)) = handle.next_request().await else {
                break;
            };
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.unwrap();
            seen.push(Seen {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            });
            let text = match reply {
                Value::String(s) => s.into_bytes(),
                other => serde_json::to_vec(&other).unwrap(),
            };
            send.send_response(
                Response::builder()
                    .status(status)
                    .body(Body::from(text))
                    .unwrap(),
            );
        }
        seen
    });
    (Client::new(service, "fabrik-runs"), recorder)
}

fn backend_settings() -> RunSettings {
    RunSettings {
        namespace: "fabrik-runs".into(),
        system_namespace: "fabrik-system".into(),
        image: "registry.example/runner@sha256:1234".into(),
        storage: "10Gi".into(),
    }
}

fn backend(client: Client) -> KubeBackend {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    KubeBackend::new(
        client,
        backend_settings(),
        tx,
        tempfile::tempdir().unwrap().keep(),
    )
}

fn launch(purpose: &'static str) -> Launch {
    Launch {
        run_id: "01ABC".into(),
        command: vec!["smithers".into(), "run".into()],
        env: BTreeMap::from([("ANTHROPIC_API_KEY".to_string(), "sk-secret".to_string())]),
        workspace: PathBuf::from("/workspace"),
        log_path: PathBuf::from("-"),
        purpose,
        inputs: vec![RunInput {
            name: "spec.json",
            text: "{\"id\":\"x\"}".into(),
        }],
        spec: Some("add-login".into()),
        project: Some("acme".into()),
        env_set: None,
        credential_picks: Default::default(),
    }
}

fn record() -> crate::store::RunRecord {
    crate::store::RunRecord {
        run_id: "01ABC".into(),
        template: "coding".into(),
        workflow: None,
        spec: None,
        project: None,
        env: None,
        options: Default::default(),
        backend: "kube".into(),
        created_at_ms: 0,
        started_at_ms: None,
        finished_at_ms: None,
        exec_state: domain::run::ExecState::Running,
        pid: None,
        exit_code: None,
        exec_detail: None,
        workspace: "/workspace".into(),
        db_path: "/workspace/.smithers/state.db".into(),
        log_path: "-".into(),
        status: domain::run::RunStatus::Running,
        phase: "implement".into(),
        task: None,
        progress: Default::default(),
        error: None,
        observed_seq: 0,
    }
}

fn created(kind: &str) -> (u16, Value) {
    (
        201,
        json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}),
    )
}

/// Method and URI of each call, in order.
fn calls(seen: &[Seen]) -> Vec<(&str, &str)> {
    seen.iter()
        .map(|s| (s.method.as_str(), s.uri.as_str()))
        .collect()
}

/// The replies a launch starts with when the system namespace has no credentials:
/// none to read, no runs' copy to remove.
fn no_credentials(mut replies: Vec<(u16, Value)>) -> Vec<(u16, Value)> {
    replies.splice(0..0, [(404, not_found()), (404, not_found())]);
    replies
}

/// The calls after a launch's look for credentials (checked here).
fn past_credentials(mut seen: Vec<Seen>) -> Vec<Seen> {
    let asked: Vec<(String, String)> = seen.drain(..2).map(|s| (s.method, s.uri)).collect();
    assert_eq!(
        asked,
        [
            (
                "GET".to_string(),
                "/api/v1/namespaces/fabrik-system/secrets/fabrik-credentials".to_string()
            ),
            (
                "DELETE".to_string(),
                "/api/v1/namespaces/fabrik-runs/secrets/fabrik-credentials?".to_string()
            ),
        ]
    );
    seen
}

fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "not found", "reason": "NotFound", "code": 404})
}

fn conflict() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "already exists", "reason": "AlreadyExists", "code": 409})
}

#[tokio::test]
async fn a_launch_creates_the_env_secret_inputs_pvc_and_job_in_that_order() {
    let created = |kind: &str| {
        (
            201,
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}),
        )
    };
    let (client, seen) = api_server(no_credentials(vec![
        created("Secret"),
        created("ConfigMap"),
        created("PersistentVolumeClaim"),
        (
            201,
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "fabrik-01abc"}}),
        ),
    ]));
    backend(client).launch(launch("run")).await.unwrap();
    let seen = past_credentials(seen.await.unwrap());
    assert_eq!(
        calls(&seen),
        [
            ("POST", "/api/v1/namespaces/fabrik-runs/secrets?"),
            ("POST", "/api/v1/namespaces/fabrik-runs/configmaps?"),
            (
                "POST",
                "/api/v1/namespaces/fabrik-runs/persistentvolumeclaims?"
            ),
            ("POST", "/apis/batch/v1/namespaces/fabrik-runs/jobs?"),
        ]
    );
    assert_eq!(seen[0].body["stringData"]["ANTHROPIC_API_KEY"], "sk-secret");
    assert_eq!(seen[0].body["metadata"]["name"], "fabrik-run-env-01abc");
    assert_eq!(seen[1].body["data"]["spec.json"], "{\"id\":\"x\"}");
    assert_eq!(seen[2].body["metadata"]["name"], "data-fabrik-01abc");
    let job = &seen[3].body;
    assert_eq!(job["metadata"]["name"], "fabrik-01abc");
    assert_eq!(job["metadata"]["labels"]["fabrik.sh/run-id"], "01ABC");
    assert_eq!(job["metadata"]["labels"]["fabrik.sh/spec"], "add-login");
    assert_eq!(job["metadata"]["labels"]["fabrik.sh/project"], "acme");
    assert_eq!(job["spec"]["backoffLimit"], 1);
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["name"],
        "fabrik"
    );
    assert!(
        !job.to_string().contains("sk-secret"),
        "no secret value in the Job"
    );
}

#[tokio::test]
async fn a_resume_reuses_the_volume_in_a_job_of_its_own() {
    let (client, seen) = api_server(no_credentials(vec![
        (409, conflict()),
        created("ConfigMap"),
        (409, conflict()),
        (
            201,
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}}),
        ),
    ]));
    backend(client).launch(launch("resume")).await.unwrap();
    let seen = past_credentials(seen.await.unwrap());
    let job = &seen[3].body;
    let name = job["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("fabrik-01abc-r"), "{name}");
    assert_eq!(job["metadata"]["labels"]["fabrik.sh/run-id"], "01ABC");
    assert_eq!(job["metadata"]["labels"]["fabrik.sh/phase"], "resume");
    assert_eq!(
        job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "data-fabrik-01abc",
        "the first run's volume, with its Smithers DB"
    );
}

#[tokio::test]
async fn a_job_that_exists_already_is_refused() {
    let (client, seen) = api_server(no_credentials(vec![
        (409, conflict()),
        created("ConfigMap"),
        (409, conflict()),
        (409, conflict()),
    ]));
    let err = backend(client).launch(launch("run")).await.unwrap_err();
    let message = err.public().message;
    assert!(
        message.contains("409") && message.contains("jobs"),
        "{message}"
    );
    assert_eq!(
        past_credentials(seen.await.unwrap()).len(),
        4,
        "secret and PVC existing were fine; the Job was not"
    );
}

#[tokio::test]
async fn cancel_deletes_every_job_of_the_run_in_the_foreground_and_a_gone_job_is_fine() {
    let jobs = json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {}, "items": [
        {"metadata": {"name": "fabrik-01abc"}},
        {"metadata": {"name": "fabrik-01abc-r1a2b3"}}
    ]});
    let deleted = json!({"kind": "Status", "apiVersion": "v1", "status": "Success"});
    let (client, seen) = api_server(vec![
        (200, jobs.clone()),
        (200, deleted.clone()),
        (200, deleted),
        (200, jobs),
        (404, not_found()),
        (404, not_found()),
    ]);
    let backend = backend(client);
    backend.cancel(&record()).await.unwrap();
    backend.cancel(&record()).await.unwrap();
    let seen = seen.await.unwrap();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        (
            "GET",
            "/apis/batch/v1/namespaces/fabrik-runs/jobs?&labelSelector=fabrik.sh%2Frun-id%3D01ABC"
        )
    );
    for (i, job) in [(1, "fabrik-01abc"), (2, "fabrik-01abc-r1a2b3")] {
        assert_eq!(seen[i].method, "DELETE");
        assert_eq!(
            seen[i].uri,
            format!("/apis/batch/v1/namespaces/fabrik-runs/jobs/{job}?")
        );
        assert_eq!(seen[i].body["propagationPolicy"], "Foreground");
    }
    assert_eq!(
        seen.len(),
        6,
        "the second cancel found both gone and was fine"
    );
}

#[tokio::test]
async fn the_log_is_the_archived_pods_then_the_running_pods_read_in_slices() {
    let (client, seen) = api_server(vec![
        (200, Value::String("first pod\n".into())),
        (200, Value::String("hello from the pod\n".into())),
    ]);
    let backend = backend(client);
    let run = record();
    backend
        .logs
        .archive(&run.run_id, "fabrik-01abc-a", 3)
        .await
        .unwrap();
    backend.dbs.pod_running(&run.run_id, "fabrik-01abc-r1-b");
    let whole = backend.read_log(&run, 0, 1 << 20).await.unwrap();
    assert_eq!(
        String::from_utf8(whole).unwrap(),
        "first pod\n[fabrik] pod fabrik-01abc-a exited with code 3 (waiting for approval)\nhello from the pod\n"
    );
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].uri,
        "/api/v1/namespaces/fabrik-runs/pods/fabrik-01abc-a/log?&container=fabrik"
    );
    assert_eq!(
        seen[1].uri,
        "/api/v1/namespaces/fabrik-runs/pods/fabrik-01abc-r1-b/log?&container=fabrik"
    );
    backend.dbs.pod_ended(&run.run_id);
    let slice = backend.read_log(&run, 6, 3).await.unwrap();
    assert_eq!(slice, b"pod", "archived logs need no API call");
}

#[tokio::test]
async fn rbac_and_missing_namespaces_are_explained() {
    let forbidden = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
        "message": "jobs.batch is forbidden: User \"system:serviceaccount:fabrik-system:fabrik\" cannot create resource \"jobs\""});
    let (client, _) = api_server(no_credentials(vec![
        created("Secret"),
        created("ConfigMap"),
        created("PersistentVolumeClaim"),
        (403, forbidden),
    ]));
    let message = backend(client)
        .launch(launch("run"))
        .await
        .unwrap_err()
        .public()
        .message;
    assert!(
        message.contains("may not create jobs in namespace fabrik-runs"),
        "{message}"
    );
    assert!(message.contains("deploy/rbac.yaml"), "{message}");
    let missing = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound", "message": "namespaces \"fabrik-runs\" not found"});
    let (client, _) = api_server(vec![(404, missing)]);
    let message = backend(client)
        .cancel(&record())
        .await
        .unwrap_err()
        .public()
        .message;
    assert!(
        message.contains("kubectl create namespace fabrik-runs"),
        "{message}"
    );
}

#[tokio::test]
async fn an_env_set_is_published_whole_replacing_the_old_secret() {
    let (client, seen) = api_server(vec![
        (409, conflict()),
        (
            200,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
        ),
    ]);
    let vars = BTreeMap::from([("DEBUG".to_string(), "1".to_string())]);
    backend(client)
        .publish_env_set("hoth", "dev-eu", &vars)
        .await
        .unwrap();
    let seen = seen.await.unwrap();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("POST", "/api/v1/namespaces/fabrik-system/secrets?")
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].uri.as_str()),
        (
            "PUT",
            "/api/v1/namespaces/fabrik-system/secrets/fabrik-env-hoth-dev-eu?"
        )
    );
    assert_eq!(
        seen[1].body["stringData"],
        json!({"DEBUG": "1"}),
        "only the set's keys now: a deleted key goes"
    );
}

#[tokio::test]
async fn a_run_with_an_env_set_gets_its_copy_first() {
    let (client, seen) = api_server(no_credentials(vec![
        created("Secret"),
        created("Secret"),
        created("ConfigMap"),
        created("PersistentVolumeClaim"),
        (
            201,
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}}),
        ),
    ]));
    let mut launch = launch("run");
    launch.env_set = Some(crate::backend::EnvSetRef {
        project: "acme".into(),
        env: "dev".into(),
        vars: launch.env.clone(),
    });
    backend(client).launch(launch).await.unwrap();
    let seen = past_credentials(seen.await.unwrap());
    assert_eq!(seen[0].uri, "/api/v1/namespaces/fabrik-runs/secrets?");
    assert_eq!(seen[0].body["metadata"]["name"], "fabrik-env-acme-dev");
    assert_eq!(seen[0].body["stringData"]["ANTHROPIC_API_KEY"], "sk-secret");
    assert_eq!(
        seen[1].body["stringData"],
        json!({}),
        "the run's own Secret doesn't repeat the set's values"
    );
}

fn scheduled() -> crate::backend::ScheduledLaunch {
    crate::backend::ScheduledLaunch {
        name: "nightly".into(),
        cron: "0 3 * * *".into(),
        timezone: "UTC".into(),
        concurrency: domain::schedule::ConcurrencyPolicy::Forbid,
        suspended: true,
        launch: Launch {
            run_id: crate::backend::EACH_RUN_ID.into(),
            ..launch("run")
        },
    }
}

#[tokio::test]
async fn a_schedule_is_published_as_its_runs_objects_and_a_cron_job_replaced_whole() {
    let ok = |kind: &str| {
        (
            200,
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}),
        )
    };
    let (client, seen) = api_server(no_credentials(vec![
        (409, conflict()),
        ok("Secret"),
        created("ConfigMap"),
        (409, conflict()),
        (409, conflict()),
        (
            200,
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x"}, "spec": {"schedule": "0 3 * * *", "jobTemplate": {}}}),
        ),
    ]));
    backend(client)
        .publish_schedule(&scheduled())
        .await
        .unwrap();
    let seen = past_credentials(seen.await.unwrap());
    assert_eq!(
        calls(&seen),
        [
            ("POST", "/api/v1/namespaces/fabrik-runs/secrets?"),
            (
                "PUT",
                "/api/v1/namespaces/fabrik-runs/secrets/fabrik-run-env-cron-nightly?"
            ),
            ("POST", "/api/v1/namespaces/fabrik-runs/configmaps?"),
            (
                "POST",
                "/api/v1/namespaces/fabrik-runs/persistentvolumeclaims?"
            ),
            ("POST", "/apis/batch/v1/namespaces/fabrik-runs/cronjobs?"),
            (
                "PUT",
                "/apis/batch/v1/namespaces/fabrik-runs/cronjobs/fabrik-cron-nightly?"
            ),
        ]
    );
    assert_eq!(seen[3].body["metadata"]["name"], "data-fabrik-cron-nightly");
    let cron = &seen[5].body;
    assert_eq!(cron["spec"]["suspend"], true);
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert!(
        !cron.to_string().contains("sk-secret"),
        "no secret value in the CronJob"
    );
}

#[tokio::test]
async fn trigger_now_makes_a_job_from_the_cron_jobs_template_and_delete_orphans_its_jobs() {
    let mut cron = super::schedules::cron_objects(&scheduled(), &backend_settings()).cron_job;
    cron.metadata.uid = Some("uid-7".into());
    let cron = serde_json::to_value(&cron).unwrap();
    let deleted = json!({"kind": "Status", "apiVersion": "v1", "status": "Success"});
    let (client, seen) = api_server(vec![
        (200, cron.clone()),
        (
            201,
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}}),
        ),
        (200, cron),
        (409, conflict()),
        (404, not_found()),
        (200, deleted),
    ]);
    let backend = backend(client);
    let run_id = backend.trigger_schedule("nightly").await.unwrap();
    assert!(run_id.starts_with("fabrik-cron-nightly-"), "{run_id}");
    let again = backend.trigger_schedule("nightly").await.unwrap_err();
    assert!(
        again.public().message.contains("same second"),
        "{}",
        again.public().message
    );
    let gone = backend.trigger_schedule("nightly").await.unwrap_err();
    assert!(gone.public().message.contains("save the schedule again"));
    backend.withdraw_schedule("nightly").await.unwrap();
    let seen = seen.await.unwrap();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        (
            "GET",
            "/apis/batch/v1/namespaces/fabrik-runs/cronjobs/fabrik-cron-nightly"
        )
    );
    let job = &seen[1].body;
    assert_eq!(job["metadata"]["name"], run_id.as_str());
    assert_eq!(job["metadata"]["ownerReferences"][0]["uid"], "uid-7");
    assert_eq!(
        job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    assert_eq!(job["metadata"]["labels"]["fabrik.sh/schedule"], "nightly");
    let delete = &seen[5];
    assert_eq!(
        (delete.method.as_str(), delete.uri.as_str()),
        (
            "DELETE",
            "/apis/batch/v1/namespaces/fabrik-runs/cronjobs/fabrik-cron-nightly?"
        )
    );
    assert_eq!(delete.body["propagationPolicy"], "Orphan", "its runs stay");
}

#[tokio::test]
async fn cancelling_a_cron_jobs_run_deletes_its_job_and_its_resumes() {
    let jobs = json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {}, "items": [
        {"metadata": {"name": "fabrik-cron-nightly-29400000-r1"}}
    ]});
    let deleted = json!({"kind": "Status", "apiVersion": "v1", "status": "Success"});
    let (client, seen) = api_server(vec![(200, jobs), (200, deleted.clone()), (200, deleted)]);
    let run = crate::store::RunRecord {
        run_id: "fabrik-cron-nightly-29400000".into(),
        ..record()
    };
    backend(client).cancel(&run).await.unwrap();
    let deletes: Vec<String> = seen.await.unwrap()[1..]
        .iter()
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect();
    assert_eq!(
        deletes,
        [
            "DELETE /apis/batch/v1/namespaces/fabrik-runs/jobs/fabrik-cron-nightly-29400000-r1?",
            "DELETE /apis/batch/v1/namespaces/fabrik-runs/jobs/fabrik-cron-nightly-29400000?",
        ]
    );
}

/// An API server answering by path, for calls made side by side.
fn api_by_path(answer: fn(&str) -> (u16, Value)) -> Client {
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let (status, reply) = answer(request.uri().path());
            send.send_response(
                Response::builder()
                    .status(status)
                    .body(Body::from(serde_json::to_vec(&reply).unwrap()))
                    .unwrap(),
            );
        }
    });
    Client::new(service, "fabrik-runs")
}

#[tokio::test]
async fn what_the_cluster_wont_say_is_a_note_and_the_rest_still_shows() {
    let client = api_by_path(|path| match path {
        "/api/v1/nodes" => (
            200,
            json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [
                {"metadata": {"name": "n1"}, "spec": {"unschedulable": true},
                 "status": {"capacity": {"cpu": "2"}, "conditions": [{"type": "Ready", "status": "True"}]}},
                {"metadata": {"name": "n2"},
                 "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "DiskPressure", "status": "True"}]}}
            ]}),
        ),
        "/apis/metrics.k8s.io/v1beta1/nodes" => (404, not_found()),
        "/apis/storage.k8s.io/v1/storageclasses" => (
            403,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "forbidden", "reason": "Forbidden", "code": 403}),
        ),
        _ => (
            200,
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaimList", "metadata": {}, "items": []}),
        ),
    });
    let fleet = backend(client).fleet().await;
    let status: Vec<(&str, &str, bool)> = fleet
        .machines
        .iter()
        .map(|m| (m.name.as_str(), m.status.as_str(), m.ready))
        .collect();
    assert_eq!(
        status,
        [
            ("n1", "Ready, cordoned", true),
            ("n2", "DiskPressure", false)
        ]
    );
    assert_eq!(fleet.machines[0].cpu.capacity, Some(2000));
    assert_eq!(fleet.machines[0].cpu.used, None);
    assert_eq!(fleet.notes.len(), 2, "{:?}", fleet.notes);
    assert!(
        fleet.notes[0].contains("metrics-server"),
        "{}",
        fleet.notes[0]
    );
    assert!(
        fleet.notes[1].contains("may not list storageclasses in the cluster (a ClusterRole)"),
        "{}",
        fleet.notes[1]
    );
}

#[tokio::test]
async fn a_run_gets_a_copy_of_the_credentials_in_its_namespace() {
    let credentials = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "fabrik-credentials", "namespace": "fabrik-system", "resourceVersion": "7"},
        "data": {"ANTHROPIC_API_KEY_1": "c2stYQ=="}});
    let (client, seen) = api_server(vec![
        (200, credentials),
        created("Secret"),
        created("Secret"),
        created("ConfigMap"),
        created("PersistentVolumeClaim"),
        (
            201,
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"}}),
        ),
    ]);
    backend(client).launch(launch("run")).await.unwrap();
    let seen = seen.await.unwrap();
    let copy = &seen[1];
    assert_eq!(
        (copy.method.as_str(), copy.uri.as_str()),
        ("POST", "/api/v1/namespaces/fabrik-runs/secrets?")
    );
    assert_eq!(copy.body["metadata"]["name"], "fabrik-credentials");
    assert_eq!(copy.body["metadata"]["namespace"], "fabrik-runs");
    assert!(
        copy.body["metadata"]["resourceVersion"].is_null(),
        "a new object"
    );
    assert_eq!(copy.body["data"]["ANTHROPIC_API_KEY_1"], "c2stYQ==");
    let pod = &seen[5].body["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["envFrom"][0]["secretRef"],
        json!({"name": "fabrik-credentials", "optional": true})
    );
    assert_eq!(
        pod["volumes"][1]["secret"]["secretName"],
        "fabrik-credentials"
    );
}

#[tokio::test]
async fn a_running_pods_log_is_followed_into_a_file_that_page_views_read() {
    let (client, seen) = api_server(vec![(200, Value::String("step 1\nstep 2\n".into()))]);
    let backend = backend(client);
    let run = record();
    backend.dbs.pod_running(&run.run_id, "fabrik-01abc-x");
    backend.logs.follow(&run.run_id, "fabrik-01abc-x", || false);
    let seen = seen.await.unwrap();
    assert_eq!(
        seen[0].uri,
        "/api/v1/namespaces/fabrik-runs/pods/fabrik-01abc-x/log?&container=fabrik&follow=true"
    );
    let mut text = Vec::new();
    for _ in 0..100 {
        // Until the file is there, the read asks the (closed) API server and fails.
        text = backend.read_log(&run, 0, 1 << 20).await.unwrap_or_default();
        if !text.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The API server is gone now (no more replies): these come from the file.
    assert_eq!(text, b"step 1\nstep 2\n");
    assert_eq!(backend.log_size(&run).await, 14);
}
