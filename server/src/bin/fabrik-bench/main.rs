//! Benchmarks that matter to users, printed as figures and as ratios against a baseline
//! measured in the same process (machines here are noisy):
//!   1. the runs list with 100,000 runs in the store (API first page and the SSR page),
//!      against /healthz and against the same list with 1,000 runs;
//!   2. a Smithers DB write → the SSE event arriving at a client, p50/p95 over 200 changes,
//!      against a plain HTTP round trip, and at every one of 1,000 clients (`sse.rs`);
//!   3. the runs page under 64 connections (wrk) against the JSON API for the same rows,
//!      and the server's memory during and after (`ssr.rs`);
//!   4. sign-in and token checks, env parse/diff and saves;
//!   5. a gate reached in the run DB → the Web Push and the first channel request
//!      received, and push delivery to 1,000 browsers (`notify.rs`);
//!   6. 10,000 Jobs the fabrik CLI made, in a Kubernetes emulator: listed as runs, the
//!      first page against the local backend's, a Job's change → SSE (`kube.rs`);
//!   7. `/admin/metrics` over 100,000 runs, and backup throughput against a plain copy
//!      (`admin.rs`);
//!   8. Smithers' statements our run DB readers make fail, SQLite's default VFS against
//!      our reader VFS, and a watcher's poll against `PRAGMA data_version` (`readers.rs`).
//!
//! Run: `cargo run --release -p fabrik-server --bin fabrik-bench` (see BENCHMARKS.md).
mod admin;
mod kube;
mod notify;
mod readers;
mod sse;
mod ssr;

use clap::Parser;
use fabrik_server::config::Config;
use rusqlite::params;
use std::path::Path;
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "bench-password-1";

fn main() -> anyhow::Result<()> {
    fabrik_server::memory::configure();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let client = reqwest_lite::Client;
    // `fabrik-bench env` runs one part; no argument runs them all.
    let only = std::env::args().nth(1);
    let wanted = |part: &str| only.as_deref().is_none_or(|o| o == part);
    // A server for a parent bench process (its one line on stdout is the base URL).
    if only.as_deref() == Some("serve") {
        let dir = std::env::args().nth(2).expect("a data dir");
        let with_run = std::env::args().nth(3).as_deref() == Some("with-run");
        return sse::serve(Path::new(&dir), with_run).await;
    }
    println!("# fabrik-bench");
    if wanted("runs") {
        list_benchmark(&client).await?;
    }
    if wanted("sse") {
        sse::one_client(&client).await?;
        sse::many_clients(&client).await?;
    }
    if wanted("ssr") {
        ssr::page_under_load(&client).await?;
    }
    if wanted("login") {
        login_benchmark(&client).await?;
        token_check_benchmark(&client).await?;
    }
    if wanted("env") {
        env_benchmark().await?;
    }
    if wanted("notify") {
        notify::gate_to_page().await?;
        notify::push_throughput().await?;
    }
    if wanted("kube") {
        kube::runs_from_jobs(&client).await?;
    }
    if wanted("admin") {
        admin::metrics_page(&client).await?;
        admin::backup_throughput()?;
    }
    if wanted("readers") {
        tokio::task::spawn_blocking(readers::writer_under_readers).await??;
    }
    Ok(())
}

pub(crate) async fn start(
    data_dir: &Path,
) -> anyhow::Result<(String, std::sync::Arc<fabrik_server::service::Service>)> {
    start_with(data_dir, &[]).await
}

pub(crate) async fn start_with(
    data_dir: &Path,
    extra: &[&str],
) -> anyhow::Result<(String, std::sync::Arc<fabrik_server::service::Service>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut args = vec![
        "fabrik-server".to_string(),
        format!("--listen={addr}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--admin-password={ADMIN_PASSWORD}"),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let config = Config::parse_from(args);
    let (router, service) = fabrik_server::build(&config).await?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Ok((format!("http://{addr}"), service))
}

pub(crate) fn seed_runs(db: &Path, n: usize) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO runs (run_id, template, spec, backend, created_at_ms, exec_state, exit_code, \
             workspace, db_path, log_path, status, phase, task, progress_finished, progress_total, updated_at_ms) \
             VALUES (?1, ?2, ?3, 'local', ?4, 'exited', 0, '/w', '/w/db', '/w/log', ?5, 'done', 'validate', ?6, 14, ?4)",
        )?;
        let statuses = ["finished", "failed", "waiting-approval", "cancelled"];
        for i in 0..n {
            stmt.execute(params![
                format!("01BENCH{i:019}"),
                if i % 3 == 0 { "demo" } else { "coding" },
                format!("specs/feature-{}.json", i % 97),
                1_700_000_000_000i64 + i as i64 * 1000,
                statuses[i % statuses.len()],
                (i % 15) as i64,
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[derive(Clone)]
pub(crate) struct Timing {
    median: Duration,
    bytes: usize,
}

/// Either client kind, for timing GETs.
trait Get {
    async fn fetch(&self, url: &str) -> anyhow::Result<Vec<u8>>;
}

impl Get for reqwest_lite::Client {
    async fn fetch(&self, url: &str) -> anyhow::Result<Vec<u8>> {
        self.get(url).await
    }
}

impl Get for reqwest_lite::Authed {
    async fn fetch(&self, url: &str) -> anyhow::Result<Vec<u8>> {
        self.get(url).await
    }
}

pub(crate) async fn time_get(
    client: &impl Get,
    url: &str,
    rounds: usize,
) -> anyhow::Result<Timing> {
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let body = client.fetch(url).await?;
        times.push(t.elapsed());
        bytes = body.len();
    }
    times.sort();
    Ok(Timing {
        median: times[times.len() / 2],
        bytes,
    })
}

async fn list_benchmark(client: &reqwest_lite::Client) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut searches = Vec::new();
    for n in [1_000usize, 100_000] {
        let dir = tempfile::tempdir()?;
        // Create the schema, then seed directly (100k dispatches would take hours).
        drop(fabrik_server::store::Store::open(
            &dir.path().join("fabrik.db"),
        )?);
        seed_runs(&dir.path().join("fabrik.db"), n)?;
        let (base, _service) = start(dir.path()).await?;
        let token = client.token(&base).await?;
        let client = &client.with_token(&token);
        let health = time_get(client, &format!("{base}/healthz"), 200).await?;
        let api = time_get(client, &format!("{base}/api/v1/runs"), 100).await?;
        let api_filtered = time_get(
            client,
            &format!("{base}/api/v1/runs?status=blocked&template=demo"),
            100,
        )
        .await?;
        let page = time_get(client, &format!("{base}/runs"), 50).await?;
        let text = time_get(client, &format!("{base}/api/v1/runs?q=feature-5"), 50).await?;
        // Matching nothing: through the trigram index, against the LIKE scan the spec
        // filter still is (what every such q= cost before the index).
        let nothing = time_get(client, &format!("{base}/api/v1/runs?q=zz-no-such-run"), 50).await?;
        let scan = time_get(
            client,
            &format!("{base}/api/v1/runs?spec=zz-no-such-run"),
            20,
        )
        .await?;
        searches.push((n, api.clone(), nothing, scan));
        rows.push((n, health, api, api_filtered, page, text));
    }
    println!("\n## /runs first page (median; ratio vs /healthz in the same server)");
    println!("| runs in store | /healthz | GET /api/v1/runs | ratio | filtered (status+template) | ratio | free text q= (scan) | ratio | SSR /runs page | ratio | API bytes | page bytes |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (n, h, a, f, p, q) in &rows {
        let r = |t: &Timing| t.median.as_secs_f64() / h.median.as_secs_f64();
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.1}× | {:.2} ms | {:.1}× | {:.2} ms | {:.1}× | {:.2} ms | {:.1}× | {} | {} |",
            ms(h.median), ms(a.median), r(a), ms(f.median), r(f), ms(q.median), r(q), ms(p.median), r(p), a.bytes, p.bytes
        );
    }
    println!("\n## Free-text search matching nothing (median; ratio vs the unfiltered first page)");
    println!("| runs in store | GET /api/v1/runs | q= matching nothing (trigram index) | ratio | LIKE scan matching nothing (spec=) | ratio |");
    println!("|---|---|---|---|---|---|");
    for (n, api, nothing, scan) in &searches {
        let r = |t: &Timing| t.median.as_secs_f64() / api.median.as_secs_f64();
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.2}× | {:.2} ms | {:.1}× |",
            ms(api.median),
            ms(nothing.median),
            r(nothing),
            ms(scan.median),
            r(scan)
        );
    }
    let (small, large) = (&rows[0], &rows[1]);
    println!(
        "\n100k vs 1k runs: API first page {:.2}×, SSR page {:.2}× (1.0× = independent of store size)",
        large.2.median.as_secs_f64() / small.2.median.as_secs_f64(),
        large.4.median.as_secs_f64() / small.4.median.as_secs_f64()
    );
    Ok(())
}

/// A Smithers-shaped DB with one run whose node we flip back and forth.
fn smithers_db(path: &Path, run_id: &str) -> anyhow::Result<rusqlite::Connection> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(
        "CREATE TABLE _smithers_runs (run_id TEXT PRIMARY KEY, workflow_name TEXT NOT NULL, workflow_path TEXT, status TEXT NOT NULL, created_at_ms INTEGER NOT NULL, started_at_ms INTEGER, finished_at_ms INTEGER, error_json TEXT, config_json TEXT);
         CREATE TABLE _smithers_nodes (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, last_attempt INTEGER, updated_at_ms INTEGER NOT NULL, output_table TEXT NOT NULL, label TEXT, PRIMARY KEY (run_id, node_id, iteration));
         CREATE TABLE _smithers_approvals (run_id TEXT NOT NULL, node_id TEXT NOT NULL, iteration INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, requested_at_ms INTEGER, decided_at_ms INTEGER, note TEXT, decided_by TEXT, PRIMARY KEY (run_id, node_id, iteration));",
    )?;
    conn.execute(
        "INSERT INTO _smithers_runs (run_id, workflow_name, status, created_at_ms) VALUES (?1, 'bench', 'running', 0)",
        [run_id],
    )?;
    for node in ["a", "b"] {
        conn.execute(
            "INSERT INTO _smithers_nodes (run_id, node_id, state, updated_at_ms, output_table) VALUES (?1, ?2, 'pending', 0, 'out')",
            params![run_id, node],
        )?;
    }
    Ok(conn)
}

/// A running run whose Smithers DB the bench writes, as Smithers would.
pub(crate) async fn bench_run(
    service: &fabrik_server::service::Service,
    dir: &Path,
    run_id: &str,
) -> anyhow::Result<rusqlite::Connection> {
    use fabrik_server::store::{AuditEntry, NewEvent, NewRun};
    let db_path = dir.join(run_id).join("state.db");
    let writer = smithers_db(&db_path, run_id)?;
    service
        .store()
        .insert_run(
            NewRun {
                run_id: run_id.into(),
                template: "bench".into(),
                workflow: None,
                spec: None,
                project: None,
                env: None,
                options: Default::default(),
                backend: "local".into(),
                created_at_ms: 0,
                workspace: dir.display().to_string(),
                db_path: db_path.display().to_string(),
                log_path: dir.join("bench.log").display().to_string(),
            },
            NewEvent::new("dispatched", "bench", None),
            AuditEntry {
                at_ms: 0,
                actor: "bench".into(),
                source: None,
                action: "run.dispatch".into(),
                target: None,
                detail: None,
            },
        )
        .await?;
    service.store().transition(run_id, running(), 0).await?;
    // As after a dispatch: the run is announced, so the watcher takes it up at once.
    service.refresh(run_id).await?;
    Ok(writer)
}

/// The run's process is (again) running.
pub(crate) fn running() -> fabrik_server::store::Transition {
    fabrik_server::store::Transition {
        exec: Some(fabrik_server::store::ExecChange {
            state: domain::run::ExecState::Running,
            pid: None,
            exit_code: None,
            detail: None,
        }),
        ..Default::default()
    }
}

/// Sign-in cost (argon2id) alone and under concurrent load: argon2 runs at most
/// `CONCURRENT_HASHES` at a time, so latency grows with queueing beyond that.
async fn login_benchmark(client: &reqwest_lite::Client) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (base, _service) = start(dir.path()).await?;
    let health = time_get(client, &format!("{base}/healthz"), 100).await?;
    println!(
        "\n## Sign-in (POST /api/v1/auth/token: argon2id verify + token), {} hashes at once",
        fabrik_server::auth::CONCURRENT_HASHES
    );
    println!(
        "| concurrent sign-ins | median latency | p95 | median / single | sign-ins per second |"
    );
    println!("|---|---|---|---|---|");
    let mut single = None;
    for n in [1usize, 2, 4, 8, 16] {
        let started = Instant::now();
        let mut times = Vec::new();
        // Four waves of `n` sign-ins at once.
        for _ in 0..4 {
            let wave: Vec<_> = (0..n)
                .map(|_| {
                    let base = base.clone();
                    tokio::spawn(async move {
                        let t = Instant::now();
                        reqwest_lite::Client.token(&base).await.map(|_| t.elapsed())
                    })
                })
                .collect();
            for t in wave {
                times.push(t.await??);
            }
        }
        let total = times.len();
        let wall = started.elapsed();
        times.sort();
        let median = times[times.len() / 2];
        let p95 = times[(times.len() as f64 * 0.95) as usize - 1];
        let base_median = *single.get_or_insert(median);
        println!(
            "| {n} | {:.1} ms | {:.1} ms | {:.1}× | {:.0} |",
            ms(median),
            ms(p95),
            median.as_secs_f64() / base_median.as_secs_f64(),
            total as f64 / wall.as_secs_f64()
        );
    }
    println!(
        "(/healthz median on the same server: {:.2} ms)",
        ms(health.median)
    );
    Ok(())
}

/// What checking an API token adds to a request: in-process per check, and over HTTP
/// as an authenticated endpoint against the public /healthz.
async fn token_check_benchmark(client: &reqwest_lite::Client) -> anyhow::Result<()> {
    use domain::service::{Actor, AdminService};
    let dir = tempfile::tempdir()?;
    let store = fabrik_server::store::Store::open(&dir.path().join("fabrik.db"))?;
    let streams = std::sync::Arc::new(fabrik_server::streams::Streams::new(8, 8));
    let auth = fabrik_server::auth::Auth::new(store, streams)?;
    auth.bootstrap_admin(Some(ADMIN_PASSWORD.into())).await?;
    let admin = Actor {
        name: "admin".into(),
        role: domain::auth::Role::Admin,
        from: None,
    };
    let token = auth.create_token(&admin, "bench").await?.token;
    const N: u32 = 20_000;
    let t = Instant::now();
    for _ in 0..N {
        assert!(auth.token_user(&token).await?.is_some());
    }
    let per_check = t.elapsed() / N;
    let t = Instant::now();
    for _ in 0..N {
        let _ = auth.token_user("fbk_not-a-token").await?;
    }
    let per_miss = t.elapsed() / N;

    let (base, _service) = start(dir.path().join("http").as_path()).await?;
    let authed = client.with_token(&client.token(&base).await?);
    let health = time_get(client, &format!("{base}/healthz"), 500).await?;
    let me = time_get(&authed, &format!("{base}/api/v1/auth/me"), 500).await?;
    println!("\n## API token check");
    println!("| in-process check (valid) | in-process check (unknown) | GET /healthz (public) | GET /api/v1/auth/me (token) | difference | ratio |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {:.1} µs | {:.1} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.2}× |",
        per_check.as_secs_f64() * 1e6,
        per_miss.as_secs_f64() * 1e6,
        health.median.as_secs_f64() * 1e6,
        me.median.as_secs_f64() * 1e6,
        (me.median.as_secs_f64() - health.median.as_secs_f64()) * 1e6,
        me.median.as_secs_f64() / health.median.as_secs_f64()
    );
    Ok(())
}

/// A spread of delays over one poll interval (a fixed sequence, so runs compare).
/// Median of `rounds` runs of `f`.
fn median_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

/// Env sets: parse + diff of a 5,000-key `.env` (what the editor does per keystroke,
/// here natively), and save latency with 50 writers at once against one at a time.
async fn env_benchmark() -> anyhow::Result<()> {
    use domain::env::{diff, parse, write, EnvVars, SaveEnvSet, SaveOutcome};
    use domain::service::{Actor, EnvService};
    let vars: EnvVars = (0..5_000)
        .map(|i| {
            (
                format!("KEY_{i:05}"),
                format!("value {i} with a space and a \"quote\""),
            )
        })
        .collect();
    let text = write(&vars);
    let mut edited = vars.clone();
    edited.insert("KEY_02500".into(), "changed".into());
    let split = median_of(100, || text.split('\n').count());
    let parse_diff = median_of(100, || {
        let parsed = parse(&text).expect("the bench's own .env parses");
        diff(&edited, &parsed.vars).modified.len()
    });
    println!("\n## Env: parse + diff of a 5,000-key .env (native, in-process; median of 100)");
    println!("| keys | bytes | split into lines (baseline) | parse + diff | ratio |");
    println!("|---|---|---|---|---|");
    println!(
        "| 5000 | {} | {:.3} ms | {:.2} ms | {:.0}× |",
        text.len(),
        ms(split),
        ms(parse_diff),
        parse_diff.as_secs_f64() / split.as_secs_f64()
    );

    let dir = tempfile::tempdir()?;
    let (_base, service) = start(dir.path()).await?;
    let admin = Actor {
        name: "admin".into(),
        role: domain::auth::Role::Admin,
        from: None,
    };
    let small: EnvVars = (0..50)
        .map(|i| (format!("K{i}"), format!("v{i}")))
        .collect();
    let first = SaveEnvSet {
        version: None,
        vars: small.clone(),
        keep: vec![],
    };
    service
        .save_env_set(&admin, "bench", "dev", first)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let mut single = Vec::new();
    for i in 0..50 {
        let current = service
            .get_env_set(&admin, "bench", "dev", false)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let mut vars = small.clone();
        vars.insert("SEQ".into(), i.to_string());
        let t = Instant::now();
        let save = SaveEnvSet {
            version: Some(current.version),
            vars,
            keep: vec![],
        };
        service
            .save_env_set(&admin, "bench", "dev", save)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        single.push(t.elapsed());
    }
    single.sort();
    let writers: Vec<_> = (0..50)
        .map(|w| {
            let (service, admin, small) = (service.clone(), admin.clone(), small.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let mut conflicts = 0u32;
                loop {
                    let current = service
                        .get_env_set(&admin, "bench", "dev", true)
                        .await
                        .expect("readable");
                    let mut vars = current.revealed_vars().unwrap_or(small.clone());
                    vars.insert(format!("W{w}"), "x".into());
                    let save = SaveEnvSet {
                        version: Some(current.version),
                        vars,
                        keep: vec![],
                    };
                    match service
                        .save_env_set(&admin, "bench", "dev", save)
                        .await
                        .expect("saves")
                    {
                        SaveOutcome::Saved { .. } => return (started.elapsed(), conflicts),
                        SaveOutcome::Stale { .. } => conflicts += 1,
                    }
                }
            })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut conflicts = 0;
    for w in writers {
        let (t, c) = w.await?;
        accepted.push(t);
        conflicts += c;
    }
    accepted.sort();
    let last = service
        .get_env_set(&admin, "bench", "dev", false)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let lost = (0..50)
        .filter(|w| !last.vars.iter().any(|v| v.key == format!("W{w}")))
        .count();
    println!("\n## Env: save latency (service + store, sealed values; 50 keys a set)");
    println!("| writers | median | p95 | median / one writer | 409s answered | lost updates |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| 1 at a time | {:.2} ms | {:.2} ms | 1.0× | 0 | 0 |",
        ms(single[25]),
        ms(single[47])
    );
    println!(
        "| 50 at once (time to an accepted save, retrying on 409) | {:.1} ms | {:.1} ms | {:.0}× | {conflicts} | {lost} |",
        ms(accepted[25]),
        ms(accepted[47]),
        accepted[25].as_secs_f64() / single[25].as_secs_f64()
    );
    Ok(())
}

pub(crate) fn jitter_ms(i: usize) -> u64 {
    let poll = fabrik_server::live::POLL.as_millis() as u64;
    (i as u64 * 37) % poll.max(1)
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Minimal HTTP/1.1 client over tokio (keeps the bench free of TLS stacks).
pub(crate) mod reqwest_lite {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    #[derive(Clone, Copy)]
    pub struct Client;

    /// A client that sends `Authorization: Bearer`.
    pub struct Authed {
        token: String,
    }

    fn split(url: &str) -> (String, String) {
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        (host.to_string(), format!("/{path}"))
    }

    impl Client {
        pub fn with_token(&self, token: &str) -> Authed {
            Authed {
                token: token.to_string(),
            }
        }

        pub async fn get(&self, url: &str) -> anyhow::Result<Vec<u8>> {
            request(url, "GET", "", "").await
        }

        /// Signs in as the bench admin and returns a fresh API token.
        pub async fn token(&self, base: &str) -> anyhow::Result<String> {
            let body = format!(
                r#"{{"username":"admin","password":"{}"}}"#,
                super::ADMIN_PASSWORD
            );
            let url = format!("{base}/api/v1/auth/token");
            let reply = request(&url, "POST", "Content-Type: application/json\r\n", &body).await?;
            let json: serde_json::Value = serde_json::from_slice(&reply)?;
            json["token"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("no token: {json}"))
        }
    }

    impl Authed {
        fn header(&self) -> String {
            format!("Authorization: Bearer {}\r\n", self.token)
        }
        pub async fn get(&self, url: &str) -> anyhow::Result<Vec<u8>> {
            request(url, "GET", &self.header(), "").await
        }
        pub async fn stream(&self, url: &str) -> anyhow::Result<EventStream> {
            let (host, path) = split(url);
            let mut s = TcpStream::connect(&host).await?;
            s.set_nodelay(true)?;
            let head = format!(
                "GET {path} HTTP/1.1\r\nHost: {host}\r\n{}Accept: text/event-stream\r\n\r\n",
                self.header()
            );
            s.write_all(head.as_bytes()).await?;
            Ok(EventStream {
                reader: BufReader::new(s),
            })
        }
    }

    async fn request(
        url: &str,
        method: &str,
        headers: &str,
        body: &str,
    ) -> anyhow::Result<Vec<u8>> {
        let (host, path) = split(url);
        let mut s = TcpStream::connect(&host).await?;
        s.set_nodelay(true)?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        let body_at = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| p + 4)
            .unwrap_or(0);
        Ok(buf.split_off(body_at))
    }

    pub struct EventStream {
        reader: BufReader<TcpStream>,
    }

    impl EventStream {
        /// Reads lines until one contains `needle`.
        pub async fn wait_for(&mut self, needle: &str) -> anyhow::Result<()> {
            let mut line = String::new();
            loop {
                line.clear();
                if self.reader.read_line(&mut line).await? == 0 {
                    anyhow::bail!("event stream closed");
                }
                if line.contains(needle) {
                    return Ok(());
                }
            }
        }
    }
}
