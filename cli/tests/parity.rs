//! The CLI and the API give the same results: one real fabrik-server (the binary
//! `cargo leptos build` / `cargo test --workspace` builds beside this one), the same
//! operations through `fabrik` and through `/api/v1`, the answers compared.
mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

/// What stays put once a run rests (at its gate, or ended): all but the clock.
fn settled(mut detail: Value) -> Value {
    let map = detail.as_object_mut().unwrap();
    map.remove("now_ms");
    map.remove("heartbeat");
    detail
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_and_the_api_give_the_same_results() {
    let server = start();
    sign_in(&server);
    let api = Api::new(&server.base).await;

    // Dispatch: one run each way; both wait at their gate, and `--wait` says so (3).
    let waited = fabrik(
        &server,
        &["run", "--template", "demo", "--wait", "-o", "json"],
        None,
    );
    assert_eq!(
        waited.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    let by_cli: Value = serde_json::from_slice(&waited.stdout).unwrap();
    let cli_run = by_cli["summary"]["run_id"].as_str().unwrap().to_string();
    let api_run = demo_at_gate(&api).await;
    wait_status(&api, &cli_run, "waiting-approval").await;

    // Reads: the same JSON.
    for id in [&cli_run, &api_run] {
        let shown = json_of(&fabrik(&server, &["runs", "show", id, "-o", "json"], None));
        assert_eq!(
            settled(shown),
            settled(api.get(&format!("/runs/{id}")).await)
        );
    }
    let listed = json_of(&fabrik(&server, &["runs", "list", "-o", "json"], None));
    assert_eq!(listed, api.get("/runs").await);
    let filtered = json_of(&fabrik(
        &server,
        &[
            "runs",
            "list",
            "--status",
            "waiting-approval",
            "--limit",
            "1",
            "-o",
            "json",
        ],
        None,
    ));
    assert_eq!(
        filtered,
        api.get("/runs?status=waiting-approval&limit=1").await
    );

    // Decisions: approved each way, the same record of it.
    let out = fabrik(
        &server,
        &[
            "feedback",
            "--id",
            &cli_run,
            "--approve",
            "--notes",
            "ship it",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    api.post(
        &format!("/runs/{api_run}/feedback"),
        json!({"decision": "approve", "notes": "ship it"}),
    )
    .await;
    let a = wait_status(&api, &cli_run, "finished").await;
    let b = wait_status(&api, &api_run, "finished").await;
    let gate = |d: &Value| {
        let g = &d["smithers"]["gates"][0];
        (
            g["status"].clone(),
            g["decided_by"].clone(),
            g["note"].clone(),
        )
    };
    assert_eq!(gate(&a), gate(&b));
    assert_eq!(gate(&a).1, "admin");
    let log = fabrik(&server, &["runs", "logs", &cli_run], None);
    let text = api_text(&api, &format!("/runs/{cli_run}/logs")).await;
    assert_eq!(String::from_utf8_lossy(&log.stdout), text);

    // Env sets, schedules, doctor: the same state whichever way it was written.
    let file = server.dir.path().join("dev.env");
    std::fs::write(&file, "GREETING=hello\nLOG_LEVEL=debug\n").unwrap();
    let file = file.to_str().unwrap();
    let pushed = json_of(&fabrik(
        &server,
        &["env", "push", "hoth", "dev", file, "-o", "json"],
        None,
    ));
    assert_eq!(pushed, api.get("/env/hoth/dev").await);
    let pulled = fabrik(&server, &["env", "pull", "hoth", "dev"], None);
    let downloaded = api_text(&api, "/env/hoth/dev/dotenv").await;
    let without_time = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("# Downloaded"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        without_time(&String::from_utf8_lossy(&pulled.stdout)),
        without_time(&downloaded)
    );
    assert!(downloaded.contains("LOG_LEVEL=debug"));
    let created = json_of(&fabrik(
        &server,
        &[
            "schedule",
            "create",
            "--name",
            "nightly",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Berlin",
            "--template",
            "demo",
            "-o",
            "json",
        ],
        None,
    ));
    assert_eq!(created, api.get("/schedules/nightly").await);
    let schedules = json_of(&fabrik(&server, &["schedule", "list", "-o", "json"], None));
    assert_eq!(schedules, api.get("/schedules").await);
    let doctor = fabrik(&server, &["doctor"], None);
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );

    // Rotating a pool from the CLI: the same view the API then shows.
    std::fs::write(
        server.dir.path().join("credentials.env"),
        "ANTHROPIC_API_KEY_1=sk-a\nANTHROPIC_API_KEY_2=sk-b\n",
    )
    .unwrap();
    let rotated = json_of(&fabrik(
        &server,
        &["credentials", "rotate", "anthropic", "-o", "json"],
        None,
    ));
    assert_eq!(
        rotated["providers"][0]["rotation"]["active"],
        "ANTHROPIC_API_KEY_2"
    );
    assert_eq!(rotated, api.get("/admin/credentials").await);
    let listed = fabrik(&server, &["credentials", "list"], None);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("ANTHROPIC_API_KEY_2") && text.contains("by admin"),
        "{text}"
    );

    // A backup from the CLI is the one the API lists first, with its restore command.
    let made = json_of(&fabrik(&server, &["backup", "-o", "json"], None));
    let history = api.get("/admin/backups").await;
    assert_eq!(made, history[0]);
    assert!(std::path::Path::new(made["path"].as_str().unwrap())
        .join("manifest.json")
        .exists());
    let listed = fabrik(&server, &["backup", "list"], None);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("ok") && text.contains("restore"), "{text}");
    assert_eq!(
        json_of(&fabrik(&server, &["backup", "list", "-o", "json"], None)),
        history
    );

    // A spec from the interview, its todo generated and approved: as the API has them.
    let answers = "weekly-summary\nSummarise each week's runs in one page\n\n\
        Publish the summary every Monday by 09:00\nLink every failed run with its reason\n\
        Keep the page under 200 KB\n\nEdit runs\n\n\n\
        Given a finished week When Monday 09:00 comes Then the summary is published\n\n\
        A metric counts summaries published\n\nThe summary lists 100% of the week's failed runs\n\n\
        Runs keep their reports for a week\n\n";
    let interviewed = fabrik(&server, &["spec", "interview"], Some(answers));
    assert!(
        interviewed.status.success(),
        "{}",
        String::from_utf8_lossy(&interviewed.stderr)
    );
    let generated = json_of(&fabrik(
        &server,
        &["todo", "generate", "weekly-summary", "-o", "json"],
        None,
    ));
    let approved = json_of(&fabrik(
        &server,
        &["todo", "approve", "weekly-summary", "-o", "json"],
        None,
    ));
    assert_eq!(generated["todo"]["todo"], approved["todo"]["todo"]);
    let shown = json_of(&fabrik(
        &server,
        &["spec", "show", "weekly-summary", "-o", "json"],
        None,
    ));
    assert_eq!(shown, api.get("/specs/weekly-summary").await);
    assert_eq!(shown["spec"]["status"], "ready");

    // Refusals: the API's message, and an exit code per kind.
    let missing = fabrik(&server, &["runs", "show", "NOPE"], None);
    assert_eq!(missing.status.code(), Some(5));
    let (code, body) = api.call(reqwest::Method::GET, "/runs/NOPE", None).await;
    assert_eq!(code, 404);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains(message));
    let ended = fabrik(&server, &["runs", "cancel", &cli_run], None);
    let (code, _) = api
        .call(
            reqwest::Method::POST,
            &format!("/runs/{api_run}/cancel"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (ended.status.code(), code),
        (Some(6), 409),
        "cancelling a finished run"
    );
    let bad = fabrik(&server, &["run", "--template", "nope"], None);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let nobody = fabrik(&server, &["--context", "elsewhere", "runs", "list"], None);
    assert_eq!(nobody.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("No context 'elsewhere'"));
    let piped = fabrik(&server, &["dashboard"], None);
    assert_eq!(piped.status.code(), Some(2), "no terminal, no dashboard");
    assert!(String::from_utf8_lossy(&piped.stderr).contains("needs a terminal"));
    let revoked = Command::new(env!("CARGO_BIN_EXE_fabrik"))
        .args([
            "--server",
            &server.base,
            "--token",
            "fab_wrong",
            "runs",
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(
        revoked.status.code(),
        Some(3),
        "a token the server doesn't take"
    );
}

#[test]
fn a_server_that_is_down_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_fabrik"))
        .args([
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "x",
            "runs",
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Cannot reach fabrik-server"));
}

/// `runs watch -o json`: a line per change, as the run goes from dispatch to its gate.
#[tokio::test(flavor = "multi_thread")]
async fn runs_watch_prints_each_change() {
    use std::io::BufRead;
    let server = start();
    sign_in(&server);
    let mut watch = Command::new(env!("CARGO_BIN_EXE_fabrik"))
        .args(["runs", "watch", "-o", "json"])
        .env("FABRIK_CONFIG", server.dir.path().join("cli.toml"))
        .env("FABRIK_CACHE", server.dir.path().join("cache"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let api = Api::new(&server.base).await;
    let run = api.post("/runs", json!({"template": "demo"})).await["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let lines = std::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut statuses = Vec::new();
    for line in lines {
        let change: Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert_eq!(change["run_id"], run.as_str());
        statuses.push(change["status"].as_str().unwrap().to_string());
        if statuses.last().unwrap() == "waiting-approval" {
            break;
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(statuses.len() >= 2, "{statuses:?}");
    let mut deduped = statuses.clone();
    deduped.dedup();
    assert_eq!(deduped.last().unwrap(), "waiting-approval");
}

#[test]
fn shell_completions_name_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_fabrik"))
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("dashboard") && script.contains("feedback"),
            "{shell}"
        );
    }
}
