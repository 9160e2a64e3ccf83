//! The server's copies of cluster runs' Smithers DBs, in `<data-dir>/kube-runs/<run>/`:
//! page views and the live path read these, never the cluster. Each copy lands in a
//! new generation directory, checked before it is published, so a reader never sees a
//! half-written pair of DB and WAL.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub struct Mirror {
    root: PathBuf,
    runs: Mutex<HashMap<String, Copy>>,
    /// Generations are unique across runs and publishers, so two copies being written
    /// at once never share a directory.
    next_generation: AtomicU64,
}

#[derive(Clone)]
struct Copy {
    generation: u64,
    /// Checksums of the files on the volume, as the pull script reports them.
    sig: String,
}

impl Mirror {
    /// Copies already on disk (from before a restart) are used until a newer one comes.
    pub fn open(root: PathBuf) -> Mirror {
        let mut runs = HashMap::new();
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let Some(run_id) = entry.file_name().to_str().and_then(run_id_of) else {
                continue;
            };
            if let Some(generation) = newest_generation(&entry.path()) {
                let sig = String::new();
                runs.insert(run_id, Copy { generation, sig });
            }
        }
        let newest = runs.values().map(|c| c.generation).max().unwrap_or(0);
        Mirror {
            root,
            runs: Mutex::new(runs),
            next_generation: AtomicU64::new(newest + 1),
        }
    }

    /// The DB file of the newest copy, if any.
    pub fn db_path(&self, run_id: &str) -> Option<PathBuf> {
        let copy = self.lock().get(run_id).cloned()?;
        Some(self.dir(run_id, copy.generation).join("state.db"))
    }

    /// Changes whenever a new copy is published; 0 before the first.
    pub fn generation(&self, run_id: &str) -> u64 {
        self.lock().get(run_id).map_or(0, |c| c.generation)
    }

    pub fn sig(&self, run_id: &str) -> String {
        self.lock()
            .get(run_id)
            .map(|c| c.sig.clone())
            .unwrap_or_default()
    }

    /// Writes `files` as the run's newest copy once SQLite finds it sound; a torn copy
    /// (the DB changed while it was read) is refused and the last one stays.
    pub fn publish(
        &self,
        run_id: &str,
        sig: &str,
        files: &[(String, Vec<u8>)],
    ) -> Result<(), String> {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir(run_id, generation);
        let written = write_copy(&dir, files).and_then(|()| check(&dir.join("state.db")));
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let copy = Copy {
            generation,
            sig: sig.to_string(),
        };
        let stale = {
            let mut runs = self.lock();
            match runs.get(run_id) {
                // A newer copy landed while this one was checked: this one is stale.
                Some(newer) if newer.generation > generation => generation,
                _ => runs
                    .insert(run_id.to_string(), copy)
                    .map_or(0, |old| old.generation),
            }
        };
        // Readers holding the old files open keep reading them: unlinking is safe.
        if stale != 0 {
            let _ = std::fs::remove_dir_all(self.dir(run_id, stale));
        }
        Ok(())
    }

    /// Remembers a fact about the run's copy (the pod after whose end it was made).
    pub fn mark(&self, run_id: &str, what: &str) {
        let marker = self.marker(run_id, what);
        if let Some(dir) = marker.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(marker, b"");
    }

    pub fn marked(&self, run_id: &str, what: &str) -> bool {
        self.marker(run_id, what).exists()
    }

    fn marker(&self, run_id: &str, what: &str) -> PathBuf {
        self.root
            .join(safe_name(run_id))
            .join("copied-after")
            .join(safe_name(what))
    }

    fn dir(&self, run_id: &str, generation: u64) -> PathBuf {
        self.root
            .join(safe_name(run_id))
            .join(format!("g{generation}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Copy>> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn write_copy(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for (name, bytes) in files {
        if !matches!(name.as_str(), "state.db" | "state.db-wal") {
            return Err(format!("unexpected file {name:?} in the copy"));
        }
        std::fs::write(dir.join(name), bytes).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Opens the copy (which folds the WAL in) and runs SQLite's quick check.
fn check(db: &Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| format!("the copy is not a sound SQLite DB: {e}"))?;
    if verdict != "ok" {
        return Err(format!("the copy is not a sound SQLite DB: {verdict}"));
    }
    Ok(())
}

fn newest_generation(run_dir: &Path) -> Option<u64> {
    std::fs::read_dir(run_dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix('g')?.parse().ok())
        .filter(|g: &u64| run_dir.join(format!("g{g}/state.db")).exists())
        .max()
}

/// Run ids are free-form: one path component, `_XX` (hex) for any byte but
/// `[A-Za-z0-9-]`, so the id can be read back after a restart.
pub(super) fn safe_name(run_id: &str) -> String {
    run_id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("_{b:02x}")
            }
        })
        .collect()
}

fn run_id_of(name: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut rest = name.as_bytes();
    while let Some((&b, after)) = rest.split_first() {
        if b == b'_' {
            let hex = std::str::from_utf8(after.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &after[2..];
        } else {
            bytes.push(b);
            rest = after;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_bytes(rows: i64) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t(n INTEGER)").unwrap();
        for n in 0..rows {
            conn.execute("INSERT INTO t VALUES (?1)", [n]).unwrap();
        }
        drop(conn);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn copies_are_published_in_new_generations_and_found_again_after_a_restart() {
        let root = tempfile::tempdir().unwrap();
        let mirror = Mirror::open(root.path().to_path_buf());
        assert_eq!((mirror.generation("r/1"), mirror.db_path("r/1")), (0, None));
        let files = vec![("state.db".to_string(), db_bytes(3))];
        mirror.publish("r/1", "sig-a", &files).unwrap();
        let first = mirror.db_path("r/1").unwrap();
        assert!(
            first.starts_with(root.path()),
            "{first:?} stays in the root"
        );
        mirror.publish("r/1", "sig-b", &files).unwrap();
        assert!(mirror.generation("r/1") > 1);
        assert_eq!(mirror.sig("r/1"), "sig-b");
        assert!(!first.exists(), "the older copy is removed");
        let again = Mirror::open(root.path().to_path_buf());
        assert_eq!(again.db_path("r/1"), mirror.db_path("r/1"));
    }

    #[test]
    fn directory_names_read_back_as_the_run_id() {
        for id in ["01ABC", "r/1", "../x", "a_b.c", "ü"] {
            let name = safe_name(id);
            assert!(!name.contains('/') && !name.starts_with('.'), "{name}");
            assert_eq!(run_id_of(&name).as_deref(), Some(id));
        }
    }

    #[test]
    fn a_torn_copy_is_refused_and_the_last_good_one_stays() {
        let root = tempfile::tempdir().unwrap();
        let mirror = Mirror::open(root.path().to_path_buf());
        let good = vec![("state.db".to_string(), db_bytes(3))];
        mirror.publish("r1", "a", &good).unwrap();
        let mut torn = db_bytes(2000);
        torn.truncate(torn.len() / 2);
        let torn = vec![("state.db".to_string(), torn)];
        assert!(mirror.publish("r1", "b", &torn).is_err());
        assert_eq!((mirror.generation("r1"), mirror.sig("r1")), (1, "a".into()));
        assert_eq!(
            std::fs::read_dir(root.path().join("r1")).unwrap().count(),
            1,
            "the torn copy's directory is gone"
        );
        assert!(mirror.db_path("r1").unwrap().exists());
    }
}
