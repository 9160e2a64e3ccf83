//! Reaching a run's volume (its PVC) from the server: a command run by exec in a pod
//! that mounts it — the run's own `fabrik` container while it runs, a reader pod
//! (`manifests::reader_pod`) once it is gone. Only `sh`, `cat`, `cp`, `head`, `wc`,
//! `cksum` and `mktemp` are needed in the image (any shell image has them).
use super::manifests::{self, CONTAINER};
use super::{connect, rbac};
use crate::error::Result;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{AttachParams, DeleteParams, PostParams};
use kube::Api;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where a run's Smithers DB may be in the pod, in order: `SMITHERS_DB_PATH` as fabrik
/// sets it, then the DB the fabrik todo-driver workflow writes.
pub const DB_CANDIDATES: [&str; 2] = [
    manifests::SMITHERS_DB,
    "/workspace/workdir/.fabrik/smithers/todo-driver.db",
];
/// Bounds one exec, so a stuck pod can't hold a page or a decision forever.
const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a reader pod may take to start (pulling the image included).
const READER_START: Duration = Duration::from_secs(120);

/// Copies the first DB of `$2…` that exists, and its WAL, out (into a scratch directory
/// first, so each file is framed with its true length), unless their checksums equal
/// `$1`. Prints `none`, `same`, or `db <path> <checksums>` followed by `name length` +
/// the bytes of each file.
const PULL: &str = r#"prev=$1; shift
for db in "$@"; do [ -f "$db" ] && break; db=; done
[ -n "$db" ] || { echo none; exit 0; }
set -- "$db"; [ -f "$db-wal" ] && set -- "$db" "$db-wal"
sig=$(cksum "$@" | tr '\n' ' ')
[ "$sig" = "$prev" ] && { echo same; exit 0; }
tmp=$(mktemp -d) && cp "$@" "$tmp"/ && cd "$tmp" || exit 1
echo "db $db $sig"
for f in "$@"; do n=$(basename "$f"); echo "$n $(wc -c < "$n" | tr -d ' ')"; cat "$n"; done
rm -rf "$tmp""#;

/// Replaces the DB at `$2` with the `$1` bytes read from stdin (a decision written by
/// the server), keeping the old one beside it. The stale WAL goes before the new DB
/// takes its place: a WAL replayed onto a DB it wasn't written for would corrupt it.
const PUSH: &str = r#"db=$2
head -c "$1" > "$db.fabrik-new" || exit 1
[ "$(wc -c < "$db.fabrik-new" | tr -d ' ')" = "$1" ] || { echo "short write" >&2; exit 1; }
cp -f "$db" "$db.before-decision" 2>/dev/null
[ -f "$db-wal" ] && cp -f "$db-wal" "$db-wal.before-decision"
rm -f "$db-wal" "$db-shm" && mv -f "$db.fabrik-new" "$db""#;

/// What a pull found.
#[derive(Debug, PartialEq)]
pub enum Pulled {
    /// No Smithers DB on the volume (yet).
    Missing,
    /// Same checksums as last time.
    Same,
    /// Where the DB is in the pod, its checksums, and the files as the copy names
    /// them (`state.db`, maybe `state.db-wal`).
    Db {
        path: String,
        sig: String,
        files: Vec<(String, Vec<u8>)>,
    },
}

/// The pods of one namespace, for exec and reader pods.
#[derive(Clone)]
pub struct Volumes {
    pods: Api<Pod>,
    settings: manifests::RunSettings,
}

impl Volumes {
    pub fn new(pods: Api<Pod>, settings: manifests::RunSettings) -> Volumes {
        Volumes { pods, settings }
    }

    /// The DB as it is on the volume, read through `pod`.
    pub async fn pull(&self, pod: &str, previous_sig: &str) -> Result<Pulled> {
        let mut args = vec![previous_sig];
        args.extend(DB_CANDIDATES);
        let out = self.exec(pod, PULL, &args, None).await?;
        parse_pull(&out).map_err(|e| unavailable(format!("Reading the run's DB: {e}")))
    }

    /// Writes `db` (a whole DB, no WAL) over the DB at `path`, through `pod`.
    pub async fn push(&self, pod: &str, path: &str, db: Vec<u8>) -> Result<()> {
        let len = db.len().to_string();
        self.exec(pod, PUSH, &[&len, path], Some(db)).await?;
        Ok(())
    }

    /// A running reader pod for the run's volume: made if missing, waited for.
    pub async fn reader(&self, run_id: &str) -> Result<String> {
        let name = manifests::reader_name(run_id);
        let pod = manifests::reader_pod(run_id, &self.settings);
        match self.pods.create(&PostParams::default(), &pod).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(self.explain(e, rbac::CREATE_PODS)),
        }
        let deadline = tokio::time::Instant::now() + READER_START;
        loop {
            let pod = self
                .pods
                .get(&name)
                .await
                .map_err(|e| self.explain(e, rbac::GET_PODS))?;
            match pod.status.and_then(|s| s.phase).as_deref() {
                Some("Running") => return Ok(name),
                Some(phase @ ("Succeeded" | "Failed")) => {
                    // A reader past its deadline: make a new one next time.
                    self.drop_reader(run_id).await;
                    return Err(unavailable(format!(
                        "The pod that reads run {run_id}'s volume ended ({phase}); try again."
                    )));
                }
                _ if tokio::time::Instant::now() > deadline => {
                    return Err(unavailable(format!(
                        "Pod {name} (to read run {run_id}'s volume {}) did not start within {} s: check `kubectl -n {} describe pod {name}` (the PVC may still be attached to another node).",
                        manifests::pvc_name(run_id),
                        READER_START.as_secs(),
                        self.settings.namespace
                    )))
                }
                _ => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    /// Removes the run's reader pod, if any; failures are only logged (it has a
    /// deadline of its own).
    pub async fn drop_reader(&self, run_id: &str) {
        let name = manifests::reader_name(run_id);
        match self.pods.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => tracing::warn!(pod = %name, error = %e, "could not delete the reader pod"),
        }
    }

    /// Runs `script` with `args` in the pod's `fabrik` container; its stdout, or its
    /// stderr as the error when it fails.
    async fn exec(
        &self,
        pod: &str,
        script: &str,
        args: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let run = self.exec_unbounded(pod, script, args, stdin);
        tokio::time::timeout(EXEC_TIMEOUT, run).await.map_err(|_| {
            unavailable(format!(
                "A command in pod {pod} took longer than {} s.",
                EXEC_TIMEOUT.as_secs()
            ))
        })?
    }

    async fn exec_unbounded(
        &self,
        pod: &str,
        script: &str,
        args: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let mut command = vec!["sh", "-c", script, "fabrik"];
        command.extend_from_slice(args);
        let params = AttachParams::default()
            .container(CONTAINER)
            .stdin(stdin.is_some());
        let mut process = self
            .pods
            .exec(pod, command, &params)
            .await
            .map_err(|e| self.explain(e, rbac::EXEC_PODS))?;
        if let (Some(data), Some(mut writer)) = (stdin, process.stdin()) {
            writer.write_all(&data).await?;
            writer.shutdown().await?;
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = process.take_status();
        let (stdout, stderr) = (process.stdout(), process.stderr());
        let read_out = async {
            if let Some(mut s) = stdout {
                s.read_to_end(&mut out).await?;
            }
            Ok::<_, std::io::Error>(())
        };
        let read_err = async {
            if let Some(mut s) = stderr {
                s.read_to_end(&mut err).await?;
            }
            Ok::<_, std::io::Error>(())
        };
        let (a, b) = tokio::join!(read_out, read_err);
        a?;
        b?;
        let status = match status {
            Some(s) => s.await,
            None => None,
        };
        let _ = process.join().await;
        match status {
            Some(s) if s.status.as_deref() != Some("Success") => Err(unavailable(format!(
                "A command in pod {pod} failed: {}",
                String::from_utf8_lossy(&err).trim()
            ))),
            _ => Ok(out),
        }
    }

    fn explain(&self, e: kube::Error, asked: rbac::Permission) -> crate::error::Error {
        connect::explain(e, asked, &self.settings.namespace)
    }
}

fn unavailable(message: String) -> crate::error::Error {
    domain::Error::unavailable(message).into()
}

/// Reads [`PULL`]'s output.
pub fn parse_pull(out: &[u8]) -> std::result::Result<Pulled, String> {
    let (head, mut rest) = split_line(out).ok_or("no answer")?;
    match head {
        "none" => return Ok(Pulled::Missing),
        "same" => return Ok(Pulled::Same),
        _ => {}
    }
    let (path, sig) = head
        .strip_prefix("db ")
        .and_then(|h| h.split_once(' '))
        .ok_or_else(|| format!("unexpected answer {head:?}"))?;
    let db_name = path.rsplit('/').next().unwrap_or(path).to_string();
    let mut files = Vec::new();
    while !rest.is_empty() {
        let (line, after) = split_line(rest).ok_or("a file header is cut")?;
        let (name, len) = line.rsplit_once(' ').ok_or("a file header has no length")?;
        let len: usize = len.parse().map_err(|_| format!("bad length in {line:?}"))?;
        if after.len() < len {
            return Err(format!("{name} is cut short"));
        }
        let named = if name == db_name {
            "state.db"
        } else if name == format!("{db_name}-wal") {
            "state.db-wal"
        } else {
            return Err(format!("unexpected file {name:?} in the copy"));
        };
        files.push((named.to_string(), after[..len].to_vec()));
        rest = &after[len..];
    }
    if !files.iter().any(|(n, _)| n == "state.db") {
        return Err(format!("{db_name} is missing from the copy"));
    }
    Ok(Pulled::Db {
        path: path.to_string(),
        sig: sig.to_string(),
        files,
    })
}

fn split_line(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes.iter().position(|b| *b == b'\n')?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?;
    Some((line, &bytes[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts run here in a real `sh`, as they would in the pod.
    fn sh(script: &str, args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>) {
        use std::io::Write;
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("fabrik")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.success(), out.stdout)
    }

    #[test]
    fn pull_frames_the_db_and_its_wal_and_says_same_when_nothing_changed() {
        let dir = tempfile::tempdir().unwrap();
        let smithers = dir.path().join(".smithers");
        std::fs::create_dir_all(&smithers).unwrap();
        let db = smithers.join("state.db");
        let (first, second) = (db.to_str().unwrap(), "/nonexistent/todo-driver.db");
        let (_, out) = sh(PULL, &["", first, second], b"");
        assert_eq!(parse_pull(&out).unwrap(), Pulled::Missing);
        std::fs::write(&db, b"main\nwith newline").unwrap();
        std::fs::write(smithers.join("state.db-wal"), [0u8, 1, 2, b'\n']).unwrap();
        let (ok, out) = sh(PULL, &["", first, second], b"");
        assert!(ok);
        let Pulled::Db { path, sig, files } = parse_pull(&out).unwrap() else {
            panic!("no DB in {out:?}")
        };
        assert_eq!(path, first);
        assert_eq!(
            files,
            vec![
                ("state.db".to_string(), b"main\nwith newline".to_vec()),
                ("state.db-wal".to_string(), vec![0, 1, 2, b'\n'])
            ]
        );
        let (_, out) = sh(PULL, &[&sig, first, second], b"");
        assert_eq!(parse_pull(&out).unwrap(), Pulled::Same);
        std::fs::write(smithers.join("state.db-wal"), b"more").unwrap();
        let (_, out) = sh(PULL, &[&sig, first, second], b"");
        assert!(matches!(parse_pull(&out).unwrap(), Pulled::Db { .. }));
    }

    #[test]
    fn the_todo_drivers_db_is_found_when_there_is_no_state_db() {
        let dir = tempfile::tempdir().unwrap();
        let todo = dir.path().join("todo-driver.db");
        std::fs::write(&todo, b"todo db").unwrap();
        let missing = dir.path().join(".smithers/state.db");
        let (_, out) = sh(
            PULL,
            &["", missing.to_str().unwrap(), todo.to_str().unwrap()],
            b"",
        );
        let Pulled::Db { path, files, .. } = parse_pull(&out).unwrap() else {
            panic!("no DB in {out:?}")
        };
        assert_eq!(path, todo.to_str().unwrap());
        assert_eq!(files, vec![("state.db".to_string(), b"todo db".to_vec())]);
    }

    #[test]
    fn push_replaces_the_db_drops_the_stale_wal_and_keeps_the_old_pair() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("todo-driver.db");
        std::fs::write(&db, b"old").unwrap();
        std::fs::write(dir.path().join("todo-driver.db-wal"), b"old wal").unwrap();
        let (ok, _) = sh(PUSH, &["9", db.to_str().unwrap()], b"new bytes");
        assert!(ok);
        let read = |n: &str| std::fs::read(dir.path().join(n)).ok();
        assert_eq!(read("todo-driver.db").unwrap(), b"new bytes");
        assert_eq!(read("todo-driver.db-wal"), None);
        assert_eq!(read("todo-driver.db.before-decision").unwrap(), b"old");
        assert_eq!(
            read("todo-driver.db-wal.before-decision").unwrap(),
            b"old wal"
        );
    }

    #[test]
    fn a_short_push_leaves_the_db_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(&db, b"old").unwrap();
        std::fs::write(dir.path().join("state.db-wal"), b"old wal").unwrap();
        let (ok, _) = sh(PUSH, &["100", db.to_str().unwrap()], b"cut");
        assert!(!ok);
        assert_eq!(std::fs::read(&db).unwrap(), b"old");
        assert!(dir.path().join("state.db-wal").exists());
    }

    #[test]
    fn a_cut_copy_is_refused() {
        assert!(parse_pull(b"db /w/state.db 1 2\nstate.db 10\nabc").is_err());
        assert!(parse_pull(b"db /w/state.db 1 2\nstate.db-wal 1\nx").is_err());
        assert!(parse_pull(b"db /w/state.db 1 2\nother 1\nx").is_err());
        assert!(parse_pull(b"").is_err());
    }
}
