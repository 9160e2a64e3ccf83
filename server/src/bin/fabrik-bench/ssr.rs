//! The server-rendered runs page under load: `wrk -c64` against `/runs` and against the
//! JSON API for the same 50 rows, with 10,000 runs stored; the server runs in a child
//! process so its memory is read on its own, under load and after it.
use super::reqwest_lite::Client;
use super::seed_runs;
use super::sse::ChildServer;
use std::process::Command;
use std::time::Duration;

const RUNS: usize = 10_000;
const CONNECTIONS: u32 = 64;
const SECONDS: u32 = 10;

struct Load {
    per_second: f64,
    p99_ms: f64,
    requests: f64,
}

/// Makes every request's query different (the page cache then never answers), so the
/// page is rendered and compressed for each.
const EVERY_REQUEST_NEW: &str = r#"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?n=" .. counter .. "-" .. math.random(1000000000))
end
"#;

/// `wrk` against `url`; its requests per second and p99 latency. With `fresh`, each
/// request asks for a view nobody asked for before.
fn wrk(url: &str, token: &str, brotli: bool, fresh: bool) -> anyhow::Result<Load> {
    let script = tempfile::NamedTempFile::new()?;
    std::fs::write(script.path(), EVERY_REQUEST_NEW)?;
    let mut cmd = Command::new("wrk");
    if fresh {
        cmd.arg("-s").arg(script.path());
    }
    cmd.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{SECONDS}s"),
        "--latency",
    ])
    .args(["-H", &format!("Authorization: Bearer {token}")]);
    if brotli {
        cmd.args(["-H", "Accept-Encoding: br"]);
    }
    let out = cmd.arg(url).output().map_err(|e| {
        anyhow::anyhow!("wrk could not run ({e}): install it (apt-get install wrk)")
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(!text.contains("Non-2xx"), "wrk saw errors:\n{text}");
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_string()))
            .ok_or_else(|| anyhow::anyhow!("no '{prefix}' in wrk's output:\n{text}"))
    };
    let per_second = field("Requests/sec:")?.parse()?;
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no request count in wrk's output:\n{text}"))?;
    Ok(Load {
        per_second,
        p99_ms: duration_ms(&field("99%")?)?,
        requests,
    })
}

/// wrk's `12.34ms`, `1.20s` or `850.00us`.
fn duration_ms(v: &str) -> anyhow::Result<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse()?;
    Ok(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => anyhow::bail!("unknown unit in {v}"),
    })
}

/// `wrk` as above, with the server's CPU time per request (wrk shares the machine, so
/// requests per second alone undercount what the server could do).
fn wrk_measured(
    server: &ChildServer,
    url: &str,
    token: &str,
    brotli: bool,
    fresh: bool,
) -> anyhow::Result<(Load, f64)> {
    let before = server.cpu_seconds();
    let load = wrk(url, token, brotli, fresh)?;
    let cpu_ms = (server.cpu_seconds() - before) * 1000.0 / load.requests.max(1.0);
    Ok((load, cpu_ms))
}

/// Median time to brotli-compress `body` as the server does, in ms.
fn brotli_ms(body: &[u8]) -> f64 {
    use fabrik_server::compress::{compress_whole, Coding};
    let mut times: Vec<f64> = (0..41)
        .map(|_| {
            let start = std::time::Instant::now();
            std::hint::black_box(compress_whole(Coding::Brotli, body));
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

pub async fn page_under_load(client: &Client) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    drop(fabrik_server::store::Store::open(
        &dir.path().join("fabrik.db"),
    )?);
    seed_runs(&dir.path().join("fabrik.db"), RUNS)?;
    let (server, base) = ChildServer::start(dir.path(), false)?;
    let token = client.token(&base).await?;
    let page_body = client
        .with_token(&token)
        .get(&format!("{base}/runs"))
        .await?;
    let api_body = client
        .with_token(&token)
        .get(&format!("{base}/api/v1/runs"))
        .await?;
    let page_bytes = page_body.len();
    tokio::time::sleep(super::sse::RSS_SETTLE).await;
    let idle_mb = server.rss_mb();
    let (api, api_cpu_ms) =
        wrk_measured(&server, &format!("{base}/api/v1/runs"), &token, true, false)?;
    let page_br = wrk(&format!("{base}/runs"), &token, true, false)?;
    let (page_rendered, rendered_cpu_ms) =
        wrk_measured(&server, &format!("{base}/runs"), &token, true, true)?;
    let page = wrk(&format!("{base}/runs"), &token, false, true)?;
    let loaded_mb = server.rss_mb();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rested_mb = server.rss_mb();
    println!(
        "\n## The runs page under load ({RUNS} runs stored, 50 rows, wrk -c{CONNECTIONS} for {SECONDS} s each, server in its own process)"
    );
    println!("| | req/s | p99 | req/s / JSON API |");
    println!("|---|---|---|---|");
    for (what, load) in [
        ("GET /api/v1/runs (br)", &api),
        ("GET /runs (br)", &page_br),
        (
            "GET /runs (br), each request a new view: rendered",
            &page_rendered,
        ),
        ("GET /runs (uncompressed), each a new view", &page),
    ] {
        println!(
            "| {what} | {:.0} | {:.1} ms | {:.2}× |",
            load.per_second,
            load.p99_ms,
            load.per_second / api.per_second
        );
    }
    // A fresh page does the API's work (the same query, the same rows as JSON for
    // hydration) plus its HTML and compressing ~6x the bytes: with no cost at all for
    // the HTML, it could reach at most this share of the API's rate.
    let (page_br_ms, api_br_ms) = (brotli_ms(&page_body), brotli_ms(&api_body));
    let bound = api_cpu_ms / (api_cpu_ms + (page_br_ms - api_br_ms).max(0.0));
    println!(
        "\nServer CPU per request: JSON API {api_cpu_ms:.2} ms, a fresh /runs page {rendered_cpu_ms:.2} ms ({:.1}×). \
         Brotli alone (in this process): page {page_br_ms:.2} ms, API body {api_br_ms:.2} ms. \
         A fresh page with no cost for its HTML would reach at most {bound:.2}× the API.",
        rendered_cpu_ms / api_cpu_ms
    );
    let panics = server.panics();
    println!(
        "\nPage: {:.0} KB uncompressed. Server RSS: {idle_mb:.0} MB idle, {loaded_mb:.0} MB after the load, {rested_mb:.0} MB 5 s later. Panics in the server: {}.",
        page_bytes as f64 / 1024.0,
        panics.len()
    );
    anyhow::ensure!(
        panics.is_empty(),
        "the server panicked under load:\n{}",
        panics.join("\n\n")
    );
    Ok(())
}
