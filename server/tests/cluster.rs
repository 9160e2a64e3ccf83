//! The cluster backend against a Kubernetes API emulator (PyPI kmock) on loopback: the
//! server is started with a kubeconfig pointing at it and driven through its own API,
//! as a user would; the test plays the kubelet by writing the run's pod.
mod common;

use common::kube::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_dispatched_run_is_a_job_and_its_pods_exit_ends_the_run() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let (_, health) = get(&admin, &server.url("/healthz")).await;
    assert_eq!(health["backend"], "kube");

    let (code, body) = post(
        &admin,
        &server.url("/api/v1/runs"),
        json!({"template": "demo"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let run_id = body["run_id"].as_str().unwrap().to_string();
    let job = format!("fabrik-{}", run_id.to_lowercase());
    let (code, created) = emu
        .get(&format!("/apis/batch/v1/namespaces/fabrik-runs/jobs/{job}"))
        .await;
    assert_eq!(code, 200, "the Job exists in the cluster: {created}");
    assert_eq!(
        created["metadata"]["labels"]["fabrik.sh/run-id"],
        run_id.as_str()
    );
    assert_eq!(
        created["metadata"]["labels"]["fabrik.sh/managed-by"],
        "fabrik"
    );
    assert_eq!(
        created["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/fabrik-runner@sha256:0123"
    );
    let (code, _) = emu
        .get(&format!(
            "/api/v1/namespaces/fabrik-runs/persistentvolumeclaims/data-{job}"
        ))
        .await;
    assert_eq!(code, 200, "its volume");
    let (code, secret) = emu
        .get(&format!(
            "/api/v1/namespaces/fabrik-runs/secrets/fabrik-run-env-{}",
            run_id.to_lowercase()
        ))
        .await;
    assert_eq!(code, 200, "its env Secret");
    assert!(
        secret["stringData"]["SMITHERS_DB_PATH"]
            .as_str()
            .unwrap()
            .starts_with("/workspace/"),
        "{secret}"
    );

    emu.pod_exited(&run_id, &job, 0).await;
    let detail = wait_for(&admin, &server, &run_id, "the run to end", |d| {
        status_of(d) != "running" && status_of(d) != "pending"
    })
    .await;
    assert_eq!(detail["execution"]["exit_code"], 0, "{detail}");
    assert_eq!(detail["execution"]["backend"], "kube");
}

#[tokio::test]
async fn cancel_deletes_the_job() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let run_id = dispatch_demo(&admin, &server).await;
    let job_path = format!(
        "/apis/batch/v1/namespaces/fabrik-runs/jobs/fabrik-{}",
        run_id.to_lowercase()
    );
    assert_eq!(emu.get(&job_path).await.0, 200);
    let (code, body) = post(
        &admin,
        &server.url(&format!("/api/v1/runs/{run_id}/cancel")),
        json!({}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while emu.get(&job_path).await.0 == 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Job was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn jobs_the_fabrik_cli_made_are_listed_with_their_status() {
    let emu = Emulator::start();
    let cli_job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": "fabrik-hoth-todo-loop-e2e-20260312-39", "namespace": "fabrik-runs",
            "creationTimestamp": "2026-03-12T10:00:00Z",
            "labels": {"fabrik.sh/run-id": "hoth-todo-loop-e2e-20260312-39", "fabrik.sh/spec": "todo-loop",
                "fabrik.sh/project": "hoth", "fabrik.sh/phase": "done", "fabrik.sh/status": "succeeded",
                "fabrik.sh/managed-by": "fabrik"},
            "annotations": {"fabrik.sh/started-at": "2026-03-12T10:00:05Z", "fabrik.sh/finished-at": "2026-03-12T10:42:00Z",
                "fabrik.sh/outcome": "succeeded",
                "fabrik.sh/status": "{\"phase\":\"done\",\"current_task\":\"validate\",\"attempt\":1,\"progress\":{\"finished\":14,\"total\":14}}"}
        },
        "spec": {"template": {"spec": {"containers": [{"name": "fabrik", "image": "x"}], "restartPolicy": "Never"}}},
        "status": {"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}
    });
    let seed_job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "fabrik-old-1", "namespace": "fabrik-runs",
            "labels": {"fabrik.dev/run-id": "old-1", "app.kubernetes.io/managed-by": "fabrik"}},
        "spec": {"template": {"spec": {"containers": [{"name": "fabrik", "image": "x"}], "restartPolicy": "Never"}}},
        "status": {"active": 1}
    });
    let other_job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "nightly-backup", "namespace": "fabrik-runs", "labels": {"app": "backup"}},
        "spec": {"template": {"spec": {"containers": [{"name": "b", "image": "x"}], "restartPolicy": "Never"}}}
    });
    let http = reqwest::Client::new();
    for job in [&cli_job, &seed_job, &other_job] {
        let r = http
            .post(format!(
                "{}/apis/batch/v1/namespaces/fabrik-runs/jobs",
                emu.url
            ))
            .json(job)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let finished = wait_for(
        &admin,
        &server,
        "hoth-todo-loop-e2e-20260312-39",
        "the CLI's run",
        |d| status_of(d) == "finished",
    )
    .await;
    assert_eq!(finished["summary"]["spec"], "todo-loop");
    assert_eq!(finished["summary"]["project"], "hoth");
    assert_eq!(finished["summary"]["template"], "fabrik-cli");
    assert_eq!(finished["summary"]["started_at_ms"], 1_773_309_605_000i64);
    assert_eq!(
        finished["summary"]["progress"],
        json!({"finished": 14, "total": 14}),
        "from the Job's fabrik.sh/status while its DB isn't copied"
    );
    let old = wait_for(&admin, &server, "old-1", "the seed-era run", |d| {
        status_of(d) == "running"
    })
    .await;
    assert_eq!(old["execution"]["backend"], "kube");
    let (_, page) = get(&admin, &server.url("/api/v1/runs")).await;
    let ids: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "not the backup Job: {ids:?}");
}

/// The whole human-gate loop in a cluster: the run's Smithers DB is copied out of its
/// running pod (progress shows), the last copy comes through a reader pod once the pod
/// ended at the gate, Approve writes the decision onto the run's volume and starts a
/// resume Job on it, and the resumed run finishes. The containers are the real demo
/// workflow (bun + smithers), run here by the test playing the kubelet.
#[tokio::test(flavor = "multi_thread")]
async fn a_gate_in_the_cluster_is_read_from_the_volume_decided_there_and_resumed() {
    let emu = Emulator::start();
    let (server, dir) = start_on(&emu);
    let admin = server.admin().await;
    let run_id = dispatch_demo(&admin, &server).await;
    let job = format!("fabrik-{}", run_id.to_lowercase());
    let volume = dir.path().join("volume");
    std::fs::create_dir_all(&volume).unwrap();
    emu.attach_volume(&format!("data-{job}"), &volume).await;

    emu.pod_running(&run_id, &job).await;
    let fast = [("DEMO_TASK_MS", "400")];
    let container = emu.run_container(&job, &volume, &fast);
    let watch_progress = async {
        wait_for(&admin, &server, &run_id, "progress from the pod", |d| {
            status_of(d) == "running"
                && d["summary"]["progress"]["finished"].as_u64().unwrap_or(0) >= 1
        })
        .await
    };
    let (exit, seen_running) = tokio::join!(container, watch_progress);
    assert_eq!(exit.code(), Some(3), "the demo stops at its gate");
    assert!(
        seen_running["summary"]["progress"]["total"]
            .as_u64()
            .unwrap()
            >= 10,
        "{seen_running}"
    );

    emu.pod_ended(&run_id, &job, 3).await;
    let at_gate = wait_for(&admin, &server, &run_id, "the gate", |d| {
        status_of(d) == "waiting-approval"
    })
    .await;
    assert_eq!(
        at_gate["smithers"]["gates"][0]["status"], "requested",
        "{at_gate}"
    );

    let url = server.url(&format!("/api/v1/runs/{run_id}/feedback"));
    let (code, body) = post(
        &admin,
        &url,
        json!({"decision": "approve", "notes": "Ship it"}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let db = rusqlite::Connection::open(volume.join(".smithers/state.db")).unwrap();
    let (status, by, note): (String, String, String) = db
        .query_row(
            "SELECT status, decided_by, note FROM _smithers_approvals WHERE run_id = ?1",
            [&run_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), by.as_str(), note.as_str()),
        ("approved", "admin", "Ship it")
    );
    drop(db);
    assert!(volume.join(".smithers/state.db.before-decision").exists());
    let (_, pods) = emu.get("/api/v1/namespaces/fabrik-runs/pods").await;
    let readers: Vec<&Value> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["labels"]["fabrik.sh/volume-of"].is_string())
        .collect();
    assert!(readers.is_empty(), "reader pods are removed: {readers:?}");

    let (_, jobs) = emu.get("/apis/batch/v1/namespaces/fabrik-runs/jobs").await;
    let resume = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|j| {
            let name = j["metadata"]["name"].as_str()?;
            name.starts_with(&format!("{job}-r"))
                .then(|| name.to_string())
        })
        .unwrap_or_else(|| panic!("no resume Job in {jobs}"));
    emu.pod_running(&run_id, &resume).await;
    let exit = emu.run_container(&resume, &volume, &fast).await;
    assert_eq!(exit.code(), Some(0), "the resumed demo finishes");
    emu.pod_ended(&run_id, &resume, 0).await;
    let done = wait_for(&admin, &server, &run_id, "the end", |d| {
        status_of(d) == "finished"
    })
    .await;
    assert_eq!(done["smithers"]["gates"][0]["status"], "approved");
    assert_eq!(done["summary"]["outcome"], "succeeded", "{done}");

    // Both pods' logs were archived: they read the same after the pods are gone.
    let before = run_log(&admin, &server, &run_id).await;
    assert!(
        before.contains("exited with code 3 (waiting for approval)"),
        "{before}"
    );
    assert!(before.contains("exited with code 0 (finished)"), "{before}");
    assert!(
        before.contains("human-gate"),
        "the workflow's own output: {before}"
    );
    let first = before.find("code 3").unwrap();
    assert!(first < before.find("code 0").unwrap(), "in order: {before}");
    let http = reqwest::Client::new();
    for pod in [format!("{job}-x1"), format!("{resume}-x1")] {
        let r = http
            .delete(format!(
                "{}/api/v1/namespaces/fabrik-runs/pods/{pod}",
                emu.url
            ))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let after = run_log(&admin, &server, &run_id).await;
    assert_eq!(after, before);
}

/// Env sets edited here are where the fabrik CLI reads them (Secret
/// `fabrik-env-<project>-<env>` in fabrik-system), a run gets its copy in the runs'
/// namespace through `envFrom` and a mount, and deleting the set removes its Secret.
#[tokio::test]
async fn env_sets_are_kept_as_the_fabrik_clis_secrets_and_handed_to_runs() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let set_url = server.url("/api/v1/env/hoth/dev-eu");
    let vars = json!({"vars": {"ANTHROPIC_API_KEY": "sk-1", "DEBUG": "true", "LAOS_LOKI_URL": "http://loki:3100"}});
    let r = admin.put(&set_url).json(&vars).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let system = "/api/v1/namespaces/fabrik-system/secrets/fabrik-env-hoth-dev-eu";
    let (code, secret) = emu.get(system).await;
    assert_eq!(code, 200, "{secret}");
    assert_eq!(secret["stringData"]["ANTHROPIC_API_KEY"], "sk-1");
    assert_eq!(secret["metadata"]["labels"]["fabrik.sh/project"], "hoth");
    // A save replaces the Secret whole: a variable deleted here is gone there too.
    let saved: Value = r.json().await.unwrap();
    let version = saved["version"].clone();
    assert!(version.is_number(), "{saved}");
    let mut fewer = vars.clone();
    fewer["vars"].as_object_mut().unwrap().remove("DEBUG");
    fewer["version"] = version;
    let r = admin.put(&set_url).json(&fewer).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, secret) = emu.get(system).await;
    assert!(secret["stringData"]["DEBUG"].is_null(), "{secret}");
    assert_eq!(secret["stringData"]["ANTHROPIC_API_KEY"], "sk-1");

    let (code, body) = post(
        &admin,
        &server.url("/api/v1/runs"),
        json!({"template": "demo", "project": "hoth", "env": "dev-eu"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let run_id = body["run_id"].as_str().unwrap().to_lowercase();
    let (code, copy) = emu
        .get("/api/v1/namespaces/fabrik-runs/secrets/fabrik-env-hoth-dev-eu")
        .await;
    assert_eq!(code, 200, "the run's copy: {copy}");
    assert_eq!(copy["stringData"]["LAOS_LOKI_URL"], "http://loki:3100");
    assert!(
        copy["stringData"]["DEBUG"].is_null(),
        "the set as it is now"
    );
    let (_, own) = emu
        .get(&format!(
            "/api/v1/namespaces/fabrik-runs/secrets/fabrik-run-env-{run_id}"
        ))
        .await;
    assert!(own["stringData"]["ANTHROPIC_API_KEY"].is_null(), "{own}");
    assert!(own["stringData"]["SMITHERS_DB_PATH"].is_string(), "{own}");
    let (_, job) = emu
        .get(&format!(
            "/apis/batch/v1/namespaces/fabrik-runs/jobs/fabrik-{run_id}"
        ))
        .await;
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["envFrom"][1]["secretRef"]["name"], "fabrik-env-hoth-dev-eu",
        "after the credentials, before the run's own"
    );
    assert!(container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["mountPath"] == "/etc/fabrik/env"));

    let r = admin.delete(&set_url).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(emu.get(system).await.0, 404, "the set's Secret is gone");
}

/// A run the fabrik CLI made shows its Smithers DB (the real Smithers 0.12 fixture, on
/// its volume) once its page is opened; listing runs copies nothing.
#[tokio::test]
async fn a_cli_runs_page_copies_its_db_from_its_volume_and_the_list_does_not() {
    let run_id = "e564f07e-6050-4c1e-98f9-0c015e0a392e";
    let emu = Emulator::start();
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": format!("fabrik-{run_id}"), "namespace": "fabrik-runs",
            "labels": {"fabrik.sh/run-id": run_id, "fabrik.sh/managed-by": "fabrik", "fabrik.sh/spec": "approval"}},
        "spec": {"template": {"spec": {"containers": [{"name": "fabrik", "image": "x"}], "restartPolicy": "Never"}}},
        "status": {"conditions": [{"type": "Failed", "status": "True"}], "failed": 1}
    });
    let r = reqwest::Client::new()
        .post(format!(
            "{}/apis/batch/v1/namespaces/fabrik-runs/jobs",
            emu.url
        ))
        .json(&job)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let volume = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(volume.path().join(".smithers")).unwrap();
    std::fs::copy(
        repo_root().join("smithers/tests/fixtures/approval.db"),
        volume.path().join(".smithers/state.db"),
    )
    .unwrap();
    emu.attach_volume(&format!("data-fabrik-{run_id}"), volume.path())
        .await;
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, page) = get(&admin, &server.url("/api/v1/runs")).await;
        if page["runs"][0]["run_id"] == run_id {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let copies = server.data_dir.join("kube-runs");
    assert!(
        !copies.exists() || std::fs::read_dir(&copies).unwrap().count() == 0,
        "listing copies nothing"
    );
    let shown = wait_for(&admin, &server, run_id, "the DB from the volume", |d| {
        d["smithers"]["run_status"] == "waiting-approval"
    })
    .await;
    assert_eq!(
        shown["smithers"]["gates"][0]["status"], "requested",
        "{shown}"
    );
    assert_eq!(shown["summary"]["spec"], "approval");
    assert_eq!(
        shown["actions"],
        json!({"cancel": true, "resume": false, "feedback": true, "elsewhere": true}),
        "reviewed and cancelled here, decided with the CLI"
    );

    // Its gate can't be decided here (the server can't resume what the CLI made), and
    // the refusal writes nothing.
    let url = server.url(&format!("/api/v1/runs/{run_id}/feedback"));
    let (code, body) = post(&admin, &url, json!({"decision": "approve"})).await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fabrik CLI"),
        "{body}"
    );
    assert!(!volume
        .path()
        .join(".smithers/state.db.before-decision")
        .exists());
}

/// Specs written here are ConfigMaps `fabrik-spec-<id>` in fabrik-system (`spec.json`,
/// and `todo.json` once there is a todo), and go when the spec is deleted.
#[tokio::test]
async fn specs_are_kept_as_config_maps() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let (code, body) = post(&admin, &server.url("/api/v1/specs"), spec("weekly-summary")).await;
    assert_eq!(code, 201, "{body}");
    let path = "/api/v1/namespaces/fabrik-system/configmaps/fabrik-spec-weekly-summary";
    let (code, map) = emu.get(path).await;
    assert_eq!(code, 200, "{map}");
    let stored: Value = serde_json::from_str(map["data"]["spec.json"].as_str().unwrap()).unwrap();
    assert_eq!(stored["title"], body["spec"]["title"]);
    assert!(map["data"]["todo.json"].is_null(), "no todo yet: {map}");

    let todo_url = server.url("/api/v1/specs/weekly-summary/todo");
    let (code, view) = post(&admin, &todo_url, json!({})).await;
    assert_eq!(code, 200, "{view}");
    let (_, map) = emu.get(path).await;
    let todo: Value = serde_json::from_str(map["data"]["todo.json"].as_str().unwrap()).unwrap();
    assert_eq!(todo["tasks"], view["todo"]["todo"]["tasks"]);

    let r = admin
        .delete(server.url("/api/v1/specs/weekly-summary"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(emu.get(path).await.0, 404, "the spec's ConfigMap is gone");
}

/// A schedule is the CronJob `fabrik-cron-<name>`, kept in step with it (suspend,
/// resume, delete); each Job the CronJob makes is a run of the schedule's, listed in
/// its history; "trigger now" on a CronJob that is gone says what to do.
#[tokio::test]
async fn a_schedule_is_a_cron_job_whose_jobs_are_its_runs() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let schedules = server.url("/api/v1/schedules");
    let schedule = json!({"name": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Berlin",
        "concurrency": "Replace", "dispatch": {"template": "demo"}});
    let (code, body) = post(&admin, &schedules, schedule).await;
    assert_eq!(code, 201, "{body}");
    assert!(body["next_fire_ms"].is_number(), "{body}");
    let cron_path = "/apis/batch/v1/namespaces/fabrik-runs/cronjobs/fabrik-cron-nightly";
    let (code, cron) = emu.get(cron_path).await;
    assert_eq!(code, 200, "{cron}");
    let spec = &cron["spec"];
    assert_eq!(
        (
            &spec["schedule"],
            &spec["timeZone"],
            &spec["concurrencyPolicy"],
            &spec["suspend"]
        ),
        (
            &json!("0 3 * * *"),
            &json!("Europe/Berlin"),
            &json!("Replace"),
            &json!(false)
        )
    );

    // 03:00 in Berlin on 2026-11-27: the controller makes a Job; it is the schedule's run.
    let at = 1_795_744_800_000;
    let job = emu.fire_cron_job("fabrik-cron-nightly", at).await;
    let url = format!("{schedules}/nightly");
    let mut view = Value::Null;
    for _ in 0..100 {
        view = get(&admin, &url).await.1;
        if !view["history"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fire = &view["history"][0];
    assert_eq!(
        (
            &fire["kind"],
            &fire["outcome"],
            &fire["run_id"],
            &fire["scheduled_ms"]
        ),
        (&json!("cron"), &json!("started"), &json!(job), &json!(at)),
        "{view}"
    );
    emu.pod_ended(&job, &job, 0).await;
    let done = wait_for(&admin, &server, &job, "the run's end", |d| {
        d["execution"]["exit_code"].is_number()
    })
    .await;
    assert_eq!(done["summary"]["template"], "demo", "{done}");
    assert_eq!(done["execution"]["exit_code"], 0, "{done}");

    let (code, body) = post(&admin, &format!("{url}/suspend"), json!({})).await;
    assert_eq!((code, &body["suspended"]), (200, &json!(true)), "{body}");
    assert_eq!(emu.get(cron_path).await.1["spec"]["suspend"], true);
    let (code, body) = post(&admin, &format!("{url}/resume"), json!({})).await;
    assert_eq!((code, &body["suspended"]), (200, &json!(false)), "{body}");
    assert_eq!(emu.get(cron_path).await.1["spec"]["suspend"], false);

    // Gone behind the server's back: the trigger's fire says how to get it back.
    let r = ::reqwest::Client::new()
        .delete(format!("{}{cron_path}", emu.url))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (code, view) = post(&admin, &format!("{url}/trigger"), json!({})).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["history"][0]["outcome"], "failed", "{view}");
    let error = view["history"][0]["error"].as_str().unwrap();
    assert!(error.contains("save the schedule again"), "{error}");

    let r = admin.delete(&url).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(emu.get(cron_path).await.0, 404);
    let (code, _) = get(&admin, &server.url(&format!("/api/v1/runs/{job}"))).await;
    assert_eq!(code, 200, "its runs stay");
}

/// `/admin/cluster` and `/admin/credentials` read the cluster: nodes with their
/// capacity and usage (metrics-server), the runs' PVCs, the storage classes, and
/// `fabrik-credentials` counted per provider — which every run then gets.
#[tokio::test]
async fn the_admin_pages_read_nodes_volumes_storage_and_credentials_from_the_cluster() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let http = ::reqwest::Client::new();
    let create = |path: &str, body: Value| {
        let request = http.post(format!("{}{path}", emu.url)).json(&body);
        async move { assert!(request.send().await.unwrap().status().is_success()) }
    };
    create("/api/v1/nodes", json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "k3s-1"},
        "status": {"capacity": {"cpu": "4", "memory": "16Gi", "ephemeral-storage": "100Gi"},
                   "allocatable": {"cpu": "3800m", "memory": "15Gi", "ephemeral-storage": "95Gi"},
                   "conditions": [{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}]}})).await;
    create(
        "/apis/metrics.k8s.io/v1beta1/nodes",
        json!({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "NodeMetrics",
        "metadata": {"name": "k3s-1"}, "usage": {"cpu": "950m", "memory": "6Gi"}}),
    )
    .await;
    create("/apis/storage.k8s.io/v1/storageclasses", json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "local-path", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete"})).await;
    create("/api/v1/namespaces/fabrik-system/secrets", json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "fabrik-credentials", "namespace": "fabrik-system"},
        "data": {"ANTHROPIC_API_KEY_1": "c2stYQ==", "ANTHROPIC_API_KEY_2": "c2stYg==", "GITHUB_TOKEN": "Z2hw"}})).await;

    let (code, body) = post(
        &admin,
        &server.url("/api/v1/runs"),
        json!({"template": "demo"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let run_id = body["run_id"].as_str().unwrap().to_string();

    let (code, fleet) = get(&admin, &server.url("/api/v1/admin/cluster")).await;
    assert_eq!(code, 200, "{fleet}");
    assert_eq!(fleet["backend"], "kube");
    let node = &fleet["machines"][0];
    assert_eq!(
        (&node["name"], &node["status"], &node["ready"]),
        (&json!("k3s-1"), &json!("Ready"), &json!(true))
    );
    assert_eq!(
        node["cpu"],
        json!({"capacity": 4000, "allocatable": 3800, "used": 950})
    );
    assert_eq!(node["memory"]["used"], 6u64 << 30);
    assert_eq!(node["disk"]["allocatable"], 95u64 << 30);
    let volume = &fleet["volumes"][0];
    assert_eq!(volume["run_id"], run_id.as_str(), "{fleet}");
    assert_eq!(volume["size_bytes"], 10u64 << 30);
    assert_eq!(fleet["storage_classes"][0]["is_default"], true);
    assert_eq!(fleet["notes"], json!([]), "{fleet}");

    let (code, credentials) = get(&admin, &server.url("/api/v1/admin/credentials")).await;
    assert_eq!(code, 200, "{credentials}");
    assert_eq!(credentials["providers"][0]["provider"], "anthropic");
    assert_eq!(credentials["providers"][0]["keys"], 2);
    assert!(!credentials.to_string().contains("c2st"), "never a value");

    // The run got them: a copy in its namespace, in its envFrom and mounted.
    let job = format!("fabrik-{}", run_id.to_lowercase());
    let (_, created) = emu
        .get(&format!("/apis/batch/v1/namespaces/fabrik-runs/jobs/{job}"))
        .await;
    let mounts = created["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].to_string();
    assert!(mounts.contains("/etc/fabrik/credentials"), "{mounts}");
    let (code, copy) = emu
        .get("/api/v1/namespaces/fabrik-runs/secrets/fabrik-credentials")
        .await;
    assert_eq!(code, 200, "{copy}");
    assert_eq!(copy["data"]["GITHUB_TOKEN"], "Z2hw");
}

/// A CronJob's Jobs are made by the cluster from its template, so a rotated pool's
/// key reaches them only if the template carries it: rotating republishes every
/// schedule, and a schedule saved after a rotation has it from the start.
#[tokio::test]
async fn a_rotated_key_reaches_the_cron_jobs_runs() {
    let emu = Emulator::start();
    let (server, _dir) = start_on(&emu);
    let admin = server.admin().await;
    let created = ::reqwest::Client::new()
        .post(format!(
            "{}/api/v1/namespaces/fabrik-system/secrets",
            emu.url
        ))
        .json(&json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "fabrik-credentials", "namespace": "fabrik-system"},
            "data": {"ANTHROPIC_API_KEY_1": "c2stYQ==", "ANTHROPIC_API_KEY_2": "c2stYg=="}}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let schedules = server.url("/api/v1/schedules");
    let save = |name: &str| {
        let body = json!({"name": name, "cron": "0 3 * * *", "timezone": "UTC",
            "concurrency": "Forbid", "dispatch": {"template": "demo"}});
        let (admin, schedules) = (&admin, &schedules);
        async move {
            let (code, body) = post(admin, schedules, body).await;
            assert_eq!(code, 201, "{body}");
        }
    };
    let picked_key = |name: &str| {
        let path = format!("/apis/batch/v1/namespaces/fabrik-runs/cronjobs/fabrik-cron-{name}");
        let emu = &emu;
        async move {
            let (code, cron) = emu.get(&path).await;
            assert_eq!(code, 200, "{cron}");
            let env =
                &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"];
            env.as_array()
                .into_iter()
                .flatten()
                .find(|e| e["name"] == "ANTHROPIC_API_KEY")
                .map(|e| {
                    let secret = &e["valueFrom"]["secretKeyRef"];
                    assert_eq!(secret["name"], "fabrik-credentials", "{e}");
                    secret["key"].as_str().unwrap().to_string()
                })
        }
    };
    save("nightly").await;
    assert_eq!(picked_key("nightly").await, None, "no rotation, no pick");

    let rotate = server.url("/api/v1/admin/credentials/anthropic/rotate");
    let (code, view) = post(&admin, &rotate, json!({})).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(
        picked_key("nightly").await.as_deref(),
        Some("ANTHROPIC_API_KEY_2"),
        "republished with the pick"
    );
    save("weekly").await;
    assert_eq!(
        picked_key("weekly").await.as_deref(),
        Some("ANTHROPIC_API_KEY_2"),
        "saved after the rotation"
    );
    let (code, _) = post(&admin, &rotate, json!({})).await;
    assert_eq!(code, 200);
    for name in ["nightly", "weekly"] {
        assert_eq!(
            picked_key(name).await.as_deref(),
            Some("ANTHROPIC_API_KEY_1"),
            "{name}: wraps around the pool"
        );
    }
}
