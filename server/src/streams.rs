//! Long-lived responses (live events, log follows): capped per user and in total, and
//! ended at once when the user's credentials are revoked (password reset, disabled).
use domain::{Error as DomainError, ErrorCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

pub struct Streams {
    per_user: usize,
    total: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    open_total: usize,
    users: HashMap<String, UserStreams>,
}

struct UserStreams {
    open: usize,
    /// Bumped on revocation; every open stream of the user watches it.
    revoked: watch::Sender<u64>,
}

/// One open stream. Dropping it frees its place.
pub struct StreamTicket {
    streams: Arc<Streams>,
    user: String,
    revoked: watch::Receiver<u64>,
}

impl Streams {
    pub fn new(per_user: usize, total: usize) -> Streams {
        Streams {
            per_user,
            total,
            state: Mutex::new(State::default()),
        }
    }

    /// A place for one more stream of `user`, or a 429 that says why.
    pub fn open(self: &Arc<Self>, user: &str) -> Result<StreamTicket, DomainError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.open_total >= self.total {
            return Err(DomainError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "The server has its maximum of {} live streams open. Retry in a minute.",
                    self.total
                ),
            ));
        }
        let entry = state
            .users
            .entry(user.to_string())
            .or_insert_with(|| UserStreams {
                open: 0,
                revoked: watch::channel(0).0,
            });
        if entry.open >= self.per_user {
            return Err(DomainError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "You have {} live streams open (tabs, log follows), the most one user may. \
                     Close some and retry.",
                    self.per_user
                ),
            ));
        }
        entry.open += 1;
        let revoked = entry.revoked.subscribe();
        state.open_total += 1;
        Ok(StreamTicket {
            streams: self.clone(),
            user: user.to_string(),
            revoked,
        })
    }

    /// Ends every open stream of `user`.
    pub fn revoke(&self, user: &str) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(u) = state.users.get(user) {
            u.revoked.send_modify(|n| *n += 1);
        }
    }

    pub fn open_count(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .open_total
    }
}

impl StreamTicket {
    /// Resolves when the user's credentials are revoked; holds the place until then
    /// (or until the stream that awaits it is dropped).
    pub async fn revoked(mut self) {
        let _ = self.revoked.changed().await;
    }
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        let mut state = self.streams.state.lock().unwrap_or_else(|p| p.into_inner());
        state.open_total = state.open_total.saturating_sub(1);
        let gone = match state.users.get_mut(&self.user) {
            Some(u) => {
                u.open = u.open.saturating_sub(1);
                u.open == 0
            }
            None => false,
        };
        if gone {
            state.users.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_user_and_in_total_and_freed_on_drop() {
        let s = Arc::new(Streams::new(2, 3));
        let a1 = s.open("alice").unwrap();
        let _a2 = s.open("alice").unwrap();
        let e = s.open("alice").err().unwrap();
        assert_eq!(e.code, ErrorCode::TooManyRequests);
        let _b1 = s.open("bob").unwrap();
        assert!(s.open("carol").is_err(), "total reached");
        drop(a1);
        assert!(s.open("carol").is_ok());
    }

    #[tokio::test]
    async fn revoking_ends_the_users_streams_only() {
        let s = Arc::new(Streams::new(4, 8));
        let alice = tokio::spawn(s.open("alice").unwrap().revoked());
        let bob = tokio::spawn(s.open("bob").unwrap().revoked());
        s.revoke("alice");
        let wait = std::time::Duration::from_secs(5);
        assert!(
            tokio::time::timeout(wait, alice).await.is_ok(),
            "alice's stream ends"
        );
        assert_eq!(s.open_count(), 1, "alice's place is freed");
        let bob_still = tokio::time::timeout(std::time::Duration::from_millis(50), bob).await;
        assert!(bob_still.is_err(), "bob's stream goes on");
    }
}
