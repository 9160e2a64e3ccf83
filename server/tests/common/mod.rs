//! A real fabrik-server process on a free port with its own temp data dir.
#![allow(dead_code)]
pub mod kube;
pub mod receiver;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct Server {
    pub base: String,
    pub data_dir: PathBuf,
    child: Child,
    _tmp: Option<tempfile::TempDir>,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The demo template with short tasks, placed in the data dir so it overrides the
/// bundled one.
pub fn fast_demo_template(data_dir: &Path, task_ms: u32) {
    let bundled = std::fs::read_to_string(repo_root().join("templates/demo.toml")).unwrap();
    let fast = bundled.replace(
        "DEMO_TASK_MS = \"2500\"",
        &format!("DEMO_TASK_MS = \"{task_ms}\""),
    );
    assert_ne!(
        bundled, fast,
        "the bundled demo template should set DEMO_TASK_MS"
    );
    std::fs::create_dir_all(data_dir.join("templates")).unwrap();
    std::fs::write(data_dir.join("templates/demo.toml"), fast).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().to_path_buf();
        fast_demo_template(&data_dir, 150);
        let mut s = Server::start_in(&data_dir);
        s._tmp = Some(tmp);
        s
    }

    /// Starts on an existing data dir (for restart tests); the caller keeps the dir.
    pub fn start_in(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// Starts with extra environment variables (settings, or secrets a run must not see).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn(data_dir, env, Stdio::null(), Stdio::inherit())
    }

    /// Starts with everything the server logs (at `RUST_LOG=trace`) written to `log`.
    pub fn start_logging_to(data_dir: &Path, log: &Path) -> Server {
        Server::start_logging_with(data_dir, log, &[])
    }

    /// [`Server::start_logging_to`] with more environment variables.
    pub fn start_logging_with(data_dir: &Path, log: &Path, env: &[(&str, &str)]) -> Server {
        let file = std::fs::File::create(log).expect("create the log file");
        let also = file.try_clone().expect("clone the log file");
        let mut all = vec![("RUST_LOG", "trace")];
        all.extend_from_slice(env);
        Server::spawn(data_dir, &all, file.into(), also.into())
    }

    fn spawn(data_dir: &Path, env: &[(&str, &str)], stdout: Stdio, stderr: Stdio) -> Server {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_fabrik-server"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--root")
            .arg(repo_root())
            .env("FABRIK_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start fabrik-server");
        let server = Server {
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            child,
            _tmp: None,
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::blocking_get(&format!("{}/healthz", self.base)) {
                if r == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("fabrik-server did not become healthy");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that sends an API token of `username`.
    pub async fn client_for(&self, username: &str, password: &str) -> ::reqwest::Client {
        let token = token_for(self, username, password).await;
        let mut headers = ::reqwest::header::HeaderMap::new();
        let bearer = format!("Bearer {token}");
        headers.insert("authorization", bearer.parse().unwrap());
        ::reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// A client signed in as the first admin.
    pub async fn admin(&self) -> ::reqwest::Client {
        self.client_for("admin", ADMIN_PASSWORD).await
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Tiny blocking GET used before the async client is needed.
mod reqwest {
    pub fn blocking_get(url: &str) -> Result<u16, std::io::Error> {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap();
        let mut s = std::net::TcpStream::connect(host)?;
        write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        Ok(buf
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }
}

pub async fn get(c: &::reqwest::Client, url: &str) -> (u16, Value) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn post(c: &::reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Polls the run until `pred` holds or the timeout passes; returns the last detail.
/// The run's detail once its process has exited.
pub async fn wait_exited(c: &::reqwest::Client, server: &Server, run_id: &str) -> Value {
    wait_for(c, server, run_id, "the run's process to exit", |d| {
        d["execution"]["exit_code"].is_number()
    })
    .await
}

pub async fn wait_for(
    c: &::reqwest::Client,
    server: &Server,
    run_id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        let (_, detail) = get(c, &server.url(&format!("/api/v1/runs/{run_id}"))).await;
        if pred(&detail) {
            return detail;
        }
        last = detail;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // The run's own log says why (a workflow that exited early, say).
    let log = run_log(c, server, run_id).await;
    panic!(
        "timed out waiting for {what}; last state: {}\n--- the run's log ---\n{log}",
        last["summary"]
    );
}

pub fn status_of(detail: &Value) -> &str {
    detail["summary"]["status"].as_str().unwrap_or("")
}

/// Adds a user through the admin API.
pub async fn add_user(
    admin: &::reqwest::Client,
    server: &Server,
    username: &str,
    password: &str,
    role: &str,
) {
    let (code, body) = post(
        admin,
        &server.url("/api/v1/users"),
        serde_json::json!({"username": username, "password": password, "role": role}),
    )
    .await;
    assert_eq!(code, 201, "adding {username}: {body}");
}

pub async fn dispatch_demo(c: &::reqwest::Client, server: &Server) -> String {
    let (code, body) = post(
        c,
        &server.url("/api/v1/runs"),
        serde_json::json!({"template": "demo", "spec": "specs/demo.json"}),
    )
    .await;
    assert_eq!(code, 201, "dispatch: {body}");
    body["run_id"].as_str().unwrap().to_string()
}

/// The leader of the run's process group, found by the `FABRIK_RUN_ID` the server puts
/// in every run's environment.
pub fn run_process(run_id: &str) -> Option<i32> {
    let needle = format!("FABRIK_RUN_ID={run_id}");
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let ours = env.split(|b| *b == 0).any(|v| v == needle.as_bytes());
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let pgid: i32 = stat
            .rsplit(')')
            .next()?
            .split_whitespace()
            .nth(2)?
            .parse()
            .ok()?;
        (ours && pgid == pid).then_some(pid)
    })
}

/// Whether any process of the group is alive (zombies don't count).
pub fn group_alive(pgid: i32) -> bool {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .any(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .ok()
                        .and_then(|stat| {
                            let mut f = stat.rsplit(')').next()?.split_whitespace();
                            let state = f.next()?;
                            let pgrp: i32 = f.nth(1)?.parse().ok()?;
                            Some(pgrp == pgid && state != "Z")
                        })
                        .unwrap_or(false)
                })
        })
        .unwrap_or(false)
}

/// Waits until `cond` holds (checked every 20 ms), or panics naming `what`.
pub async fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Where a local run's Smithers DB lives in the data dir.
pub fn run_db(server: &Server, run_id: &str) -> PathBuf {
    server
        .data_dir
        .join("runs")
        .join(run_id)
        .join("workspace/.smithers/state.db")
}

/// Dispatches the demo and waits until it stops at its human gate.
pub async fn demo_at_gate(c: &::reqwest::Client, server: &Server) -> (String, Value) {
    let id = dispatch_demo(c, server).await;
    let detail = wait_for(c, server, &id, "the gate", |d| {
        status_of(d) == "waiting-approval"
    })
    .await;
    (id, detail)
}

/// An API token for `username`.
pub async fn token_for(server: &Server, username: &str, password: &str) -> String {
    let (code, body) = post(
        &::reqwest::Client::new(),
        &server.url("/api/v1/auth/token"),
        serde_json::json!({"username": username, "password": password, "name": "tests"}),
    )
    .await;
    assert_eq!(code, 201, "token for {username}: {body}");
    body["token"].as_str().unwrap().to_string()
}

/// The status a POST gets that announces a `len`-byte body and sends only its first
/// 64 KiB, as a client does before it hears back (a limit must answer without the rest).
pub fn status_for_announced_body(server: &Server, path: &str, token: &str, len: usize) -> u16 {
    let reply = reply_to_announced_body(server, path, token, len);
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The raw HTTP reply to [`status_for_announced_body`]'s request.
pub fn reply_to_announced_body(server: &Server, path: &str, token: &str, len: usize) -> String {
    use std::io::{Read, Write};
    let host = server.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let _ = s.write_all(&vec![b'x'; 64 * 1024]);
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}

/// A template in the data dir running `sh -c script` (resume: `sh -c true`).
pub fn shell_template(data_dir: &Path, name: &str, script: &str, env: &[(&str, &str)]) {
    let env: String = env.iter().map(|(k, v)| format!("{k} = {v:?}\n")).collect();
    std::fs::create_dir_all(data_dir.join("templates")).unwrap();
    std::fs::write(
        data_dir.join(format!("templates/{name}.toml")),
        format!(
            "name = {name:?}\ncommand = [\"sh\", \"-c\", {script:?}, {name:?}, \"{{run_id}}\"]\n\
             resume_command = [\"sh\", \"-c\", \"true\", {name:?}, \"{{run_id}}\"]\n[env]\n{env}"
        ),
    )
    .unwrap();
}

/// The run's whole log as text.
pub async fn run_log(c: &::reqwest::Client, server: &Server, run_id: &str) -> String {
    c.get(server.url(&format!("/api/v1/runs/{run_id}/logs")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A valid draft spec (fabrik's schema and the interview rules) with this id.
pub fn spec(id: &str) -> Value {
    serde_json::json!({
        "v": 1, "id": id, "title": "Send each team a weekly summary of its merged work",
        "status": "draft", "version": "1.0.0", "lastUpdated": "2026-11-26",
        "supersedes": [], "dependsOn": [],
        "goals": ["Send the summary every Monday", "Show merged pull requests by repository", "Reduce status-report writing to zero"],
        "nonGoals": ["No Slack integration"],
        "req": {"api": ["POST /api/v1/summaries/run triggers a summary"],
                "behavior": ["Given merged work, when Monday comes, then the summary is sent"],
                "obs": ["summaries_sent_total counter"]},
        "accept": ["The summary lists every pull request merged in the last 7 days"],
        "assume": ["Teams have a time zone set"]
    })
}
