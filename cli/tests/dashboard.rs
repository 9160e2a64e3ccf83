//! The real `fabrik dashboard` in tmux against a real server: a demo run is dispatched
//! from the TUI, seen to reach its gate, approved there with notes, and seen to finish.
mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session, killed whatever happens.
struct Tmux(String);

impl Tmux {
    fn start(name: &str, command: &str) -> Tmux {
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "140",
                "-y",
                "32",
                command,
            ])
            .status()
            .expect("tmux (scripts/setup.sh installs it)");
        assert!(ok.success());
        Tmux(name.to_string())
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            Command::new("tmux")
                .args(["send-keys", "-t", &self.0, key])
                .status()
                .unwrap();
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn type_text(&self, text: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", text])
            .status()
            .unwrap();
    }

    async fn wait_for(&self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never showed {what:?}:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.0])
            .status()
            .unwrap()
            .success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gate_is_approved_from_the_dashboard_and_the_run_finishes() {
    let server = start();
    sign_in(&server);
    let api = Api::new(&server.base).await;
    let config = server.dir.path().join("cli.toml");
    let command = format!(
        "FABRIK_CONFIG={} FABRIK_CACHE={} TERM=xterm-256color {} dashboard",
        config.display(),
        server.dir.path().join("cache").display(),
        env!("CARGO_BIN_EXE_fabrik")
    );
    let tmux = Tmux::start(&format!("fabrik-dash-{}", std::process::id()), &command);
    tmux.wait_for("Runs (0)").await;
    // The form opens once the server's templates have been read.
    for _ in 0..50 {
        tmux.keys(&["d"]);
        if tmux.screen().contains("Dispatch a run") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tmux.wait_for("Dispatch a run").await;
    for _ in 0..10 {
        if tmux.screen().contains("◀ demo ▶") {
            break;
        }
        tmux.keys(&["Right"]);
    }
    tmux.keys(&["Enter"]);
    let dispatched = tmux.wait_for("Dispatched ").await;
    let run = dispatched
        .split("Dispatched ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .unwrap()
        .to_string();
    tmux.wait_for("waiting for a decision: f to approve or reject")
        .await;
    let detail = api.get(&format!("/runs/{run}")).await;
    assert_eq!(detail["summary"]["template"], "demo");
    tmux.keys(&["f", "a"]);
    tmux.type_text("from the tui");
    tmux.wait_for("Approve, notes: from the tui").await;
    tmux.keys(&["Enter"]);
    tmux.wait_for("Approved: the run resumes.").await;
    let done = tmux.wait_for("status    finished").await;
    assert!(done.contains("14/14"), "{done}");
    let detail = api.get(&format!("/runs/{run}")).await;
    let gate = &detail["smithers"]["gates"][0];
    assert_eq!(
        (gate["status"].as_str(), gate["note"].as_str()),
        (Some("approved"), Some("from the tui"))
    );
    assert_eq!(gate["decided_by"], "admin");

    tmux.keys(&["q", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "q q did not quit:\n{}",
            tmux.screen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
