//! Delivering notifications: a loop claims due messages from the store's outbox and
//! sends each on its own task, so a slow or failing channel never holds up a run or
//! another channel. A failed try is retried with backoff; a message being sent when
//! the server stopped is sent after it starts again.
pub mod channels;
mod outbox;
pub mod push;

use crate::sealed::Sealer;
use crate::store::Store;
use domain::notify::{ChannelConfig, ChannelKind};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

pub use outbox::spawn;

/// Knobs for delivery; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    /// The first retry waits this long; each next one twice as long (up to 10 min).
    pub retry_base: Duration,
    /// Tries before a message is given up.
    pub max_attempts: i64,
    /// Accept `http://` push endpoints (a push service on loopback in tests).
    pub allow_http_push: bool,
    /// How long the Approve button of a notification works.
    pub approve_ttl: Duration,
    /// Messages sent at once.
    pub concurrency: usize,
    /// Where this server listens: channel URLs may not point back at it.
    pub listen: Option<std::net::SocketAddr>,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        NotifyOptions {
            retry_base: Duration::from_secs(2),
            max_attempts: 12,
            allow_http_push: false,
            approve_ttl: Duration::from_secs(30 * 60),
            concurrency: 64,
            listen: None,
        }
    }
}

/// Counts of messages sent and failed by channel and type, for `/metrics`.
#[derive(Default)]
pub struct Counters {
    counts: Mutex<HashMap<(String, String, bool), u64>>,
}

impl Counters {
    pub fn add(&self, channel: &str, kind: &str, sent: bool) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((channel.into(), kind.into(), sent)).or_default() += 1;
    }

    /// `(channel, type, sent?, count)` rows.
    pub fn rows(&self) -> Vec<(String, String, bool, u64)> {
        let map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = map
            .iter()
            .map(|((c, k, s), n)| (c.clone(), k.clone(), *s, *n))
            .collect();
        rows.sort();
        rows
    }
}

pub struct Notifier {
    pub(crate) store: Store,
    sealer: Sealer,
    http: reqwest::Client,
    pub vapid: push::Vapid,
    pub options: NotifyOptions,
    /// Pokes the delivery loop when something was queued.
    pub(crate) wake: Notify,
    pub counters: Counters,
}

impl Notifier {
    pub fn new(
        store: Store,
        sealer: Sealer,
        vapid: push::Vapid,
        options: NotifyOptions,
    ) -> anyhow::Result<Notifier> {
        let http = reqwest::Client::builder()
            .timeout(channels::CHANNEL_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fabrik-server/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Notifier {
            store,
            sealer,
            http,
            vapid,
            options,
            wake: Notify::new(),
            counters: Counters::default(),
        })
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn seal(&self, config: &ChannelConfig) -> Vec<u8> {
        let json = serde_json::to_string(config).expect("channel settings serialize");
        self.sealer.seal(&context(config.kind()), &json)
    }

    pub fn open(&self, kind: ChannelKind, sealed: &[u8]) -> Option<ChannelConfig> {
        let json = self.sealer.open_value(&context(kind), sealed)?;
        serde_json::from_str(&json).ok()
    }
}

fn context(kind: ChannelKind) -> String {
    format!("notify-channel/{}", kind.as_str())
}
