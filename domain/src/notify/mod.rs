//! Notifications: where a gate is announced (Web Push to browsers, Zulip, PagerDuty,
//! Alertmanager, email), the settings that shape it, and the words every channel uses.
//! The server sends; these types are what the API and the settings page exchange.
mod channels;
mod message;
mod push;

pub use channels::parse_url;
pub use channels::{
    AlertmanagerConfig, ChannelConfig, ChannelKind, ChannelView, EmailConfig, Field,
    PagerDutyConfig, SmtpSecurity, ZulipConfig, SECRET_MASK,
};
pub use message::{AlertKind, GateAlert, Message};
pub use push::{
    decode_base64url, push_service, ApproveRequest, DeviceView, PushKeys, PushSubscription,
};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A channel as the API takes it: the settings, and whether gates use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelUpdate {
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub config: ChannelConfig,
}

fn enabled_by_default() -> bool {
    true
}

/// The outbox at a glance: messages by state, and deliveries by channel since start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxStatus {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// `(channel, type, delivered?, count)` since the server started.
    pub deliveries: Vec<(String, String, bool, u64)>,
}

/// Site-wide settings for every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifySettings {
    /// How people reach this server (`https://fabrik.example.com`); links in messages
    /// start with it. Empty: links are paths only.
    pub external_url: String,
    /// A gate unanswered this long escalates.
    pub escalate_after_minutes: u32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            external_url: String::new(),
            escalate_after_minutes: 60,
        }
    }
}

impl NotifySettings {
    pub fn validate(&self) -> Result<()> {
        let url = self.external_url.trim();
        let web = url.starts_with("https://") || url.starts_with("http://");
        if !(url.is_empty() || web) {
            return Err(Error::bad_request(format!(
                "The external URL '{url}' must start with https:// (or http://), e.g. https://fabrik.example.com."
            )));
        }
        if self.escalate_after_minutes == 0 || self.escalate_after_minutes > 7 * 24 * 60 {
            return Err(Error::bad_request(
                "Escalate after must be between 1 minute and 7 days (10080 minutes).",
            ));
        }
        Ok(())
    }

    /// `path` as a link people can follow from a message.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.external_url.trim().trim_end_matches('/'))
    }
}
