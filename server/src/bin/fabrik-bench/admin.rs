//! `/admin/metrics` over 100,000 stored runs (aggregates from the store, never the run
//! DBs) against /healthz and against 1,000 runs; and backup throughput in MB/s against
//! a plain copy of the same files in the same run.
use super::{ms, reqwest_lite, start, time_get, Timing};
use fabrik_server::backend::artifacts::FileOwner;
use fabrik_server::backup::{self, RunFiles};
use rusqlite::params;
use std::path::Path;
use std::time::Instant;

const MINUTE_MS: i64 = 60_000;

/// `n` runs created one a minute back from now, each with tokens of two models.
fn seed_runs_with_tokens(db: &Path, n: usize, now_ms: i64) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    {
        let mut run = tx.prepare(
            "INSERT INTO runs (run_id, template, spec, backend, created_at_ms, started_at_ms, finished_at_ms, \
             exec_state, exit_code, workspace, db_path, log_path, status, phase, task, progress_finished, \
             progress_total, updated_at_ms) \
             VALUES (?1, ?2, 'specs/x.json', 'local', ?3, ?3 + 1000, ?3 + ?4, 'exited', 0, '/w', '/w/db', \
             '/w/log', ?5, 'done', NULL, 14, 14, ?3)",
        )?;
        let mut tokens = tx.prepare(
            "INSERT INTO run_tokens (run_id, model, input_tokens, output_tokens, cache_read_tokens, \
             cache_write_tokens, reasoning_tokens) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
        )?;
        let statuses = ["finished", "failed", "finished", "cancelled", "finished"];
        let templates = ["demo", "coding", "review", "nightly"];
        for i in 0..n {
            let id = format!("01METRICS{i:017}");
            let created = now_ms - i as i64 * MINUTE_MS;
            run.execute(params![
                id,
                templates[i % templates.len()],
                created,
                60_000 + (i % 600) as i64 * 1000,
                statuses[i % statuses.len()],
            ])?;
            for (model, scale) in [("claude-sonnet-4-5", 3), ("gpt-5", 1)] {
                let base = 1000 + (i % 5000) as i64;
                tokens.execute(params![id, model, base * scale, base / 3, base / 2])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

pub async fn metrics_page(client: &reqwest_lite::Client) -> anyhow::Result<()> {
    let now = fabrik_server::clock::now_ms();
    let mut rows: Vec<(usize, Timing, Timing, Timing, Timing)> = Vec::new();
    for n in [1_000usize, 100_000] {
        let dir = tempfile::tempdir()?;
        drop(fabrik_server::store::Store::open(
            &dir.path().join("fabrik.db"),
        )?);
        seed_runs_with_tokens(&dir.path().join("fabrik.db"), n, now)?;
        let (base, _service) = start(dir.path()).await?;
        let token = client.token(&base).await?;
        let client = &client.with_token(&token);
        let health = time_get(client, &format!("{base}/healthz"), 100).await?;
        let week = time_get(client, &format!("{base}/api/v1/admin/metrics?range=7d"), 20).await?;
        let quarter = time_get(
            client,
            &format!("{base}/api/v1/admin/metrics?range=90d"),
            20,
        )
        .await?;
        let page = time_get(client, &format!("{base}/admin/metrics?range=90d"), 10).await?;
        rows.push((n, health, week, quarter, page));
    }
    println!("\n## /admin/metrics (median; ratio vs /healthz in the same server)");
    println!("| runs in store | /healthz | API 7d | ratio | API 90d (every run) | ratio | SSR page 90d | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    for (n, h, w, q, p) in &rows {
        let r = |t: &Timing| t.median.as_secs_f64() / h.median.as_secs_f64();
        println!(
            "| {n} | {:.2} ms | {:.2} ms | {:.0}× | {:.2} ms | {:.0}× | {:.2} ms | {:.0}× |",
            ms(h.median),
            ms(w.median),
            r(w),
            ms(q.median),
            r(q),
            ms(p.median),
            r(p)
        );
    }
    let (small, large) = (&rows[0], &rows[1]);
    println!(
        "\n100k vs 1k runs: API 90d {:.1}×, SSR page {:.1}× (the aggregates scan the range's runs in SQL)",
        large.3.median.as_secs_f64() / small.3.median.as_secs_f64(),
        large.4.median.as_secs_f64() / small.4.median.as_secs_f64()
    );
    Ok(())
}

/// A data dir like a busy server's: the store with 20,000 runs and 200 run DBs of
/// about 1 MB each.
fn busy_data_dir(dir: &Path) -> anyhow::Result<Vec<RunFiles>> {
    std::fs::create_dir_all(dir)?;
    drop(fabrik_server::store::Store::open(&dir.join("fabrik.db"))?);
    seed_runs_with_tokens(
        &dir.join("fabrik.db"),
        20_000,
        fabrik_server::clock::now_ms(),
    )?;
    let mut runs = Vec::new();
    for i in 0..200 {
        let run_dir = dir.join("runs").join(format!("run-{i}"));
        std::fs::create_dir_all(&run_dir)?;
        let db = run_dir.join("state.db");
        let conn = rusqlite::Connection::open(&db)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(
            "CREATE TABLE _smithers_events (seq INTEGER PRIMARY KEY, payload_json TEXT)",
        )?;
        let tx = conn.unchecked_transaction()?;
        for seq in 0..2000 {
            tx.execute(
                "INSERT INTO _smithers_events (seq, payload_json) VALUES (?1, ?2)",
                params![
                    seq,
                    format!(
                        "{{\"type\":\"NodeOutput\",\"text\":\"{}\"}}",
                        "x".repeat(400)
                    )
                ],
            )?;
        }
        tx.commit()?;
        let log = run_dir.join("run.log");
        std::fs::write(&log, "line\n".repeat(20_000))?;
        runs.push(RunFiles {
            run_id: format!("run-{i}"),
            db,
            log,
            owner: FileOwner::SERVER,
        });
    }
    Ok(runs)
}

pub fn backup_throughput() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let runs = busy_data_dir(&data)?;
    let bytes = backup::dir_size(&data);

    let copy_to = dir.path().join("plain-copy");
    let t = Instant::now();
    copy_tree(&data, &copy_to)?;
    let plain = t.elapsed();

    let t = Instant::now();
    let (path, manifest) = backup::create(
        &data,
        &dir.path().join("backups"),
        &runs,
        fabrik_server::clock::now_ms(),
    )?;
    let ours = t.elapsed();
    let t = Instant::now();
    let target = dir.path().join("restored");
    backup::restore(&path, &target)?;
    let restore = t.elapsed();

    let mb = bytes as f64 / 1_048_576.0;
    println!("\n## Backups ({mb:.0} MB: a store with 20,000 runs and 200 run DBs with logs)");
    println!("| | time | MB/s | ratio vs plain copy |");
    println!("|---|---|---|---|");
    let row = |what: &str, d: std::time::Duration| {
        println!(
            "| {what} | {:.0} ms | {:.0} | {:.2}× |",
            ms(d),
            mb / d.as_secs_f64(),
            d.as_secs_f64() / plain.as_secs_f64()
        )
    };
    row("plain file copy (cp -r)", plain);
    row("backup (online backup API, fsync)", ours);
    row("restore (integrity check + copy)", restore);
    println!(
        "backup size {} bytes, {} runs",
        manifest.bytes,
        manifest.runs.len()
    );
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
