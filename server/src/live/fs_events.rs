//! File-system change notifications (inotify on Linux) for the directories holding run
//! DBs. They only say "look now": the watcher still asks SQLite whether a commit
//! happened, and polls where notifications are unavailable.
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Changed paths waiting for the watcher. Past this the watcher is told to check every
/// run instead of being handed each path.
const CAPACITY: usize = 4096;

pub struct DirEvents {
    watcher: Option<RecommendedWatcher>,
    /// Watched directories, and how many runs share each.
    dirs: HashMap<PathBuf, usize>,
    overflowed: Arc<AtomicBool>,
}

impl DirEvents {
    /// The notifier and the paths it reports changed. Without a platform notifier
    /// (or when it can't start) every `watch` says no and runs are polled.
    pub fn start() -> (DirEvents, mpsc::Receiver<PathBuf>) {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let overflowed = Arc::new(AtomicBool::new(false));
        let flag = overflowed.clone();
        let handler = move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            // Opens and reads (our own snapshot reads among them) change nothing.
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                if tx.try_send(path).is_err() {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        };
        let watcher = match notify::recommended_watcher(handler) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "file-system notifications are unavailable; run databases are polled");
                None
            }
        };
        let events = DirEvents {
            watcher,
            dirs: HashMap::new(),
            overflowed,
        };
        (events, rx)
    }

    /// Starts reporting changes in `dir` (not beneath it). False when it can't, e.g. the
    /// directory doesn't exist yet.
    pub fn watch(&mut self, dir: &Path) -> bool {
        if let Some(count) = self.dirs.get_mut(dir) {
            *count += 1;
            return true;
        }
        let Some(watcher) = self.watcher.as_mut() else {
            return false;
        };
        if watcher.watch(dir, RecursiveMode::NonRecursive).is_err() {
            return false;
        }
        self.dirs.insert(dir.to_path_buf(), 1);
        true
    }

    pub fn unwatch(&mut self, dir: &Path) {
        let Some(count) = self.dirs.get_mut(dir) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            self.dirs.remove(dir);
            if let Some(watcher) = self.watcher.as_mut() {
                // Fails when the directory is already gone, which is fine.
                let _ = watcher.unwatch(dir);
            }
        }
    }

    /// Whether some paths were dropped since the last call, so every run must be checked.
    pub fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::Relaxed)
    }
}
