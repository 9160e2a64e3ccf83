//! A Smithers DB write → its SSE event: at one client (server in this process), and at
//! every one of 1,000 clients with the server in a child process, so its memory can be
//! read on its own.
use super::reqwest_lite::{Authed, Client};
use super::{bench_run, jitter_ms, ms, start, time_get};
use rusqlite::params;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHANGES: usize = 200;
const CLIENTS: usize = 1000;
const RUN_ID: &str = "01BENCHSSE";

/// The UPDATE a change makes, and what its event then says.
fn change(i: usize) -> (&'static str, &'static str) {
    if i.is_multiple_of(2) {
        ("finished", "\"finished\":1")
    } else {
        ("pending", "\"finished\":0")
    }
}

fn write(writer: &rusqlite::Connection, i: usize) -> anyhow::Result<()> {
    writer.execute(
        "UPDATE _smithers_nodes SET state = ?1, updated_at_ms = ?2 WHERE node_id = 'a'",
        params![change(i).0, i as i64],
    )?;
    Ok(())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q) as usize]
}

pub async fn one_client(client: &Client) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (base, service) = start(dir.path()).await?;
    let writer = bench_run(&service, dir.path(), RUN_ID).await?;
    let client = &client.with_token(&client.token(&base).await?);
    let mut events = client.stream(&format!("{base}/api/v1/events")).await?;
    let rtt = time_get(client, &format!("{base}/healthz"), 200).await?;
    let mut latencies = Vec::new();
    for i in 0..CHANGES {
        // Write at a random moment, as Smithers does, not in step with any poll.
        tokio::time::sleep(Duration::from_millis(jitter_ms(i))).await;
        let t = Instant::now();
        write(&writer, i)?;
        events.wait_for(change(i).1).await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let p = |q| percentile(&latencies, q);
    println!("\n## Smithers DB write → SSE event at a client ({CHANGES} changes)");
    println!("| p50 | p95 | max | HTTP round trip (median) | p50 / round trip | noticed by |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms | {:.1}× | file-system notification (poll {} ms without, {} ms behind it) |",
        ms(p(0.5)),
        ms(p(0.95)),
        ms(*latencies.last().unwrap()),
        ms(rtt.median),
        p(0.5).as_secs_f64() / rtt.median.as_secs_f64(),
        fabrik_server::live::POLL.as_millis(),
        fabrik_server::live::FALLBACK_POLL.as_millis(),
    );
    Ok(())
}

/// `fabrik-bench serve DIR [with-run]`: the server alone in this process (with the
/// bench's run whose DB the parent writes), for benches that read its memory.
pub async fn serve(dir: &Path, with_run: bool) -> anyhow::Result<()> {
    // As `fabrik-server` does (its allocators are set up before any thread starts).
    fabrik_server::memory::spawn_trimmer();
    let (base, service) = super::start_with(dir, &["--max-streams-per-user=2000"]).await?;
    if with_run {
        drop(bench_run(&service, dir, RUN_ID).await?);
    }
    println!("{base}");
    std::future::pending::<()>().await;
    Ok(())
}

/// Longer than the server's memory trim period, so RSS is read after a trim.
pub(crate) const RSS_SETTLE: Duration = Duration::from_secs(3);

/// The server in a process of its own; what it writes to stderr goes to `server.log` in
/// its data dir.
pub(crate) struct ChildServer {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChildServer {
    pub(crate) fn start(dir: &Path, with_run: bool) -> anyhow::Result<(ChildServer, String)> {
        use std::io::BufRead;
        let log = dir.join("server.log");
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg(dir)
            .args(with_run.then_some("with-run"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let out = child.stdout.take().expect("piped stdout");
        let mut base = String::new();
        std::io::BufReader::new(out).read_line(&mut base)?;
        let child = ChildServer { child, log };
        anyhow::ensure!(
            base.starts_with("http://"),
            "the bench server said {base:?}"
        );
        Ok((child, base.trim().to_string()))
    }

    /// The CPU time the server has used so far (user + system), in seconds.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name, which is in parentheses: utime is the 12th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // SAFETY: sysconf reads a constant of the running system.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        (ticks(11) + ticks(12)) / per_second
    }

    pub(crate) fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kb / 1024.0
    }

    /// The panics the server reported so far, each with the lines after it.
    pub(crate) fn panics(&self) -> Vec<String> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.split("\nthread '")
            .filter(|part| part.contains(" panicked at "))
            .map(|part| part.lines().take(4).collect::<Vec<_>>().join("\n"))
            .collect()
    }
}

/// When each change reached each client.
type Arrivals = Arc<Mutex<Vec<Vec<Instant>>>>;

async fn follow(client: &Authed, base: &str, arrivals: Arrivals) -> anyhow::Result<()> {
    let mut events = client.stream(&format!("{base}/api/v1/events")).await?;
    events.wait_for("event: hello").await?;
    tokio::spawn(async move {
        for i in 0..CHANGES {
            if events.wait_for(change(i).1).await.is_err() {
                return;
            }
            arrivals.lock().unwrap()[i].push(Instant::now());
        }
    });
    Ok(())
}

pub async fn many_clients(client: &Client) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, base) = ChildServer::start(dir.path(), true)?;
    let writer = rusqlite::Connection::open(dir.path().join(RUN_ID).join("state.db"))?;
    let client = client.with_token(&client.token(&base).await?);
    tokio::time::sleep(RSS_SETTLE).await;
    let idle_mb = server.rss_mb();
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![Vec::new(); CHANGES]));
    for _ in 0..CLIENTS {
        follow(&client, &base, arrivals.clone()).await?;
    }
    tokio::time::sleep(RSS_SETTLE).await;
    let connected_mb = server.rss_mb();
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for i in 0..CHANGES {
        tokio::time::sleep(Duration::from_millis(jitter_ms(i))).await;
        let t = Instant::now();
        write(&writer, i)?;
        let deadline = t + Duration::from_secs(10);
        while arrivals.lock().unwrap()[i].len() < CLIENTS {
            anyhow::ensure!(
                Instant::now() < deadline,
                "change {i} did not reach every client"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let times = &arrivals.lock().unwrap()[i];
        first.push(*times.iter().min().unwrap() - t);
        last.push(*times.iter().max().unwrap() - t);
    }
    let loaded_mb = server.rss_mb();
    first.sort();
    last.sort();
    println!("\n## Smithers DB write → SSE event with {CLIENTS} clients connected ({CHANGES} changes, server in its own process)");
    println!("| first client p50 | p95 | every client p50 | p95 | max | server RSS idle | with {CLIENTS} clients | after {CHANGES} changes | per 1,000 clients |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {idle_mb:.0} MB | {connected_mb:.0} MB | {loaded_mb:.0} MB | {:.1} MB |",
        ms(percentile(&first, 0.5)),
        ms(percentile(&first, 0.95)),
        ms(percentile(&last, 0.5)),
        ms(percentile(&last, 0.95)),
        ms(*last.last().unwrap()),
        (loaded_mb - idle_mb) * 1000.0 / CLIENTS as f64,
    );
    Ok(())
}
