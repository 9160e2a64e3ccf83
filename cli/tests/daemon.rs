//! `fabrik daemon` against a real server: `runs show` answered from its cache with the
//! API's own JSON, the cache dropped when the server reports a change, the server
//! marked stale (its last state still served) when it goes down, owner-only files.
mod common;

use common::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

/// Stops the daemon of the server's data dir whatever happens.
struct Running(std::path::PathBuf);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_fabrik"))
            .args(["daemon", "stop"])
            .env("FABRIK_CONFIG", self.0.join("cli.toml"))
            .env("FABRIK_CACHE", self.0.join("cache"))
            .output();
    }
}

fn status(server: &Server) -> Value {
    json_of(&fabrik(server, &["daemon", "status", "-o", "json"], None))
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_answers_from_its_cache_and_keeps_it_true() {
    let mut server = start();
    sign_in(&server);
    let api = Api::new(&server.base).await;
    let run = demo_at_gate(&api).await;

    let started = fabrik(&server, &["daemon", "start"], None);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let _running = Running(server.dir.path().to_path_buf());
    let cache = server.dir.path().join("cache");
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let socket = cache.join("daemon.sock");
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );
    eventually("the daemon read the server", || {
        status(&server)["contexts"][0]["runs"] == 1
    })
    .await;

    // Served by the daemon: the API's JSON; refusals keep their exit codes.
    let shown = json_of(&fabrik(
        &server,
        &["runs", "show", &run, "-o", "json"],
        None,
    ));
    let mut direct = api.get(&format!("/runs/{run}")).await;
    let settle = |v: &mut Value| {
        v.as_object_mut().unwrap().remove("now_ms");
        v.as_object_mut().unwrap().remove("heartbeat");
    };
    let mut shown_settled = shown.clone();
    settle(&mut shown_settled);
    settle(&mut direct);
    assert_eq!(shown_settled, direct);
    assert_eq!(
        fabrik(&server, &["runs", "show", "NOPE"], None)
            .status
            .code(),
        Some(5)
    );

    // A change on the server reaches what the daemon serves.
    api.post(
        &format!("/runs/{run}/feedback"),
        json!({"decision": "approve"}),
    )
    .await;
    wait_status(&api, &run, "finished").await;
    eventually("the daemon serves the finished run", || {
        let shown = json_of(&fabrik(
            &server,
            &["runs", "show", &run, "-o", "json"],
            None,
        ));
        shown["summary"]["status"] == "finished"
    })
    .await;

    // The server goes down: stale, and its last state still served.
    server.kill();
    eventually("the daemon marks the server stale", || {
        status(&server)["contexts"][0]["stale"].is_string()
    })
    .await;
    let cached = json_of(&fabrik(
        &server,
        &["runs", "show", &run, "-o", "json"],
        None,
    ));
    assert_eq!(cached["summary"]["status"], "finished");

    let stopped = fabrik(&server, &["daemon", "stop"], None);
    assert!(stopped.status.success());
    assert!(!socket.exists(), "the socket goes with the daemon");
    assert_eq!(
        fabrik(&server, &["daemon", "status"], None).status.code(),
        Some(1)
    );
}
