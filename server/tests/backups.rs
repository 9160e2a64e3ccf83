//! Backups taken while a genuine demo run writes its DB, restored into an empty data
//! dir: every table comes back; bad targets and damaged backups are refused whole.
mod common;

use common::*;
use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Every row of every table, as text, with `from` in paths written as `to`.
fn dump(path: &Path, from: &str, to: &str) -> Vec<(String, Vec<String>)> {
    let db = read_only(path);
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = db
                .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY 1"))
                .unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..n)
                        .map(|i| match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            other => format!("{other:?}"),
                        })
                        .collect();
                    Ok(cells.join("|").replace(from, to))
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            (t, rows)
        })
        .collect()
}

async fn wait_until_async<F: std::future::Future<Output = bool>>(
    what: &str,
    check: impl Fn() -> F,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn fabrik_server(args: &[&str], data_dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fabrik-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_a_run_writes_restores_every_table() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 400);
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let id = dispatch_demo(&c, &server).await;
    wait_for(&c, &server, &id, "tasks to start", |d| {
        d["summary"]["progress"]["finished"].as_u64() > Some(0)
    })
    .await;
    // The store has the run's tokens too (kept as the run changes).
    wait_until_async("the run's tokens in the store", || async {
        let (_, m) = get(&c, &server.url("/api/v1/admin/metrics?range=24h")).await;
        m["models"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;

    // Five at once while the run writes: one at a time runs, the others are told so.
    let attempts = (0..5).map(|_| {
        let (c, url) = (c.clone(), server.url("/api/v1/admin/backups"));
        tokio::spawn(async move {
            let r = c.post(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    });
    let mut made = Vec::new();
    for a in futures::future::join_all(attempts).await {
        let (code, body) = a.unwrap();
        match code {
            201 => made.push(body),
            409 => assert!(body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already running")),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(!made.is_empty());
    let (_, history) = get(&c, &server.url("/api/v1/admin/backups")).await;
    assert_eq!(history.as_array().unwrap().len(), made.len(), "{history}");
    let backup = PathBuf::from(made[0]["path"].as_str().unwrap());
    assert!(backup.starts_with(tmp.path().join("backups")));
    assert_eq!(made[0]["runs"], 1);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["runs"], json!([id]));
    let run_db = backup.join("runs").join(&id).join("state.db");
    let ok: String = read_only(&run_db)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "a consistent copy of a DB being written");
    assert!(
        backup.join("env.key").exists(),
        "the key that opens stored secrets"
    );
    assert!(backup.join("runs").join(&id).join("run.log").exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("backups"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no partial backup left: {leftovers:?}"
    );

    // Restore into an empty dir: every table as it was in the backup.
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let out = fabrik_server(&["restore", backup.to_str().unwrap()], &target);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Restored 1 runs, 1 users"));
    let (old, new) = (
        format!("{}/", tmp.path().display()),
        format!("{}/", target.display()),
    );
    let (restored_tables, backed_up) = (
        dump(&target.join("fabrik.db"), &old, &new),
        dump(&backup.join("fabrik.db"), &old, &new),
    );
    let without_backups = |t: &[(String, Vec<String>)]| -> Vec<(String, Vec<String>)> {
        t.iter()
            .filter(|(name, _)| name != "backups")
            .cloned()
            .collect()
    };
    assert_eq!(
        without_backups(&restored_tables),
        without_backups(&backed_up)
    );
    // The backup being taken shows as the one restored from, not as still running.
    let history = &restored_tables
        .iter()
        .find(|(n, _)| n == "backups")
        .unwrap()
        .1;
    assert!(
        history.iter().all(|row| !row.contains("|Null|Null|")),
        "{history:?}"
    );
    let name = backup.file_name().unwrap().to_str().unwrap();
    assert!(history.iter().any(|row| row.contains(name)), "{history:?}");
    let tables = restored_tables;
    for t in ["runs", "users", "audit_log", "run_tokens"] {
        assert!(
            tables
                .iter()
                .any(|(name, rows)| name == t && !rows.is_empty()),
            "{t} restored"
        );
    }

    let (_, audit) = get(&c, &server.url("/api/v1/audit")).await;
    assert!(
        audit.to_string().contains("backup.create"),
        "audited: {audit}"
    );

    // A server on the restored dir knows the run, its users and its audit log.
    server.kill();
    let again = Server::start_in(&target);
    let c = again.admin().await;
    let (code, run) = get(&c, &again.url(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(code, 200, "{run}");
    assert!(
        run["smithers"]["tasks"].as_array().unwrap().len() > 1,
        "the run DB came back"
    );
    let (_, audit) = get(&c, &again.url("/api/v1/audit")).await;
    assert!(audit.to_string().contains("run.dispatch"), "{audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_targets_and_damaged_backups_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 150);
    // The backup dir sits under a regular file: it can never be created.
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let bad_dir = blocker.join("backups");
    let server = Server::start_with(
        tmp.path(),
        &[("FABRIK_BACKUP_DIR", bad_dir.to_str().unwrap())],
    );
    let c = server.admin().await;
    let (code, body) = post(&c, &server.url("/api/v1/admin/backups"), json!({})).await;
    assert_eq!(code, 503, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("nothing was kept") && message.contains("writable"),
        "{message}"
    );
    let (_, history) = get(&c, &server.url("/api/v1/admin/backups")).await;
    assert!(
        history[0]["error"].is_string(),
        "the failure is in the history: {history}"
    );

    // From the shell, to a good place.
    let good = tmp.path().join("good-backups");
    let out = Command::new(env!("CARGO_BIN_EXE_fabrik-server"))
        .args([
            "--data-dir",
            tmp.path().to_str().unwrap(),
            "--backup-dir",
            good.to_str().unwrap(),
            "backup",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backup = std::fs::read_dir(&good)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();

    // Into a data dir that is not empty: refused, nothing touched.
    let out = fabrik_server(&["restore", backup.to_str().unwrap()], tmp.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));

    // A damaged store: refused before anything is written.
    let damaged = tmp.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    for f in ["manifest.json", "fabrik.db"] {
        std::fs::copy(backup.join(f), damaged.join(f)).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("fabrik.db")).unwrap();
    for b in bytes.iter_mut().skip(4096).take(4096) {
        *b = 0x5a;
    }
    std::fs::write(damaged.join("fabrik.db"), bytes).unwrap();
    let empty = tmp.path().join("empty");
    let out = fabrik_server(&["restore", damaged.to_str().unwrap()], &empty);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is damaged"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!empty.exists(), "nothing was written");
    let out = fabrik_server(
        &["restore", tmp.path().join("nowhere").to_str().unwrap()],
        &empty,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a fabrik backup"));
}
