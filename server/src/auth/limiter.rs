//! Failed-login limits (in memory: a restart forgets them, which only ever helps a
//! legitimate user). An attempt is *reserved* before the slow password check, so a
//! parallel burst can't all pass the check while no failure is recorded yet.
//!
//! Three limits apply at once:
//! - per user *and* address: the one that stops guessing (few tries);
//! - per address: one client trying many users;
//! - per user from everywhere: a slower backstop against guessing from many addresses,
//!   high enough that nobody locks the admin out from their own address by accident.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: usize,
    pub window: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_user_and_address: Limit,
    pub per_address: Limit,
    pub per_user: Limit,
}

impl Default for Limits {
    fn default() -> Limits {
        let five_minutes = Duration::from_secs(300);
        Limits {
            per_user_and_address: Limit {
                max: 5,
                window: five_minutes,
            },
            per_address: Limit {
                max: 20,
                window: five_minutes,
            },
            per_user: Limit {
                max: 100,
                window: Duration::from_secs(3600),
            },
        }
    }
}

pub struct Limiter {
    limits: Limits,
    entries: Mutex<HashMap<String, Entry>>,
    /// Woken whenever an attempt settles, for attempts waiting on a busy limit.
    settled: tokio::sync::Notify,
}

/// Longest an attempt waits for earlier attempts of the same user and address to settle.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why an attempt can't start now.
#[derive(Debug, PartialEq, Eq)]
pub enum NotNow {
    /// Too many recent failures: refuse.
    Limited,
    /// Enough checks under way to reach the limit if they all fail: wait for them.
    Busy,
}

#[derive(Default)]
struct Entry {
    failures: VecDeque<Instant>,
    /// Attempts reserved and not settled yet (their password is being checked).
    pending: usize,
}

/// A reserved attempt; settle it with [`Attempt::succeeded`] or [`Attempt::failed`].
/// Dropped unsettled (e.g. the request was cancelled), it counts as a failure.
pub struct Attempt<'a> {
    limiter: &'a Limiter,
    keys: [String; 3],
    settled: bool,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            entries: Mutex::new(HashMap::new()),
            settled: tokio::sync::Notify::new(),
        }
    }

    /// Reserves one attempt for `user` from `ip`, waiting while earlier checks that
    /// could still fail would reach a limit; `None` when a limit is reached.
    pub async fn begin(&self, ip: &str, user: &str) -> Option<Attempt<'_>> {
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        loop {
            let settled = self.settled.notified();
            match self.try_begin(ip, user, Instant::now()) {
                Ok(attempt) => return Some(attempt),
                Err(NotNow::Limited) => return None,
                Err(NotNow::Busy) => {
                    if tokio::time::timeout_at(deadline, settled).await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Reserves one attempt now, or says why not.
    pub fn try_begin(&self, ip: &str, user: &str, now: Instant) -> Result<Attempt<'_>, NotNow> {
        let keys = keys(ip, user);
        let limits = self.limits_for();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut busy = false;
        for (key, limit) in keys.iter().zip(limits) {
            if let Some(e) = map.get_mut(key) {
                expire(e, limit.window, now);
                if e.failures.len() >= limit.max {
                    return Err(NotNow::Limited);
                }
                busy |= e.failures.len() + e.pending >= limit.max;
            }
        }
        if busy {
            return Err(NotNow::Busy);
        }
        for key in &keys {
            map.entry(key.clone()).or_default().pending += 1;
        }
        Ok(Attempt {
            limiter: self,
            keys,
            settled: false,
        })
    }

    /// Forgets entries with nothing recent and nothing pending.
    pub fn sweep(&self, now: Instant) -> usize {
        let longest = self
            .limits_for()
            .iter()
            .map(|l| l.window)
            .max()
            .unwrap_or_default();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let before = map.len();
        map.retain(|_, e| {
            expire(e, longest, now);
            e.pending > 0 || !e.failures.is_empty()
        });
        before - map.len()
    }

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn limits_for(&self) -> [Limit; 3] {
        [
            self.limits.per_user_and_address,
            self.limits.per_address,
            self.limits.per_user,
        ]
    }

    fn settle(&self, keys: &[String; 3], failed_at: Option<Instant>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for (i, key) in keys.iter().enumerate() {
            let e = map.entry(key.clone()).or_default();
            e.pending = e.pending.saturating_sub(1);
            match failed_at {
                Some(at) => e.failures.push_back(at),
                // A correct password clears that user's count from that address.
                None if i == 0 => e.failures.clear(),
                None => {}
            }
        }
        drop(map);
        self.settled.notify_waiters();
    }
}

impl Attempt<'_> {
    pub fn succeeded(mut self) {
        self.settled = true;
        self.limiter.settle(&self.keys, None);
    }

    pub fn failed(mut self, now: Instant) {
        self.settled = true;
        self.limiter.settle(&self.keys, Some(now));
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.limiter.settle(&self.keys, Some(Instant::now()));
        }
    }
}

fn expire(e: &mut Entry, window: Duration, now: Instant) {
    while e
        .failures
        .front()
        .is_some_and(|t| now.duration_since(*t) > window)
    {
        e.failures.pop_front();
    }
}

fn keys(ip: &str, user: &str) -> [String; 3] {
    let user = user.to_ascii_lowercase();
    [
        format!("pair:{ip}|{user}"),
        format!("ip:{ip}"),
        format!("user:{user}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limiter {
        let w = Duration::from_secs(60);
        Limiter::new(Limits {
            per_user_and_address: Limit { max: 2, window: w },
            per_address: Limit { max: 4, window: w },
            per_user: Limit { max: 6, window: w },
        })
    }

    #[test]
    fn reserved_attempts_count_before_they_fail() {
        let l = small();
        let t = Instant::now();
        let a = l.try_begin("1.1.1.1", "alice", t).unwrap();
        let b = l.try_begin("1.1.1.1", "alice", t).unwrap();
        assert_eq!(
            l.try_begin("1.1.1.1", "alice", t).err(),
            Some(NotNow::Busy),
            "two checks under way could use up the pair's limit"
        );
        a.failed(t);
        b.succeeded();
        l.try_begin("1.1.1.1", "alice", t).unwrap().succeeded(); // and clears
        for _ in 0..2 {
            l.try_begin("1.1.1.1", "alice", t).unwrap().failed(t);
        }
        assert_eq!(
            l.try_begin("1.1.1.1", "alice", t).err(),
            Some(NotNow::Limited)
        );
    }

    #[test]
    fn a_locked_pair_does_not_lock_the_user_out_from_elsewhere() {
        let l = small();
        let t = Instant::now();
        for _ in 0..2 {
            l.try_begin("6.6.6.6", "admin", t).unwrap().failed(t);
        }
        assert!(l.try_begin("6.6.6.6", "admin", t).is_err());
        assert!(
            l.try_begin("10.0.0.5", "admin", t).is_ok(),
            "admin's own address"
        );
        // Spread over many addresses, the per-user backstop still stops guessing.
        for i in 0..6 {
            if let Ok(a) = l.try_begin(&format!("7.7.7.{i}"), "bob", t) {
                a.failed(t);
            }
        }
        assert!(l.try_begin("7.7.7.99", "bob", t).is_err());
        assert!(l
            .try_begin("7.7.7.99", "bob", t + Duration::from_secs(61))
            .is_ok());
    }

    #[test]
    fn the_address_limit_covers_every_user_and_idle_entries_are_swept() {
        let l = small();
        let t = Instant::now();
        for u in ["a", "b", "c", "d"] {
            l.try_begin("1.1.1.1", u, t).unwrap().failed(t);
        }
        assert!(l.try_begin("1.1.1.1", "e", t).is_err());
        assert!(l.tracked() > 0);
        drop(l.try_begin("2.2.2.2", "z", t).unwrap()); // unsettled counts as failed
        assert_eq!(l.sweep(t), 0, "everything is recent");
        let tracked = l.tracked();
        assert_eq!(l.sweep(t + Duration::from_secs(120)), tracked);
        assert_eq!(l.tracked(), 0);
    }
}

#[cfg(test)]
mod waiting {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_burst_waits_for_earlier_checks_then_is_refused_if_they_failed() {
        let l = Arc::new(Limiter::new(Limits::default()));
        let first: Vec<_> = (0..5)
            .map(|_| l.try_begin("1.1.1.1", "admin", Instant::now()).unwrap())
            .collect();
        let waiting = {
            let l = l.clone();
            tokio::spawn(async move { l.begin("1.1.1.1", "admin").await.is_some() })
        };
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "waits while five checks are under way"
        );
        for a in first {
            a.failed(Instant::now());
        }
        assert!(!waiting.await.unwrap(), "refused once they all failed");
    }
}
