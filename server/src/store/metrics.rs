//! Per-run token figures, kept as runs change, and the aggregates `/admin/metrics` reads
//! from them: a page over 100,000 runs never opens a run DB.
use super::Store;
use crate::error::Result;
use domain::cost::{provider_of, PriceTable};
use domain::metrics::{
    buckets, MetricsReport, ModelUsage, Outcomes, RunCost, TemplateDuration, TimeRange,
};
use domain::run::TokenUsage;
use rusqlite::{params, Connection};

/// How many of the most expensive runs the report lists.
const COSTLIEST: usize = 10;

impl Store {
    /// Replaces a run's token figures when they differ from the stored ones.
    /// The report for runs created from `range`'s start until `now_ms`.
    pub async fn metrics(
        &self,
        range: TimeRange,
        now_ms: i64,
        prices: PriceTable,
    ) -> Result<MetricsReport> {
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let from = range.start_ms(now_ms);
            let runs: i64 = tx.query_row(
                "SELECT COUNT(*) FROM runs WHERE created_at_ms >= ?1",
                [from],
                |r| r.get(0),
            )?;
            let models = model_usage(&tx, from, &prices)?;
            let priced = priced_models(&models, &prices);
            let report = MetricsReport {
                range,
                from_ms: from,
                to_ms: now_ms,
                runs: runs as u64,
                total_cost_usd: models.iter().filter_map(|m| m.cost_usd).sum(),
                unpriced_models: models
                    .iter()
                    .filter(|m| m.cost_usd.is_none())
                    .map(|m| m.model.clone())
                    .collect(),
                costliest_runs: run_costs(&tx, from, &priced, Some(COSTLIEST))?,
                outcomes: outcomes(&tx, range, from, now_ms)?,
                durations: durations(&tx, from)?,
                models,
                grafana_url: None,
            };
            tx.commit()?;
            Ok(report)
        })
        .await
    }

    /// Every run created in range with its tokens and cost, newest first (for export).
    pub async fn run_costs(
        &self,
        range: TimeRange,
        now_ms: i64,
        prices: PriceTable,
    ) -> Result<Vec<RunCost>> {
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let from = range.start_ms(now_ms);
            let models = model_usage(&tx, from, &prices)?;
            let priced = priced_models(&models, &prices);
            let runs = run_costs(&tx, from, &priced, None)?;
            tx.commit()?;
            Ok(runs)
        })
        .await
    }
}

fn read_run_tokens(c: &Connection, run_id: &str) -> rusqlite::Result<Vec<TokenUsage>> {
    let mut stmt = c.prepare_cached(
        "SELECT model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, \
         reasoning_tokens FROM run_tokens WHERE run_id = ?1 ORDER BY model",
    )?;
    let rows = stmt.query_map([run_id], |r| {
        Ok(TokenUsage {
            model: r.get(0)?,
            input_tokens: r.get::<_, i64>(1)? as u64,
            output_tokens: r.get::<_, i64>(2)? as u64,
            cache_read_tokens: r.get::<_, i64>(3)? as u64,
            cache_write_tokens: r.get::<_, i64>(4)? as u64,
            reasoning_tokens: r.get::<_, i64>(5)? as u64,
        })
    })?;
    rows.collect()
}

fn model_usage(
    c: &Connection,
    from: i64,
    prices: &PriceTable,
) -> rusqlite::Result<Vec<ModelUsage>> {
    let mut stmt = c.prepare_cached(
        "SELECT t.model, COUNT(*), SUM(t.input_tokens), SUM(t.output_tokens), \
         SUM(t.cache_read_tokens), SUM(t.cache_write_tokens) \
         FROM runs r JOIN run_tokens t ON t.run_id = r.run_id \
         WHERE r.created_at_ms >= ?1 GROUP BY t.model",
    )?;
    let rows = stmt.query_map([from], |r| {
        let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        let model: String = r.get(0)?;
        Ok(ModelUsage {
            provider: provider_of(&model).to_string(),
            runs: n(1)?,
            input_tokens: n(2)?,
            output_tokens: n(3)?,
            cache_read_tokens: n(4)?,
            cache_write_tokens: n(5)?,
            cost_usd: None,
            model,
        })
    })?;
    let mut models: Vec<ModelUsage> = rows.collect::<rusqlite::Result<_>>()?;
    for m in &mut models {
        m.cost_usd = prices.cost(&TokenUsage {
            model: m.model.clone(),
            input_tokens: m.input_tokens,
            output_tokens: m.output_tokens,
            cache_read_tokens: m.cache_read_tokens,
            cache_write_tokens: m.cache_write_tokens,
            reasoning_tokens: 0,
        });
    }
    models.sort_by_key(|m| std::cmp::Reverse(m.total_tokens()));
    Ok(models)
}

/// Each priced model of the range with its four prices per token, as SQL values.
fn priced_models(models: &[ModelUsage], prices: &PriceTable) -> Vec<(String, [f64; 4])> {
    models
        .iter()
        .filter_map(|m| {
            let p = prices.price_for(&m.model)?;
            let per_token = |usd: f64| usd / 1_000_000.0;
            Some((
                m.model.clone(),
                [
                    per_token(p.input),
                    per_token(p.output),
                    per_token(p.cache_read),
                    per_token(p.cache_write),
                ],
            ))
        })
        .collect()
}

/// Runs with their cost, most expensive first when `limit` is set, else newest first.
fn run_costs(
    c: &Connection,
    from: i64,
    priced: &[(String, [f64; 4])],
    limit: Option<usize>,
) -> rusqlite::Result<Vec<RunCost>> {
    // The prices travel as a VALUES list (one row per model used in range).
    let mut values: Vec<String> = vec!["(NULL, 0, 0, 0, 0)".into()];
    let mut args: Vec<rusqlite::types::Value> = vec![from.into()];
    for (model, p) in priced {
        let i = args.len() + 1;
        values.push(format!(
            "(?{i}, ?{}, ?{}, ?{}, ?{})",
            i + 1,
            i + 2,
            i + 3,
            i + 4
        ));
        args.push(model.clone().into());
        args.extend(p.iter().map(|v| rusqlite::types::Value::Real(*v)));
    }
    let (order, limit) = match limit {
        Some(n) => ("cost DESC, r.created_at_ms DESC", format!("LIMIT {n}")),
        None => ("r.created_at_ms DESC, r.run_id DESC", String::new()),
    };
    let sql = format!(
        "WITH prices(model, pin, pout, pcr, pcw) AS (VALUES {}) \
         SELECT r.run_id, r.template, r.status, r.created_at_ms, r.finished_at_ms - r.started_at_ms, \
         COALESCE(SUM(t.input_tokens + t.output_tokens + t.cache_read_tokens + t.cache_write_tokens), 0), \
         COALESCE(SUM(t.input_tokens * p.pin + t.output_tokens * p.pout \
                      + t.cache_read_tokens * p.pcr + t.cache_write_tokens * p.pcw), 0.0) AS cost, \
         COALESCE(SUM(CASE WHEN p.model IS NULL THEN t.input_tokens + t.output_tokens \
                      + t.cache_read_tokens + t.cache_write_tokens END), 0) \
         FROM runs r LEFT JOIN run_tokens t ON t.run_id = r.run_id \
         LEFT JOIN prices p ON p.model = t.model \
         WHERE r.created_at_ms >= ?1 GROUP BY r.run_id ORDER BY {order} {limit}",
        values.join(", ")
    );
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok(RunCost {
            run_id: r.get(0)?,
            template: r.get(1)?,
            status: r.get(2)?,
            created_at_ms: r.get(3)?,
            duration_ms: r.get(4)?,
            tokens: r.get::<_, i64>(5)?.max(0) as u64,
            cost_usd: r.get(6)?,
            unpriced_tokens: r.get::<_, i64>(7)?.max(0) as u64,
        })
    })?;
    rows.collect()
}

fn outcomes(
    c: &Connection,
    range: TimeRange,
    from: i64,
    now_ms: i64,
) -> rusqlite::Result<Vec<Outcomes>> {
    let bucket = range.bucket_ms();
    let mut out = buckets(range, from, now_ms);
    let mut stmt = c.prepare_cached(
        "SELECT (created_at_ms - ?1) / ?2, status, COUNT(*) FROM runs \
         WHERE created_at_ms >= ?1 GROUP BY 1, 2",
    )?;
    let mut rows = stmt.query(params![from, bucket])?;
    while let Some(r) = rows.next()? {
        let (i, status, n): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let Some(b) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        let n = n as u64;
        match status.as_str() {
            "finished" => b.finished += n,
            "failed" => b.failed += n,
            "cancelled" => b.cancelled += n,
            _ => b.open += n,
        }
    }
    Ok(out)
}

fn durations(c: &Connection, from: i64) -> rusqlite::Result<Vec<TemplateDuration>> {
    let mut stmt = c.prepare_cached(
        "SELECT template, COUNT(*), CAST(AVG(finished_at_ms - started_at_ms) AS INTEGER) FROM runs \
         WHERE created_at_ms >= ?1 AND status IN ('finished', 'failed', 'cancelled') \
           AND started_at_ms IS NOT NULL AND finished_at_ms >= started_at_ms \
         GROUP BY template ORDER BY 3 DESC",
    )?;
    let rows = stmt.query_map([from], |r| {
        Ok(TemplateDuration {
            template: r.get(0)?,
            runs: r.get::<_, i64>(1)? as u64,
            average_ms: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// How many waiting runs and failures the overview lists.
const OVERVIEW_ROWS: i64 = 10;

/// What `/admin` reads from the store (the rest comes from the backend and schedules).
pub struct StoredOverview {
    pub active: Vec<domain::overview::ActiveCount>,
    pub waiting: Vec<domain::overview::WaitingRun>,
    pub failures: Vec<domain::overview::FailedRun>,
}

impl Store {
    pub async fn overview(&self) -> Result<StoredOverview> {
        use domain::overview::{ActiveCount, FailedRun, WaitingRun};
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            let active = tx
                .prepare_cached(
                    "SELECT template, status, COUNT(*) FROM runs \
                     WHERE status IN ('pending', 'running', 'waiting-approval') \
                     GROUP BY template, status ORDER BY template, status",
                )?
                .query_map([], |r| {
                    Ok(ActiveCount {
                        template: r.get(0)?,
                        status: r.get(1)?,
                        runs: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let waiting = tx
                .prepare_cached(
                    "SELECT run_id, template, spec, updated_at_ms FROM runs \
                     WHERE status = 'waiting-approval' ORDER BY updated_at_ms LIMIT ?1",
                )?
                .query_map([OVERVIEW_ROWS], |r| {
                    Ok(WaitingRun {
                        run_id: r.get(0)?,
                        template: r.get(1)?,
                        spec: r.get(2)?,
                        since_ms: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let failures = tx
                .prepare_cached(
                    "SELECT run_id, template, COALESCE(finished_at_ms, updated_at_ms), error FROM runs \
                     WHERE status = 'failed' ORDER BY created_at_ms DESC LIMIT ?1",
                )?
                .query_map([OVERVIEW_ROWS], |r| {
                    Ok(FailedRun {
                        run_id: r.get(0)?,
                        template: r.get(1)?,
                        at_ms: r.get(2)?,
                        reason: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            tx.commit()?;
            Ok(StoredOverview {
                active,
                waiting,
                failures,
            })
        })
        .await
    }
}

/// Replaces the run's token rows when they differ from `tokens` (inside the caller's
/// transaction: the run's state and its tokens change together).
pub(super) fn replace_run_tokens(
    c: &Connection,
    run_id: &str,
    tokens: &[TokenUsage],
) -> Result<()> {
    if read_run_tokens(c, run_id)? == tokens {
        return Ok(());
    }
    c.execute("DELETE FROM run_tokens WHERE run_id = ?1", [run_id])?;
    for t in tokens {
        c.execute(
            "INSERT INTO run_tokens (run_id, model, input_tokens, output_tokens, \
             cache_read_tokens, cache_write_tokens, reasoning_tokens) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run_id,
                t.model,
                t.input_tokens as i64,
                t.output_tokens as i64,
                t.cache_read_tokens as i64,
                t.cache_write_tokens as i64,
                t.reasoning_tokens as i64
            ],
        )?;
    }
    Ok(())
}
