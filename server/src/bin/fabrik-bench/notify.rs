//! Paging people: how long from a run reaching its gate (written to its Smithers DB) to
//! the Web Push request and the first channel request arriving at their services, and
//! how fast pushes go out to 1,000 subscribed browsers — against plain HTTP posts of
//! the same size to the same receiver, sent from this process.
use super::{bench_run, ms, running, start_with};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::auth::Role;
use domain::notify::{
    ChannelConfig, ChannelKind, ChannelUpdate, PagerDutyConfig, PushKeys, PushSubscription,
};
use domain::service::{Actor, NotifyService};
use fabrik_server::backend::ExecEvent;
use rusqlite::params;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};

/// Arrival times of requests, by path prefix.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<(String, Instant)>>>);

impl Arrivals {
    fn count(&self, prefix: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .count()
    }

    /// When the `n`th request under `prefix` arrived (1-based), waiting for it.
    async fn nth(&self, prefix: &str, n: usize) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(at) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p.starts_with(prefix))
                .nth(n - 1)
            {
                return at.1;
            }
            assert!(
                Instant::now() < deadline,
                "request {n} under {prefix} never came ({} did)",
                self.count(prefix)
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
}

/// A push service and PagerDuty on loopback: they note arrivals and answer at once.
async fn receiver() -> anyhow::Result<(String, Arrivals)> {
    let arrivals = Arrivals::default();
    let seen = arrivals.clone();
    let app =
        axum::Router::new().fallback(move |uri: axum::http::Uri, _body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                seen.0
                    .lock()
                    .unwrap()
                    .push((uri.path().to_string(), Instant::now()));
                axum::http::StatusCode::CREATED
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, arrivals))
}

fn admin() -> Actor {
    Actor {
        name: "admin".into(),
        role: Role::Admin,
        from: None,
    }
}

/// Keys a browser would hand over: a real P-256 point and a 16-byte secret.
fn browser_keys() -> PushKeys {
    let point = ES256KeyPair::generate()
        .public_key()
        .public_key()
        .to_bytes_uncompressed();
    let mut auth = [0u8; 16];
    getrandom::fill(&mut auth).expect("random");
    PushKeys {
        p256dh: URL_SAFE_NO_PAD.encode(point),
        auth: URL_SAFE_NO_PAD.encode(auth),
    }
}

async fn subscribe(
    service: &fabrik_server::service::Service,
    url: &str,
    n: usize,
) -> anyhow::Result<()> {
    let keys = browser_keys();
    for i in 0..n {
        let sub = PushSubscription {
            endpoint: format!("{url}/push/{i}"),
            keys: keys.clone(),
            device: Some(format!("bench {i}")),
        };
        service.subscribe_push(&admin(), sub, None).await?;
    }
    Ok(())
}

pub async fn gate_to_page() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_base, service) = start_with(dir.path(), &["--allow-http-push", "--no-scheduler"]).await?;
    let (url, arrivals) = receiver().await?;
    subscribe(&service, &url, 1).await?;
    let pd = ChannelConfig::PagerDuty(PagerDutyConfig {
        routing_key: "bench".into(),
        events_url: format!("{url}/pd"),
    });
    service
        .save_channel(
            &admin(),
            ChannelKind::PagerDuty,
            ChannelUpdate {
                enabled: true,
                config: pd,
            },
        )
        .await?;
    let run_id = "01BENCHGATE";
    let writer = bench_run(&service, dir.path(), run_id).await?;
    let rounds = 50;
    let (mut to_push, mut to_channel) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        tokio::time::sleep(Duration::from_millis(super::jitter_ms(i))).await;
        let t = Instant::now();
        writer.execute_batch("BEGIN")?;
        writer.execute(
            "INSERT INTO _smithers_approvals (run_id, node_id, iteration, status, requested_at_ms) VALUES (?1, 'gate', ?2, 'requested', ?2)",
            params![run_id, i as i64],
        )?;
        writer.execute(
            "UPDATE _smithers_runs SET status = 'waiting-approval' WHERE run_id = ?1",
            [run_id],
        )?;
        writer.execute_batch("COMMIT")?;
        // Smithers' process exits with "waiting for approval" right after that write.
        let exited = ExecEvent::Exited {
            run_id: run_id.into(),
            pid: None,
            code: domain::status::EXIT_WAITING_APPROVAL,
        };
        service.on_exec_event(exited).await?;
        // Each round: a gate push and a trigger, then (after the decision) a decided push
        // and a resolve — two of each per round.
        to_push.push(arrivals.nth("/push/", 2 * i + 1).await - t);
        to_channel.push(arrivals.nth("/pd", 2 * i + 1).await - t);
        writer.execute(
            "UPDATE _smithers_approvals SET status = 'approved', decided_at_ms = ?2, decided_by = 'bench' WHERE run_id = ?1 AND iteration = ?2",
            params![run_id, i as i64],
        )?;
        writer.execute(
            "UPDATE _smithers_runs SET status = 'running' WHERE run_id = ?1",
            [run_id],
        )?;
        // …and the server relaunches it, as after a decision.
        service.store().transition(run_id, running(), 0).await?;
        service.refresh(run_id).await?;
        arrivals.nth("/push/", 2 * i + 2).await;
        arrivals.nth("/pd", 2 * i + 2).await;
    }
    let rtt = post_round_trip(&url).await?;
    let p = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * q) as usize]
    };
    println!("\n## Gate reached in the run DB → request at the push service / PagerDuty ({rounds} gates)");
    println!("| | p50 | p95 | p50 / HTTP POST round trip | DB poll interval |");
    println!("|---|---|---|---|---|");
    for (name, v) in [
        ("Web Push", &mut to_push),
        ("PagerDuty (first channel)", &mut to_channel),
    ] {
        let (p50, p95) = (p(v, 0.5), p(v, 0.95));
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.0}× ({:.2} ms) | {} ms |",
            ms(p50),
            ms(p95),
            p50.as_secs_f64() / rtt.as_secs_f64(),
            ms(rtt),
            fabrik_server::live::POLL.as_millis()
        );
    }
    Ok(())
}

/// Median of plain POSTs to the receiver, one at a time.
async fn post_round_trip(url: &str) -> anyhow::Result<Duration> {
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        client
            .post(format!("{url}/baseline"))
            .body(vec![0u8; 400])
            .send()
            .await?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

pub async fn push_throughput() -> anyhow::Result<()> {
    const BROWSERS: usize = 1_000;
    let dir = tempfile::tempdir()?;
    let (_base, service) = start_with(dir.path(), &["--allow-http-push", "--no-scheduler"]).await?;
    let (url, arrivals) = receiver().await?;
    subscribe(&service, &url, BROWSERS).await?;
    let run_id = "01BENCHFANOUT";
    let writer = bench_run(&service, dir.path(), run_id).await?;
    let t = Instant::now();
    writer.execute(
        "INSERT INTO _smithers_approvals (run_id, node_id, iteration, status, requested_at_ms) VALUES (?1, 'gate', 0, 'requested', 0)",
        [run_id],
    )?;
    writer.execute(
        "UPDATE _smithers_runs SET status = 'waiting-approval' WHERE run_id = ?1",
        [run_id],
    )?;
    let exited = ExecEvent::Exited {
        run_id: run_id.into(),
        pid: None,
        code: domain::status::EXIT_WAITING_APPROVAL,
    };
    service.on_exec_event(exited).await?;
    let last = arrivals.nth("/push/", BROWSERS).await - t;
    assert_eq!(arrivals.count("/push/"), BROWSERS);

    // Baseline: the same number of posts, same size, 64 at a time, no outbox or crypto.
    let client = reqwest::Client::new();
    let body = vec![0u8; 400];
    let t = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..BROWSERS {
        let (client, body, url, permit) = (
            client.clone(),
            body.clone(),
            url.clone(),
            sem.clone().acquire_owned().await?,
        );
        tasks.push(tokio::spawn(async move {
            let _ = client
                .post(format!("{url}/baseline/{i}"))
                .body(body)
                .send()
                .await;
            drop(permit);
        }));
    }
    for task in tasks {
        task.await?;
    }
    let plain = t.elapsed();
    println!("\n## One gate → {BROWSERS} subscribed browsers (encrypted, signed, each with its own approve token)");
    println!("| all delivered | per second | plain POSTs, same count (baseline) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| {:.0} ms | {:.0} | {:.0} ms | {:.1}× |",
        ms(last),
        BROWSERS as f64 / last.as_secs_f64(),
        ms(plain),
        last.as_secs_f64() / plain.as_secs_f64()
    );
    Ok(())
}
