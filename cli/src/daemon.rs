//! `fabrik daemon`: one background process per user that keeps every context's event
//! stream open, caches each server's runs (in memory and in
//! `~/.cache/fabrik/dashboard.db`) and answers `fabrik runs show` and the dashboard
//! over a Unix socket only its owner can open (0600). A run's detail is served from
//! the cache until its server says something changed; a server that stops answering
//! is marked stale and its last state still served.
//!
//! The protocol: one JSON request per line, one JSON answer per line.
use crate::client::{segment, Client};
use crate::config::{self, Config};
use crate::error::{CliError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// How often a server is read again when its event stream says nothing.
const POLL: Duration = Duration::from_secs(5);

/// Where the daemon keeps its socket, pid, cache and log.
pub fn dir() -> PathBuf {
    if let Some(p) = std::env::var_os("FABRIK_CACHE") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("fabrik")
}

/// The daemon's directory, its owner's only (the cache holds what the servers said).
fn private_dir() -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(dir)
}

pub fn socket_path() -> PathBuf {
    dir().join("daemon.sock")
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Status,
    Runs { context: String },
    Show { context: String, run_id: String },
    Stop,
}

/// What the daemon knows of one context.
#[derive(Default)]
struct Cached {
    runs: Value,
    stale: Option<String>,
    updated_ms: i64,
    /// Run details, dropped whenever the server reports a change.
    details: HashMap<String, Value>,
}

struct Daemon {
    clients: HashMap<String, Client>,
    cache: Mutex<HashMap<String, Cached>>,
    db: Mutex<rusqlite::Connection>,
}

/// Asks the running daemon, if there is one (`None` when none answers).
pub async fn ask(request: &Request) -> Option<Value> {
    let stream = UnixStream::connect(socket_path()).await.ok()?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_string(request).ok()?;
    line.push('\n');
    write.write_all(line.as_bytes()).await.ok()?;
    let mut answer = String::new();
    BufReader::new(read).read_line(&mut answer).await.ok()?;
    serde_json::from_str(&answer).ok()
}

/// Runs the daemon in this process until asked to stop.
pub async fn serve() -> Result<i32> {
    let _ = nix::unistd::setsid();
    let dir = private_dir()?;
    let config = Config::load(&config::path())?;
    let clients: HashMap<String, Client> = config
        .contexts
        .iter()
        .map(|(name, c)| (name.clone(), Client::new(&c.server, Some(c.token.clone()))))
        .collect();
    let db = open_db(&dir.join("dashboard.db"))?;
    let daemon = Arc::new(Daemon {
        cache: Mutex::new(load_cache(&db, clients.keys())),
        clients,
        db: Mutex::new(db),
    });
    let socket = socket_path();
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket)?;
    std::fs::set_permissions(&socket, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::fs::write(dir.join("daemon.pid"), std::process::id().to_string())?;
    for name in daemon.clients.keys() {
        daemon.clone().follow(name.clone());
    }
    let (stop_tx, mut stop) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(daemon.clone().answer(stream, stop_tx.clone()));
                }
            }
            _ = stop.recv() => break,
        }
    }
    let _ = std::fs::remove_file(&socket);
    let _ = std::fs::remove_file(dir.join("daemon.pid"));
    Ok(0)
}

impl Daemon {
    /// Keeps the context's runs current: read at once, again at each event of its
    /// stream, and every few seconds besides.
    fn follow(self: Arc<Self>, name: String) {
        let (changed_tx, mut changed) = tokio::sync::mpsc::unbounded_channel();
        let client = self.clients[&name].clone();
        client.follow_events(changed_tx);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    Some(()) = changed.recv() => {
                        while changed.try_recv().is_ok() {}
                    }
                }
                self.read_runs(&name).await;
            }
        });
    }

    async fn read_runs(&self, name: &str) {
        let answer = self.clients[name].get::<Value>("/runs?limit=200").await;
        let mut cache = lock(&self.cache);
        let entry = cache.entry(name.to_string()).or_default();
        match answer {
            Ok(runs) => {
                if runs != entry.runs {
                    entry.details.clear();
                }
                entry.runs = runs;
                entry.stale = None;
                entry.updated_ms = now_ms();
                let text = entry.runs.to_string();
                let db = lock(&self.db);
                let _ = db.execute(
                    "INSERT INTO sources (context, runs, updated_ms) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(context) DO UPDATE SET runs = ?2, updated_ms = ?3",
                    rusqlite::params![name, text, entry.updated_ms],
                );
            }
            Err(e) => entry.stale = Some(e.to_string()),
        }
    }

    async fn answer(self: Arc<Self>, stream: UnixStream, stop: tokio::sync::mpsc::Sender<()>) {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        if BufReader::new(read).read_line(&mut line).await.is_err() {
            return;
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(request) => self.reply(request, &stop).await,
            Err(e) => json!({"error": format!("not a request: {e}")}),
        };
        let _ = write.write_all(format!("{reply}\n").as_bytes()).await;
    }

    async fn reply(&self, request: Request, stop: &tokio::sync::mpsc::Sender<()>) -> Value {
        match request {
            Request::Stop => {
                let _ = stop.send(()).await;
                json!({"stopping": true})
            }
            Request::Status => {
                let cache = lock(&self.cache);
                let contexts: Vec<Value> = self
                    .clients
                    .keys()
                    .map(|name| {
                        let c = cache.get(name);
                        json!({
                            "context": name,
                            "runs": c.and_then(|c| c.runs["runs"].as_array().map(Vec::len)).unwrap_or(0),
                            "stale": c.and_then(|c| c.stale.clone()),
                            "updated_ms": c.map_or(0, |c| c.updated_ms),
                        })
                    })
                    .collect();
                json!({"pid": std::process::id(), "contexts": contexts})
            }
            Request::Runs { context } => {
                let cache = lock(&self.cache);
                match cache.get(&context) {
                    Some(c) => json!({"runs": c.runs, "stale": c.stale}),
                    None => json!({"error": format!("No context '{context}' in the daemon.")}),
                }
            }
            Request::Show { context, run_id } => self.show(&context, &run_id).await,
        }
    }

    /// The run's detail: cached until its server reports a change.
    async fn show(&self, context: &str, run_id: &str) -> Value {
        if let Some(detail) = lock(&self.cache)
            .get(context)
            .and_then(|c| c.details.get(run_id))
        {
            return json!({"detail": detail});
        }
        let Some(client) = self.clients.get(context) else {
            return json!({"error": format!("No context '{context}' in the daemon.")});
        };
        match client
            .get::<Value>(&format!("/runs/{}", segment(run_id)))
            .await
        {
            Ok(detail) => {
                let mut cache = lock(&self.cache);
                let entry = cache.entry(context.to_string()).or_default();
                entry.details.insert(run_id.to_string(), detail.clone());
                json!({"detail": detail})
            }
            Err(e) => json!({"error": e.to_string(), "exit": e.exit_code()}),
        }
    }
}

fn open_db(path: &Path) -> Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open(path)
        .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS sources (context TEXT PRIMARY KEY, runs TEXT NOT NULL, updated_ms INTEGER NOT NULL)",
    )
    .map_err(|e| CliError::Failed(e.to_string()))?;
    Ok(db)
}

/// What the last daemon cached, served (as stale) until each server answers again.
fn load_cache<'a>(
    db: &rusqlite::Connection,
    names: impl Iterator<Item = &'a String>,
) -> HashMap<String, Cached> {
    names
        .map(|name| {
            let row: Option<(String, i64)> = db
                .query_row(
                    "SELECT runs, updated_ms FROM sources WHERE context = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok();
            let cached = match row {
                Some((runs, updated_ms)) => Cached {
                    runs: serde_json::from_str(&runs).unwrap_or(Value::Null),
                    stale: Some("not read since the daemon started".into()),
                    updated_ms,
                    details: HashMap::new(),
                },
                None => Cached::default(),
            };
            (name.clone(), cached)
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `fabrik daemon start`: this binary again, detached, its output to `daemon.log`.
pub async fn start() -> Result<i32> {
    if let Some(status) = ask(&Request::Status).await {
        println!("The daemon is running already (pid {}).", status["pid"]);
        return Ok(0);
    }
    let dir = private_dir()?;
    let log = std::fs::File::create(dir.join("daemon.log"))?;
    let exe = std::env::current_exe()?;
    std::process::Command::new(exe)
        .args(["daemon", "serve"])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    for _ in 0..100 {
        if let Some(status) = ask(&Request::Status).await {
            println!(
                "The daemon runs (pid {}), socket {}.",
                status["pid"],
                socket_path().display()
            );
            return Ok(0);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(CliError::Failed(format!(
        "The daemon did not start: see {}.",
        dir.join("daemon.log").display()
    )))
}

pub async fn stop() -> Result<i32> {
    if ask(&Request::Stop).await.is_none() {
        println!("No daemon is running.");
        return Ok(0);
    }
    for _ in 0..50 {
        if !socket_path().exists() {
            println!("The daemon stopped.");
            return Ok(0);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(CliError::Failed("The daemon did not stop in 5 s.".into()))
}

pub async fn status(format: crate::output::Format) -> Result<i32> {
    let Some(status) = ask(&Request::Status).await else {
        println!("No daemon is running: fabrik daemon start.");
        return Ok(1);
    };
    crate::output::print(format, &status, |s| {
        let contexts = s["contexts"].as_array().cloned().unwrap_or_default();
        Ok(crate::output::Table {
            headers: vec!["context", "runs", "state"],
            rows: contexts
                .iter()
                .map(|c| {
                    let state = match c["stale"].as_str() {
                        Some(why) => crate::output::Cell::toned(
                            format!("stale: {why}"),
                            crate::output::Tone::Bad,
                        ),
                        None => crate::output::Cell::toned("live", crate::output::Tone::Good),
                    };
                    vec![
                        c["context"].as_str().unwrap_or("?").into(),
                        c["runs"].to_string().into(),
                        state,
                    ]
                })
                .collect(),
        })
    })?;
    Ok(0)
}
