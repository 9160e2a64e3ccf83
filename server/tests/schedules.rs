//! Schedules: the scheduler driven with a controllable clock (in-process, its own loop
//! off), and the API's refusals. A cron time fires once however many ticks race for it
//! or restarts come between; downtime is recorded as missed with one catch-up; Forbid
//! skips while a run is going, Replace cancels it.
mod common;

use common::*;
use domain::auth::Role;
use domain::dispatch::DispatchRequest;
use domain::schedule::{ConcurrencyPolicy, FireOutcome, NewSchedule, ScheduleView};
use domain::service::{Actor, RunService, ScheduleService};
use fabrik_server::service::Service;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

const MINUTE: i64 = 60_000;

fn admin() -> Actor {
    Actor {
        name: "admin".into(),
        role: Role::Admin,
        from: None,
    }
}

async fn in_process(data_dir: &Path) -> Arc<Service> {
    use clap::Parser;
    let config = fabrik_server::config::Config::parse_from([
        "fabrik-server".to_string(),
        "--listen=127.0.0.1:0".into(),
        format!("--data-dir={}", data_dir.display()),
        format!("--admin-password={ADMIN_PASSWORD}"),
        "--no-scheduler".into(),
    ]);
    fabrik_server::build(&config).await.unwrap().1
}

fn every_ten_minutes(name: &str, template: &str, concurrency: ConcurrencyPolicy) -> NewSchedule {
    NewSchedule {
        name: name.into(),
        cron: "*/10 * * * *".into(),
        timezone: "UTC".into(),
        concurrency,
        dispatch: DispatchRequest {
            template: template.into(),
            ..Default::default()
        },
    }
}

/// A service on a fresh data dir with a shell template, and its first schedule's first
/// cron time.
async fn with_schedule(
    name: &str,
    script: &str,
    policy: ConcurrencyPolicy,
) -> (tempfile::TempDir, Arc<Service>, i64) {
    let dir = tempfile::tempdir().unwrap();
    shell_template(dir.path(), "shell", script, &[]);
    let service = in_process(dir.path()).await;
    let view = service
        .create_schedule(&admin(), every_ten_minutes(name, "shell", policy))
        .await
        .unwrap();
    let due = view.next_fire_ms.unwrap();
    (dir, service, due)
}

fn started(view: &ScheduleView) -> Vec<String> {
    view.history
        .iter()
        .filter_map(|f| match &f.outcome {
            FireOutcome::Started { run_id } => Some(run_id.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cron_time_fires_once_however_many_ticks_race_for_it_and_across_restarts() {
    let (dir, service, due) = with_schedule("racy", "true", ConcurrencyPolicy::Allow).await;
    assert_eq!(due % (10 * MINUTE), 0, "on a ten-minute boundary");

    let ticks: Vec<_> = (0..8)
        .map(|_| {
            let s = service.clone();
            tokio::spawn(async move { s.schedule_tick(due).await })
        })
        .collect();
    for t in ticks {
        t.await.unwrap().unwrap();
    }
    let view = service.get_schedule(&admin(), "racy").await.unwrap();
    assert_eq!(started(&view).len(), 1, "{:?}", view.history);
    assert_eq!(view.next_fire_ms, Some(due + 10 * MINUTE));

    // A restarted server (a new service on the same data dir) doesn't fire it again.
    let again = in_process(dir.path()).await;
    again.schedule_tick(due + MINUTE).await.unwrap();
    let view = again.get_schedule(&admin(), "racy").await.unwrap();
    assert_eq!(started(&view).len(), 1);
    let runs = again.list_runs(&admin(), Default::default()).await.unwrap();
    assert_eq!(runs.runs.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn downtime_is_recorded_as_missed_with_one_catch_up() {
    let (_dir, service, due) = with_schedule("nightly", "true", ConcurrencyPolicy::Forbid).await;
    // Down for 35 minutes: three times pass unhandled, the fourth is caught up.
    service.schedule_tick(due + 35 * MINUTE).await.unwrap();
    let view = service.get_schedule(&admin(), "nightly").await.unwrap();
    let kinds: Vec<(&str, &FireOutcome)> = view
        .history
        .iter()
        .map(|f| (f.kind.as_str(), &f.outcome))
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(kinds[1], ("cron", &FireOutcome::Missed { count: 3 }));
    assert_eq!(kinds[0].0, "catch-up");
    assert!(
        matches!(kinds[0].1, FireOutcome::Started { .. }),
        "{kinds:?}"
    );
    assert_eq!(view.history[0].scheduled_ms, due + 30 * MINUTE);
    assert_eq!(view.next_fire_ms, Some(due + 40 * MINUTE));
}

#[tokio::test(flavor = "multi_thread")]
async fn forbid_skips_while_a_run_is_going_and_replace_cancels_it() {
    let dir = tempfile::tempdir().unwrap();
    shell_template(dir.path(), "slow", "sleep 30", &[]);
    let service = in_process(dir.path()).await;
    for (name, policy) in [
        ("forbid", ConcurrencyPolicy::Forbid),
        ("replace", ConcurrencyPolicy::Replace),
    ] {
        let view = service
            .create_schedule(&admin(), every_ten_minutes(name, "slow", policy))
            .await
            .unwrap();
        let due = view.next_fire_ms.unwrap();
        service.schedule_tick(due).await.unwrap();
        service.schedule_tick(due + 10 * MINUTE).await.unwrap();
    }
    let forbid = service.get_schedule(&admin(), "forbid").await.unwrap();
    assert_eq!(started(&forbid).len(), 1);
    assert!(
        matches!(&forbid.history[0].outcome, FireOutcome::Skipped { reason } if reason.contains("still going")),
        "{:?}",
        forbid.history
    );

    let replace = service.get_schedule(&admin(), "replace").await.unwrap();
    let runs = started(&replace);
    assert_eq!(runs.len(), 2, "{:?}", replace.history);
    let (newer, older) = (&runs[0], &runs[1]);
    let old = service.get_run(&admin(), older).await.unwrap();
    assert_eq!(old.summary.status.as_str(), "cancelled");
    let new = service.get_run(&admin(), newer).await.unwrap();
    assert!(
        new.summary.status.outcome().is_none(),
        "the new run is going"
    );
    for run in [newer, &started(&forbid)[0]] {
        let _ = service.cancel(&admin(), run).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_refuses_bad_schedules_and_manages_good_ones() {
    let tmp = tempfile::tempdir().unwrap();
    shell_template(tmp.path(), "quick", "true", &[]);
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let url = server.url("/api/v1/schedules");
    let good = json!({"name": "weekday-report", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin",
        "concurrency": "Forbid", "dispatch": {"template": "quick"}});

    for (patch, field) in [
        (json!({"cron": "61 * * * *"}), "cron:"),
        (json!({"cron": "* * *"}), "cron:"),
        (json!({"timezone": "Mars/Olympus"}), "timezone:"),
        (json!({"name": "Bad Name"}), "name:"),
        (
            json!({"dispatch": {"template": "missing"}}),
            "Unknown template",
        ),
        (
            json!({"dispatch": {"template": "quick", "spec": "no-such-spec"}}),
            "No spec 'no-such-spec'",
        ),
    ] {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (code, answer) = post(&c, &url, body).await;
        assert_eq!(code, 400, "{patch}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{patch}: {message}");
    }
    let (_, list) = get(&c, &url).await;
    assert_eq!(list["schedules"], json!([]), "nothing stored");

    let (code, preview) = post(
        &c,
        &server.url("/api/v1/cron/preview"),
        json!({"expr": "0 9 * * 1-5", "tz": "Europe/Berlin"}),
    )
    .await;
    assert_eq!(code, 200, "{preview}");
    assert_eq!(preview["next"].as_array().unwrap().len(), 5);
    assert!(
        preview["next"][0].as_str().unwrap().contains("T09:00:00+0"),
        "{preview}"
    );
    assert!(!preview["description"].as_str().unwrap().is_empty());

    let (code, view) = post(&c, &url, good.clone()).await;
    assert_eq!(code, 201, "{view}");
    assert!(view["next_fire_ms"].is_number());
    let local = view["next_fire_local"].as_str().unwrap();
    assert!(
        local.ends_with(" 09:00 CET") || local.ends_with(" 09:00 CEST"),
        "in the schedule's zone: {local}"
    );
    let (code, _) = post(&c, &url, good).await;
    assert_eq!(code, 409);
    let one = server.url("/api/v1/schedules/weekday-report");
    let (_, view) = post(&c, &format!("{one}/suspend"), json!({})).await;
    assert_eq!(view["suspended"], true);
    assert!(view["next_fire_ms"].is_null());
    let (_, view) = post(&c, &format!("{one}/resume"), json!({})).await;
    assert_eq!(view["suspended"], false);
    let (code, view) = post(&c, &format!("{one}/trigger"), json!({})).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["history"][0]["kind"], "manual");
    assert_eq!(view["history"][0]["outcome"], "started", "{view}");
    let run_id = view["history"][0]["run_id"].as_str().unwrap().to_string();
    wait_exited(&c, &server, &run_id).await;
    let r = c.delete(&one).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (code, _) = get(&c, &one).await;
    assert_eq!(code, 404);
}
