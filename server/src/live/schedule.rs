//! When each watched run is next checked. A min-heap keyed by time, so a wake costs the
//! runs that are due, not a scan of every watched run; moving a run's time leaves its old
//! entry behind, and that entry is skipped when it comes up.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use tokio::time::Instant;

#[derive(Default)]
pub struct Schedule {
    at: HashMap<String, Instant>,
    heap: BinaryHeap<Reverse<(Instant, String)>>,
}

impl Schedule {
    /// Checks `run_id` at `at` (instead of any time set before).
    pub fn set(&mut self, run_id: &str, at: Instant) {
        if self.at.get(run_id) == Some(&at) {
            return;
        }
        self.at.insert(run_id.to_string(), at);
        self.heap.push(Reverse((at, run_id.to_string())));
    }

    pub fn remove(&mut self, run_id: &str) {
        self.at.remove(run_id);
    }

    /// Every scheduled run becomes due at `at`.
    pub fn set_all(&mut self, at: Instant) {
        let ids: Vec<String> = self.at.keys().cloned().collect();
        for id in ids {
            self.set(&id, at);
        }
    }

    /// The earliest time anything may be due (possibly a stale entry: waking for one
    /// only drops it).
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// The runs due by `now`, earliest first; each is unscheduled until set again.
    pub fn take_due(&mut self, now: Instant) -> Vec<String> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Reverse((at, id)) = self.heap.pop().expect("peeked");
            if self.at.get(&id) == Some(&at) {
                self.at.remove(&id);
                due.push(id);
            }
        }
        due
    }

    /// Entries held, stale ones included (for tests: they must not pile up).
    #[cfg(test)]
    fn entries(&self) -> usize {
        self.heap.len()
    }
}

/// `at` rounded up onto a grid of `step` from `origin`, so runs polled at the same rate
/// are checked in one wake rather than each in its own.
pub fn on_grid(at: Instant, origin: Instant, step: std::time::Duration) -> Instant {
    let since = at.saturating_duration_since(origin).as_nanos();
    let step_ns = step.as_nanos().max(1);
    let steps = since.div_ceil(step_ns);
    origin + std::time::Duration::from_nanos((steps * step_ns) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runs_come_due_in_time_order_and_only_once() {
        let t0 = Instant::now();
        let mut s = Schedule::default();
        s.set("b", t0 + Duration::from_millis(20));
        s.set("a", t0 + Duration::from_millis(10));
        s.set("c", t0 + Duration::from_millis(30));
        assert_eq!(s.next(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(s.take_due(t0 + Duration::from_millis(25)), ["a", "b"]);
        assert!(s.take_due(t0 + Duration::from_millis(25)).is_empty());
        assert_eq!(s.take_due(t0 + Duration::from_millis(30)), ["c"]);
    }

    #[test]
    fn a_moved_or_removed_run_is_not_due_at_its_old_time() {
        let t0 = Instant::now();
        let mut s = Schedule::default();
        s.set("moved", t0 + Duration::from_millis(10));
        s.set("moved", t0 + Duration::from_millis(50));
        s.set("gone", t0 + Duration::from_millis(10));
        s.remove("gone");
        assert!(s.take_due(t0 + Duration::from_millis(20)).is_empty());
        assert_eq!(s.take_due(t0 + Duration::from_millis(50)), ["moved"]);
        assert_eq!(s.entries(), 0, "stale entries are dropped as they come up");
    }

    #[test]
    fn set_all_makes_every_run_due_at_once() {
        let t0 = Instant::now();
        let mut s = Schedule::default();
        for id in ["a", "b", "c"] {
            s.set(id, t0 + Duration::from_secs(1));
        }
        s.set_all(t0);
        let mut due = s.take_due(t0);
        due.sort();
        assert_eq!(due, ["a", "b", "c"]);
    }

    #[test]
    fn times_round_up_onto_the_grid() {
        let origin = Instant::now();
        let step = Duration::from_millis(100);
        let at = |ms| origin + Duration::from_millis(ms);
        assert_eq!(on_grid(at(0), origin, step), at(0));
        assert_eq!(on_grid(at(1), origin, step), at(100));
        assert_eq!(on_grid(at(100), origin, step), at(100));
        assert_eq!(on_grid(at(1_050), origin, step), at(1_100));
    }
}
