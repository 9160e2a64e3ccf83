//! The cluster backend at scale: 10,000 Jobs the fabrik CLI made, in kmock's
//! Kubernetes emulator (`server/tests/helpers/kube_emulator.py`, installed by
//! `scripts/setup.sh`). Measured: how long the server takes to list them all as runs,
//! the runs list's first page against the same list on the local backend, and a Job's
//! change in the cluster → the SSE event at a client.
use super::{ms, reqwest_lite, start_with, time_get};
use futures::StreamExt;
use serde_json::json;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JOBS: usize = 10_000;
/// Jobs seeded as running; each is finished once to time the watch → SSE path.
const CHANGES: usize = 50;

struct Emulator {
    url: String,
    child: Child,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn start_emulator() -> anyhow::Result<Emulator> {
    let python = repo_root().join(".tools/py/bin/python");
    anyhow::ensure!(
        python.exists(),
        "run scripts/setup.sh first: it installs kmock in .tools/py"
    );
    let mut child = Command::new(python)
        .arg(repo_root().join("server/tests/helpers/kube_emulator.py"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    Ok(Emulator {
        url: line.trim().to_string(),
        child,
    })
}

fn run_id(i: usize) -> String {
    format!("bench-cli-run-{i:05}")
}

/// A Job as the fabrik CLI makes it: finished, or running for the first `CHANGES`.
fn cli_job(i: usize) -> serde_json::Value {
    let id = run_id(i);
    let status = if i < CHANGES {
        json!({"active": 1})
    } else {
        json!({"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1})
    };
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": format!("fabrik-{id}"), "namespace": "fabrik-runs",
            "creationTimestamp": "2026-03-12T10:00:00Z",
            "labels": {"fabrik.sh/run-id": id, "fabrik.sh/managed-by": "fabrik",
                "fabrik.sh/spec": format!("feature-{}", i % 97), "fabrik.sh/project": "bench"}},
        "spec": {"template": {"spec": {"containers": [{"name": "fabrik", "image": "x"}], "restartPolicy": "Never"}}},
        "status": status
    })
}

async fn seed_jobs(emu: &Emulator) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = format!("{}/apis/batch/v1/namespaces/fabrik-runs/jobs", emu.url);
    let posts = futures::stream::iter(0..JOBS).map(|i| {
        let (http, url) = (http.clone(), url.clone());
        async move { http.post(&url).json(&cli_job(i)).send().await }
    });
    let mut posts = posts.buffer_unordered(32);
    while let Some(reply) = posts.next().await {
        anyhow::ensure!(reply?.status().is_success(), "seeding a Job failed");
    }
    Ok(())
}

fn stored_runs(data_dir: &Path) -> usize {
    let Ok(conn) = rusqlite::Connection::open(data_dir.join("fabrik.db")) else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
        .unwrap_or(0)
}

fn kubeconfig(dir: &Path, url: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join("kubeconfig.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {{server: \"{url}\"}}\n  name: emu\ncontexts:\n- context: {{cluster: emu, user: u, namespace: fabrik-runs}}\n  name: emu\ncurrent-context: emu\nusers:\n- name: u\n  user: {{token: bench}}\n"
        ),
    )?;
    Ok(path)
}

pub async fn runs_from_jobs(client: &reqwest_lite::Client) -> anyhow::Result<()> {
    let emu = start_emulator()?;
    let seeding = Instant::now();
    seed_jobs(&emu).await?;
    let seeded = seeding.elapsed();

    let kube_dir = tempfile::tempdir()?;
    let config = kubeconfig(kube_dir.path(), &emu.url)?;
    let started = Instant::now();
    let (kube_base, _kube) = start_with(
        kube_dir.path(),
        &[
            &format!("--kubeconfig={}", config.display()),
            "--kube-image=registry.example/runner@sha256:0",
            "--no-scheduler",
        ],
    )
    .await?;
    while stored_runs(kube_dir.path()) < JOBS {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {} of {JOBS} Jobs became runs in 10 min",
            stored_runs(kube_dir.path())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let synced = started.elapsed();

    let local_dir = tempfile::tempdir()?;
    drop(fabrik_server::store::Store::open(
        &local_dir.path().join("fabrik.db"),
    )?);
    super::seed_runs(&local_dir.path().join("fabrik.db"), JOBS)?;
    let (local_base, _local) = start_with(local_dir.path(), &["--no-scheduler"]).await?;

    let kube_client = client.with_token(&client.token(&kube_base).await?);
    let local_client = client.with_token(&client.token(&local_base).await?);
    let kube_page = time_get(&kube_client, &format!("{kube_base}/api/v1/runs"), 100).await?;
    let local_page = time_get(&local_client, &format!("{local_base}/api/v1/runs"), 100).await?;
    let rtt = time_get(&kube_client, &format!("{kube_base}/healthz"), 100).await?;

    let latencies = watch_to_sse(&emu, &kube_client, &kube_base).await?;
    let p = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];

    println!("\n## Kubernetes backend: {JOBS} Jobs the fabrik CLI made, in the kmock emulator");
    println!(
        "Seeding the emulator took {:.1} s; the server listed all {JOBS} as runs {:.1} s after it started (Job watcher + one stored run each).",
        seeded.as_secs_f64(),
        synced.as_secs_f64()
    );
    println!("| first page GET /api/v1/runs | kube (10,000 found Jobs) | local (10,000 runs) | kube / local |");
    println!("|---|---|---|---|");
    println!(
        "| median of 100 | {:.2} ms | {:.2} ms | {:.2}× |",
        ms(kube_page.median),
        ms(local_page.median),
        kube_page.median.as_secs_f64() / local_page.median.as_secs_f64()
    );
    println!("\n| Job changed in the cluster → SSE event ({CHANGES} changes) | p50 | p95 | max | HTTP round trip | p50 / round trip |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| kube watch → store → SSE | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms | {:.0}× |",
        ms(p(0.5)),
        ms(p(0.95)),
        ms(*latencies.last().expect("changes")),
        ms(rtt.median),
        p(0.5).as_secs_f64() / rtt.median.as_secs_f64()
    );
    Ok(())
}

/// Finishes each running Job in the emulator and times the event at a client.
async fn watch_to_sse(
    emu: &Emulator,
    client: &reqwest_lite::Authed,
    base: &str,
) -> anyhow::Result<Vec<Duration>> {
    let mut events = client.stream(&format!("{base}/api/v1/events")).await?;
    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(CHANGES);
    for i in 0..CHANGES {
        let id = run_id(i);
        let url = format!(
            "{}/apis/batch/v1/namespaces/fabrik-runs/jobs/fabrik-{id}",
            emu.url
        );
        let done = json!({"status": {"active": 0, "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True"}]}});
        let t = Instant::now();
        let reply = http
            .patch(&url)
            .header("Content-Type", "application/merge-patch+json")
            .body(done.to_string())
            .send()
            .await?;
        anyhow::ensure!(reply.status().is_success(), "patching {id} failed");
        events.wait_for(&id).await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    Ok(latencies)
}
