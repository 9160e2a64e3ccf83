//! One real fabrik-server (the binary `cargo test --workspace` builds beside this
//! one) and the `fabrik` binary, for the CLI's integration tests.
#![allow(dead_code)]
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "admin-password-1";

pub struct Server {
    pub base: String,
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Stops the server now (a server going down under the CLI).
    pub fn kill(&mut self) {
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

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// `$FABRIK_SERVER_BIN`, else the server beside this `fabrik`, else the debug build.
fn server_binary() -> PathBuf {
    let beside = Path::new(env!("CARGO_BIN_EXE_fabrik")).with_file_name("fabrik-server");
    let binary = std::env::var_os("FABRIK_SERVER_BIN")
        .map(PathBuf::from)
        .or_else(|| beside.exists().then_some(beside))
        .unwrap_or_else(|| repo_root().join("target/debug/fabrik-server"));
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build -p fabrik-server, or scripts/test.sh)",
        binary.display()
    );
    binary
}

pub fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(repo_root().join("templates/demo.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/demo.toml"),
        demo.replace("DEMO_TASK_MS = \"2500\"", "DEMO_TASK_MS = \"100\""),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(server_binary())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .arg("--root")
        .arg(repo_root())
        .env("FABRIK_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        base: format!("http://127.0.0.1:{port}"),
        child,
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// `fabrik <args>` with this server's config.
pub fn fabrik(server: &Server, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_fabrik"))
        .args(args)
        .env("FABRIK_CONFIG", server.dir.path().join("cli.toml"))
        .env("FABRIK_CACHE", server.dir.path().join("cache"))
        .env_remove("FABRIK_SERVER")
        .env_remove("FABRIK_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn new(base: &str) -> Api {
        let http = reqwest::Client::new();
        let issued: Value = http
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            base: base.into(),
            token: issued["token"].as_str().unwrap().into(),
            http,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await.1
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (code, body) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!(code < 300, "{path}: {code} {body}");
        body
    }
}

pub async fn wait_status(api: &Api, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let detail = api.get(&format!("/runs/{id}")).await;
        if detail["summary"]["status"] == status {
            return detail;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never got {status}: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn api_text(api: &Api, path: &str) -> String {
    let url = format!("{}/api/v1{path}", api.base);
    let r = api
        .http
        .get(url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    r.text().await.unwrap()
}

/// `fabrik login` as admin, the password on standard input.
pub fn sign_in(server: &Server) {
    let login = fabrik(
        server,
        &[
            "login",
            "--server",
            &server.base,
            "--username",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
}

/// A demo run dispatched through the API, waiting at its gate.
pub async fn demo_at_gate(api: &Api) -> String {
    let run = api.post("/runs", json!({"template": "demo"})).await["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_status(api, &run, "waiting-approval").await;
    run
}
