//! File-system change notifications (inotify on Linux) for the directories holding run
//! DBs. They only say "look now": the watcher still asks SQLite whether a commit
//! happened, and polls where notifications are unavailable.
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Changed paths waiting for the watcher. Past this the watcher is told to check every
/// run instead of being handed each path.
const CAPACITY: usize = 4096;
/// How long a directory the notifier refused (e.g. out of inotify watches) is only
/// polled before the notifier is asked again: watches free up as runs end.
pub const RETRY_REFUSED: Duration = Duration::from_secs(30);

/// What `DirEvents` asks to watch a directory: the platform notifier, or a test's.
trait DirWatcher: Send {
    fn watch(&mut self, dir: &Path) -> bool;
    fn unwatch(&mut self, dir: &Path);
}

impl DirWatcher for RecommendedWatcher {
    fn watch(&mut self, dir: &Path) -> bool {
        Watcher::watch(self, dir, RecursiveMode::NonRecursive).is_ok()
    }

    fn unwatch(&mut self, dir: &Path) {
        // Fails when the directory is already gone, which is fine.
        let _ = Watcher::unwatch(self, dir);
    }
}

pub struct DirEvents {
    watcher: Option<Box<dyn DirWatcher>>,
    /// Watched directories, and how many runs share each.
    dirs: HashMap<PathBuf, usize>,
    /// Directories the notifier refused, and when it may be asked again. Asking is a
    /// round trip to its thread, not to be made at every poll.
    refused: HashMap<PathBuf, Instant>,
    /// When refusals past their time were last dropped.
    refusals_pruned: Instant,
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
            Ok(w) => Some(Box::new(w) as Box<dyn DirWatcher>),
            Err(e) => {
                tracing::warn!(error = %e, "file-system notifications are unavailable; run databases are polled");
                None
            }
        };
        (DirEvents::with_watcher(watcher, overflowed), rx)
    }

    fn with_watcher(watcher: Option<Box<dyn DirWatcher>>, overflowed: Arc<AtomicBool>) -> Self {
        DirEvents {
            watcher,
            dirs: HashMap::new(),
            refused: HashMap::new(),
            refusals_pruned: Instant::now(),
            overflowed,
        }
    }

    /// Starts reporting changes in `dir` (not beneath it). False when it can't, e.g. the
    /// directory doesn't exist yet or the notifier refused it less than
    /// [`RETRY_REFUSED`] ago.
    pub fn watch(&mut self, dir: &Path) -> bool {
        if let Some(count) = self.dirs.get_mut(dir) {
            *count += 1;
            return true;
        }
        let Some(watcher) = self.watcher.as_mut() else {
            return false;
        };
        let now = Instant::now();
        if self
            .refused
            .get(dir)
            .is_some_and(|&retry_at| now < retry_at)
        {
            return false;
        }
        if !watcher.watch(dir) {
            // Entries past their time would be asked again anyway. Dropped once per
            // `RETRY_REFUSED` (not per refusal: thousands may come at once), so this
            // holds the refusals of two such periods at most.
            if now >= self.refusals_pruned + RETRY_REFUSED {
                self.refused.retain(|_, retry_at| now < *retry_at);
                self.refusals_pruned = now;
            }
            self.refused.insert(dir.to_path_buf(), now + RETRY_REFUSED);
            return false;
        }
        self.refused.remove(dir);
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
                watcher.unwatch(dir);
            }
        }
    }

    /// Whether some paths were dropped since the last call, so every run must be checked.
    pub fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A notifier that refuses while told to, and counts what it was asked.
    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<FakeState>>);

    #[derive(Default)]
    struct FakeState {
        refuse: bool,
        asked: usize,
        unwatched: usize,
    }

    impl DirWatcher for Fake {
        fn watch(&mut self, _dir: &Path) -> bool {
            let mut s = self.0.lock().unwrap();
            s.asked += 1;
            !s.refuse
        }

        fn unwatch(&mut self, _dir: &Path) {
            self.0.lock().unwrap().unwatched += 1;
        }
    }

    impl Fake {
        fn events(&self) -> DirEvents {
            DirEvents::with_watcher(Some(Box::new(self.clone())), Arc::default())
        }
        fn refuse(&self, refuse: bool) {
            self.0.lock().unwrap().refuse = refuse;
        }
        fn asked(&self) -> usize {
            self.0.lock().unwrap().asked
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_directory_is_asked_for_again_after_the_retry_time_only() {
        let fake = Fake::default();
        let mut events = fake.events();
        let dir = Path::new("/runs/a");
        fake.refuse(true);
        assert!(!events.watch(dir));
        assert!(!events.watch(dir), "still refused");
        assert_eq!(fake.asked(), 1, "the notifier is not asked at every poll");

        fake.refuse(false);
        tokio::time::advance(RETRY_REFUSED - Duration::from_secs(1)).await;
        assert!(!events.watch(dir));
        assert_eq!(fake.asked(), 1);

        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(events.watch(dir), "asked again once the retry time came");
        assert!(events.watch(dir), "a second run in the same directory");
        assert_eq!(
            fake.asked(),
            2,
            "a watched directory is not asked for twice"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn only_recent_refusals_are_kept() {
        let fake = Fake::default();
        let mut events = fake.events();
        fake.refuse(true);
        for i in 0..3 {
            assert!(!events.watch(&PathBuf::from(format!("/runs/{i}"))));
        }
        tokio::time::advance(RETRY_REFUSED).await;
        assert!(!events.watch(Path::new("/runs/late")));
        assert_eq!(events.refused.len(), 1);
    }

    #[tokio::test]
    async fn a_shared_directory_is_unwatched_with_its_last_run() {
        let fake = Fake::default();
        let mut events = fake.events();
        let dir = Path::new("/runs/shared");
        assert!(events.watch(dir) && events.watch(dir));
        events.unwatch(dir);
        assert_eq!(fake.0.lock().unwrap().unwatched, 0);
        events.unwatch(dir);
        assert_eq!(fake.0.lock().unwrap().unwatched, 1);
        assert_eq!(fake.asked(), 1);
    }
}
