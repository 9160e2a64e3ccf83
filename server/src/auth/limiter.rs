//! Failed-login limits per client address and per username (in memory: a restart
//! forgets them, which only ever helps a legitimate user).
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    window: Duration,
    per_ip: usize,
    per_user: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    pub fn new(window: Duration, per_ip: usize, per_user: usize) -> Limiter {
        Limiter {
            window,
            per_ip,
            per_user,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether another attempt from `ip` for `user` may be tried now.
    pub fn allows(&self, ip: &str, user: &str, now: Instant) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.recent(&mut map, &ip_key(ip), now) < self.per_ip
            && self.recent(&mut map, &user_key(user), now) < self.per_user
    }

    pub fn record_failure(&self, ip: &str, user: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [ip_key(ip), user_key(user)] {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// A correct password clears that user's count (not the address's).
    pub fn record_success(&self, user: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&user_key(user));
    }

    fn recent(
        &self,
        map: &mut HashMap<String, VecDeque<Instant>>,
        key: &str,
        now: Instant,
    ) -> usize {
        let Some(times) = map.get_mut(key) else {
            return 0;
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            times.pop_front();
        }
        times.len()
    }
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_user_and_per_address_within_the_window() {
        let l = Limiter::new(Duration::from_secs(60), 4, 2);
        let t = Instant::now();
        l.record_failure("1.1.1.1", "alice", t);
        l.record_failure("2.2.2.2", "alice", t);
        assert!(
            !l.allows("3.3.3.3", "alice", t),
            "alice is limited from anywhere"
        );
        assert!(l.allows("1.1.1.1", "bob", t), "bob is not");
        l.record_failure("1.1.1.1", "bob", t);
        l.record_failure("1.1.1.1", "carol", t);
        l.record_failure("1.1.1.1", "dave", t);
        assert!(
            !l.allows("1.1.1.1", "erin", t),
            "the address is limited for anyone"
        );
        assert!(
            l.allows("1.1.1.1", "erin", t + Duration::from_secs(61)),
            "the window passes"
        );
        l.record_success("alice");
        assert!(l.allows("3.3.3.3", "alice", t));
    }
}
