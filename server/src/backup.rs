//! Backups of a data dir and restores into an empty one. A backup is a directory:
//! the store and every run DB copied with SQLite's online backup (a consistent snapshot,
//! safe while runs write), the run logs, the keys that open stored secrets, the admin's
//! templates and a `manifest.json`. It is written under a temporary name and renamed
//! when complete, so a failed backup never leaves a half-written one behind.
use crate::backend::artifacts::FileOwner;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const STORE: &str = "fabrik.db";
pub const MANIFEST: &str = "manifest.json";
/// Files of the data dir copied as they are (when present).
const KEYS: [&str; 3] = ["env.key", "vapid.key", "credentials.env"];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Sqlite {
        what: String,
        source: rusqlite::Error,
    },
}

type Result<T> = std::result::Result<T, BackupError>;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

fn sql(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Sqlite { what, source }
}

/// A run DB (and log) to include, with whom to act as when opening it.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub run_id: String,
    pub db: PathBuf,
    pub log: PathBuf,
    pub owner: FileOwner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at_ms: i64,
    pub server_version: String,
    /// The data dir it was taken from: restores move run paths from here.
    pub data_dir: PathBuf,
    pub runs: Vec<String>,
    pub bytes: u64,
}

/// Backs up `data_dir` into a new directory under `target`; returns its path and manifest.
pub fn create(
    data_dir: &Path,
    target: &Path,
    runs: &[RunFiles],
    now_ms: i64,
) -> Result<(PathBuf, Manifest)> {
    std::fs::create_dir_all(target).map_err(io(format!(
        "Cannot create the backup directory {}",
        target.display()
    )))?;
    let name = format!(
        "fabrik-backup-{}-{:03}",
        domain::time::rfc3339(now_ms).replace([':', '-'], ""),
        now_ms.rem_euclid(1000)
    );
    let done = target.join(&name);
    if done.exists() {
        return Err(BackupError::Refused(format!(
            "{} already exists; wait a second and back up again.",
            done.display()
        )));
    }
    let partial = target.join(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    match write_backup(data_dir, &partial, runs, now_ms) {
        Ok(manifest) => {
            std::fs::rename(&partial, &done).map_err(io(format!(
                "Cannot rename the finished backup to {}",
                done.display()
            )))?;
            Ok((done, manifest))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

fn write_backup(data_dir: &Path, out: &Path, runs: &[RunFiles], now_ms: i64) -> Result<Manifest> {
    std::fs::create_dir_all(out.join("runs"))
        .map_err(io(format!("Cannot write into {}", out.display())))?;
    copy_db(&data_dir.join(STORE), &out.join(STORE), FileOwner::SERVER)?;
    for key in KEYS {
        let from = data_dir.join(key);
        if from.exists() {
            copy_file(&from, &out.join(key))?;
        }
    }
    copy_dir(&data_dir.join("templates"), &out.join("templates"))?;
    let mut included = Vec::new();
    for run in runs {
        let dir = out.join("runs").join(&run.run_id);
        std::fs::create_dir_all(&dir).map_err(io(format!("Cannot write {}", dir.display())))?;
        if run.db.exists() {
            copy_db(&run.db, &dir.join("state.db"), run.owner)?;
        }
        if run.log.exists() {
            copy_file(&run.log, &dir.join("run.log"))?;
        }
        included.push(run.run_id.clone());
    }
    let manifest = Manifest {
        format: 1,
        created_at_ms: now_ms,
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        data_dir: data_dir.to_path_buf(),
        runs: included,
        bytes: dir_size(out),
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    write_synced(&out.join(MANIFEST), &json)?;
    Ok(manifest)
}

/// SQLite's online backup in one step: one read transaction, so the copy is one
/// consistent moment of the source while its writers carry on (WAL).
fn copy_db(from: &Path, to: &Path, owner: FileOwner) -> Result<()> {
    let what = format!("Backing up {}", from.display());
    owner
        .act(|| {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            // A run DB may have Smithers writing it: read as the Smithers readers do.
            let src = smithers::open_reader(from, flags).map_err(sql(what.clone()))?;
            src.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(sql(what.clone()))?;
            Ok::<_, BackupError>(src)
        })
        .and_then(|src| {
            let mut dst = Connection::open(to).map_err(sql(format!("Writing {}", to.display())))?;
            let backup =
                rusqlite::backup::Backup::new(&src, &mut dst).map_err(sql(what.clone()))?;
            all_pages(&backup).map_err(sql(what.clone()))?;
            drop(backup);
            dst.pragma_update(None, "journal_mode", "DELETE")
                .map_err(sql(what))?;
            Ok(())
        })
}

/// Every page in one step (-1), retrying for a while if the source is locked.
fn all_pages(backup: &rusqlite::backup::Backup) -> rusqlite::Result<()> {
    use rusqlite::backup::StepResult;
    for _ in 0..100 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            _ => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("the database stayed locked for 5 s".into()),
    ))
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let bytes = std::fs::read(from).map_err(io(format!("Reading {}", from.display())))?;
    write_synced(to, &bytes)
}

fn write_synced(to: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let what = format!("Writing {}", to.display());
    let mut f = std::fs::File::create(to).map_err(io(what.clone()))?;
    f.write_all(bytes).map_err(io(what.clone()))?;
    f.sync_all().map_err(io(what))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    std::fs::create_dir_all(to).map_err(io(format!("Writing {}", to.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() {
            copy_file(&path, &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub runs: usize,
    pub users: usize,
    pub audit_entries: usize,
}

/// Restores `backup` into `data_dir`, which must be empty or not exist. Everything is
/// checked before anything is written: a corrupt backup leaves the data dir untouched.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Restored> {
    let manifest = read_manifest(backup)?;
    check_database(&backup.join(STORE))?;
    for run in &manifest.runs {
        let db = backup.join("runs").join(run).join("state.db");
        if db.exists() {
            check_database(&db)?;
        }
    }
    if data_dir.join(STORE).exists()
        || std::fs::read_dir(data_dir).is_ok_and(|mut d| d.next().is_some())
    {
        return Err(BackupError::Refused(format!(
            "{} is not empty: restore into an empty data dir (nothing was changed).",
            data_dir.display()
        )));
    }
    std::fs::create_dir_all(data_dir.join("runs"))
        .map_err(io(format!("Cannot create {}", data_dir.display())))?;
    copy_file(&backup.join(STORE), &data_dir.join(STORE))?;
    for key in KEYS {
        if backup.join(key).exists() {
            copy_file(&backup.join(key), &data_dir.join(key))?;
        }
    }
    copy_dir(&backup.join("templates"), &data_dir.join("templates"))?;
    for run in &manifest.runs {
        let from = backup.join("runs").join(run);
        let to = data_dir.join("runs").join(run);
        let smithers = to.join("workspace/.smithers");
        std::fs::create_dir_all(&smithers).map_err(io(format!("Writing {}", to.display())))?;
        if from.join("state.db").exists() {
            copy_file(&from.join("state.db"), &smithers.join("state.db"))?;
        }
        if from.join("run.log").exists() {
            copy_file(&from.join("run.log"), &to.join("run.log"))?;
        }
    }
    move_run_paths(
        &data_dir.join(STORE),
        &manifest.data_dir,
        data_dir,
        backup,
        &manifest,
    )
}

fn read_manifest(backup: &Path) -> Result<Manifest> {
    let path = backup.join(MANIFEST);
    let text = std::fs::read(&path).map_err(|e| {
        BackupError::Refused(format!(
            "{} is not a fabrik backup ({}: {e}).",
            backup.display(),
            path.display()
        ))
    })?;
    serde_json::from_slice(&text).map_err(|e| {
        BackupError::Refused(format!(
            "{} is damaged: {e}. Use another backup.",
            path.display()
        ))
    })
}

fn check_database(path: &Path) -> Result<()> {
    let refused = |why: String| {
        BackupError::Refused(format!(
            "{} is damaged ({why}); nothing was restored. Use another backup.",
            path.display()
        ))
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| refused(e.to_string()))?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| refused(e.to_string()))?;
    if verdict != "ok" {
        return Err(refused(verdict));
    }
    Ok(())
}

/// Runs recorded under the old data dir now live under the new one, and the backup
/// that was being taken when the copy was made is the one restored from.
fn move_run_paths(
    store: &Path,
    old: &Path,
    new: &Path,
    backup: &Path,
    manifest: &Manifest,
) -> Result<Restored> {
    let what = format!("Updating {}", store.display());
    let conn = Connection::open(store).map_err(sql(what.clone()))?;
    conn.execute(
        "UPDATE backups SET finished_at_ms = ?1, path = ?2, bytes = ?3, runs = ?4 \
         WHERE finished_at_ms IS NULL",
        rusqlite::params![
            manifest.created_at_ms,
            backup.display().to_string(),
            manifest.bytes as i64,
            manifest.runs.len() as i64
        ],
    )
    .map_err(sql(what.clone()))?;
    let (old, new) = (format!("{}/", old.display()), format!("{}/", new.display()));
    if old != new {
        for column in ["workspace", "db_path", "log_path"] {
            conn.execute(
                &format!(
                    "UPDATE runs SET {column} = ?2 || substr({column}, length(?1) + 1) \
                     WHERE substr({column}, 1, length(?1)) = ?1"
                ),
                [&old, &new],
            )
            .map_err(sql(what.clone()))?;
        }
    }
    let count = |table: &str| -> Result<usize> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as usize)
        .map_err(sql(what.clone()))
    };
    Ok(Restored {
        runs: count("runs")?,
        users: count("users")?,
        audit_entries: count("audit_log")?,
    })
}

/// `fabrik-server backup`: backs up the configured data dir, records it in the history
/// (as the server's "Back up now" does) and prints where it went.
pub async fn shell_backup(config: &crate::config::Config) -> anyhow::Result<()> {
    use crate::backend::local::confine::Confinement;
    let data_dir = config.data_dir();
    if !data_dir.join(STORE).exists() {
        anyhow::bail!(
            "{} has no {STORE}: pass the server's --data-dir.",
            data_dir.display()
        );
    }
    let store = crate::store::Store::open(&data_dir.join(STORE))?;
    let owner = Confinement::detect(&config.root(), config.run_user.as_deref()).file_owner();
    let runs = crate::service::backups::run_files(&store, owner).await?;
    let id = store
        .backup_started(crate::clock::now_ms(), "shell")
        .await?;
    let target = config.backup_dir();
    let made = tokio::task::spawn_blocking(move || {
        create(&data_dir, &target, &runs, crate::clock::now_ms())
    })
    .await?;
    let outcome = match &made {
        Ok((path, m)) => Ok((path.display().to_string(), m.bytes, m.runs.len() as u64)),
        Err(e) => Err(e.to_string()),
    };
    store
        .backup_finished(id, crate::clock::now_ms(), outcome)
        .await?;
    let (path, manifest) = made?;
    println!(
        "Backed up {} runs ({} bytes) to {}\nRestore into an empty data dir with:\n  fabrik-server --data-dir /path/to/empty-dir restore {}",
        manifest.runs.len(),
        manifest.bytes,
        path.display(),
        path.display()
    );
    Ok(())
}

/// `fabrik-server restore <backup>` into the configured (empty) data dir.
pub fn shell_restore(config: &crate::config::Config, from: &Path) -> anyhow::Result<()> {
    let data_dir = config.data_dir();
    let restored = restore(from, &data_dir)?;
    println!(
        "Restored {} runs, {} users and {} audit entries into {}.\nStart the server with --data-dir {}",
        restored.runs,
        restored.users,
        restored.audit_entries,
        data_dir.display(),
        data_dir.display()
    );
    Ok(())
}
