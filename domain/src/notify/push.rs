//! Web Push subscriptions as browsers hand them over (`PushSubscription.toJSON()`).
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushKeys {
    /// The browser's P-256 public key, base64url (65 bytes uncompressed).
    pub p256dh: String,
    /// Its 16-byte auth secret, base64url.
    pub auth: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushSubscription {
    pub endpoint: String,
    pub keys: PushKeys,
    /// What the person calls this device ("Firefox on my laptop"); optional.
    #[serde(default)]
    pub device: Option<String>,
}

/// A subscribed browser, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceView {
    pub id: i64,
    pub device: String,
    /// The push service's host (fcm.googleapis.com, updates.push.services.mozilla.com…).
    pub service: String,
    pub created_at_ms: i64,
    pub last_sent_ms: Option<i64>,
}

/// Approve from a notification: the token the push carried, and the run it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApproveRequest {
    pub token: String,
    pub run_id: String,
}

impl PushSubscription {
    /// Checks the shape; `allow_http` is for push services on loopback in tests.
    pub fn validate(&self, allow_http: bool) -> Result<()> {
        let endpoint = self.endpoint.trim();
        let plain_ok = allow_http && endpoint.starts_with("http://");
        if !(endpoint.starts_with("https://") || plain_ok) {
            return Err(Error::bad_request(format!(
                "The push endpoint must be an https:// URL from the browser's push service; got '{}'.",
                truncate(endpoint, 80)
            )));
        }
        if endpoint.len() > 2048 {
            return Err(Error::bad_request(
                "The push endpoint is longer than 2048 characters.",
            ));
        }
        check_key(&self.keys.p256dh, "keys.p256dh", 65)?;
        check_key(&self.keys.auth, "keys.auth", 16)?;
        if self
            .device
            .as_deref()
            .is_some_and(|d| d.chars().count() > 100)
        {
            return Err(Error::bad_request(
                "The device name is longer than 100 characters.",
            ));
        }
        Ok(())
    }
}

/// The push service's host, which names the browser's vendor well enough for a list.
pub fn push_service(endpoint: &str) -> String {
    super::channels::parse_url(endpoint)
        .map(|(host, _)| host)
        .unwrap_or_else(|_| "unknown".into())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A base64url value that must decode to `len` bytes.
fn check_key(value: &str, name: &str, len: usize) -> Result<()> {
    let decoded = decode_base64url(value.trim_end_matches('='));
    match decoded {
        Some(bytes) if bytes.len() == len => Ok(()),
        Some(bytes) => Err(Error::bad_request(format!(
            "{name} decodes to {} bytes; a browser's key is {len}.",
            bytes.len()
        ))),
        None => Err(Error::bad_request(format!(
            "{name} is not base64url (as PushSubscription.toJSON() gives it)."
        ))),
    }
}

/// base64url without padding (what browsers and VAPID use), or `None` if it isn't.
pub fn decode_base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(endpoint: &str) -> PushSubscription {
        PushSubscription {
            endpoint: endpoint.into(),
            keys: PushKeys {
                p256dh: "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY".into(),
                auth: "_ordMnz7uTCmrpBTeUV4Bw".into(),
            },
            device: None,
        }
    }

    #[test]
    fn a_browser_subscription_passes_and_bad_ones_say_why() {
        sub("https://fcm.googleapis.com/fcm/send/abc")
            .validate(false)
            .unwrap();
        let err = sub("http://fcm.googleapis.com/x")
            .validate(false)
            .unwrap_err();
        assert!(err.message.contains("https://"), "{}", err.message);
        sub("http://127.0.0.1:9/x").validate(true).unwrap();
        let mut short = sub("https://push.example/x");
        short.keys.auth = "AAAA".into();
        let err = short.validate(false).unwrap_err();
        assert!(
            err.message.contains("keys.auth decodes to 3 bytes"),
            "{}",
            err.message
        );
        short.keys.auth = "not base64!".into();
        assert!(short.validate(false).is_err());
    }
}
