//! The alert channels and their settings. Secrets (API keys, routing keys, passwords)
//! leave the server only as [`SECRET_MASK`]; sending the mask back keeps the stored one.
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What a stored secret looks like to a client.
pub const SECRET_MASK: &str = "••••••••";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Zulip,
    PagerDuty,
    Alertmanager,
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Zulip,
        ChannelKind::PagerDuty,
        ChannelKind::Alertmanager,
        ChannelKind::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Zulip => "zulip",
            ChannelKind::PagerDuty => "pagerduty",
            ChannelKind::Alertmanager => "alertmanager",
            ChannelKind::Email => "email",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ChannelKind::Zulip => "Zulip",
            ChannelKind::PagerDuty => "PagerDuty",
            ChannelKind::Alertmanager => "Alertmanager",
            ChannelKind::Email => "Email (SMTP)",
        }
    }

    pub fn parse(s: &str) -> Result<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "No channel '{s}'. Channels: zulip, pagerduty, alertmanager, email."
                ))
            })
    }
}

/// Zulip's bot API: `POST {site}/api/v1/messages` as the bot, to a stream; each run
/// gets its own topic, so the decision lands beside the gate message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZulipConfig {
    pub site: String,
    pub bot_email: String,
    pub api_key: String,
    pub stream: String,
}

/// PagerDuty Events API v2: trigger on a gate, resolve on its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PagerDutyConfig {
    pub routing_key: String,
    pub events_url: String,
}

impl Default for PagerDutyConfig {
    fn default() -> Self {
        PagerDutyConfig {
            routing_key: String::new(),
            events_url: "https://events.pagerduty.com/v2/enqueue".into(),
        }
    }
}

/// Alertmanager's `POST /api/v2/alerts`; the decision sends the alert again with `endsAt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertmanagerConfig {
    /// Alertmanager's base URL, e.g. `http://alertmanager:9093`.
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub bearer_token: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub from: String,
    /// Recipients, comma-separated.
    pub to: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password: String::new(),
            from: String::new(),
            to: String::new(),
        }
    }
}

impl EmailConfig {
    pub fn recipients(&self) -> Vec<String> {
        self.to
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// One channel's settings, as stored and as the API takes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ChannelConfig {
    Zulip(ZulipConfig),
    #[serde(rename = "pagerduty")]
    PagerDuty(PagerDutyConfig),
    Alertmanager(AlertmanagerConfig),
    Email(EmailConfig),
}

/// A channel as the settings page sees it: secrets masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelView {
    pub kind: ChannelKind,
    pub enabled: bool,
    pub config: ChannelConfig,
    /// When it last delivered, and the last failure if that came after.
    pub last_sent_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl ChannelConfig {
    pub fn empty(kind: ChannelKind) -> ChannelConfig {
        match kind {
            ChannelKind::Zulip => ChannelConfig::Zulip(ZulipConfig::default()),
            ChannelKind::PagerDuty => ChannelConfig::PagerDuty(PagerDutyConfig::default()),
            ChannelKind::Alertmanager => ChannelConfig::Alertmanager(AlertmanagerConfig::default()),
            ChannelKind::Email => ChannelConfig::Email(EmailConfig::default()),
        }
    }

    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelConfig::Zulip(_) => ChannelKind::Zulip,
            ChannelConfig::PagerDuty(_) => ChannelKind::PagerDuty,
            ChannelConfig::Alertmanager(_) => ChannelKind::Alertmanager,
            ChannelConfig::Email(_) => ChannelKind::Email,
        }
    }

    fn secrets_mut(&mut self) -> Vec<&mut String> {
        match self {
            ChannelConfig::Zulip(c) => vec![&mut c.api_key],
            ChannelConfig::PagerDuty(c) => vec![&mut c.routing_key],
            ChannelConfig::Alertmanager(c) => vec![&mut c.bearer_token],
            ChannelConfig::Email(c) => vec![&mut c.password],
        }
    }

    /// The same settings with every set secret replaced by [`SECRET_MASK`].
    pub fn masked(&self) -> ChannelConfig {
        let mut out = self.clone();
        for secret in out.secrets_mut() {
            if !secret.is_empty() {
                *secret = SECRET_MASK.into();
            }
        }
        out
    }

    /// Secrets sent back as the mask take the stored value.
    pub fn keep_secrets_from(&mut self, stored: &ChannelConfig) {
        let mut stored = stored.clone();
        if stored.kind() != self.kind() {
            return;
        }
        for (secret, old) in self.secrets_mut().into_iter().zip(stored.secrets_mut()) {
            if secret == SECRET_MASK {
                *secret = std::mem::take(old);
            }
        }
    }

    /// Every problem that would stop the channel from delivering, in one message.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut need = |value: &str, what: &str| {
            if value.trim().is_empty() {
                problems.push(format!("{what} is required"));
            }
        };
        match self {
            ChannelConfig::Zulip(c) => {
                need(&c.site, "the Zulip site URL");
                need(&c.bot_email, "the bot's email");
                need(&c.api_key, "the bot's API key");
                need(&c.stream, "the stream");
            }
            ChannelConfig::PagerDuty(c) => {
                need(&c.routing_key, "the integration (routing) key");
                need(&c.events_url, "the Events API URL");
            }
            ChannelConfig::Alertmanager(c) => need(&c.url, "the Alertmanager URL"),
            ChannelConfig::Email(c) => {
                need(&c.host, "the SMTP host");
                need(&c.from, "the sender address");
                need(&c.to, "at least one recipient");
                if !c.username.is_empty() && c.password.is_empty() {
                    problems.push("a password is required with a username".into());
                }
            }
        }
        for url in self.urls() {
            if !url.trim().is_empty() {
                if let Err(e) = parse_url(url) {
                    problems.push(e);
                }
            }
        }
        if let ChannelConfig::Email(c) = self {
            for address in c.recipients().iter().chain([&c.from]) {
                if !address.is_empty() && !looks_like_email(address) {
                    problems.push(format!("'{address}' is not an email address"));
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::bad_request(format!(
            "{} settings: {}.",
            self.kind().title(),
            problems.join("; ")
        )))
    }

    /// The URLs this channel will call (to refuse one that points back at this server).
    pub fn urls(&self) -> Vec<&str> {
        match self {
            ChannelConfig::Zulip(c) => vec![c.site.as_str()],
            ChannelConfig::PagerDuty(c) => vec![c.events_url.as_str()],
            ChannelConfig::Alertmanager(c) => vec![c.url.as_str()],
            ChannelConfig::Email(_) => vec![],
        }
    }
}

fn looks_like_email(s: &str) -> bool {
    let addr = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    matches!(addr.split_once('@'), Some((user, host))
        if !user.is_empty() && !host.is_empty() && !addr.contains(char::is_whitespace))
}

/// A URL's host and port (the scheme's default when it names none).
pub fn parse_url(url: &str) -> std::result::Result<(String, u16), String> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("'{url}' is not a URL (it needs https://)"))?;
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return Err(format!("'{url}' must start with https:// or http://")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("'{url}' has a broken IPv6 address"))?;
        (host.to_string(), after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (host_port.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("'{url}' names no host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("'{url}' has a bad port"))?,
        None => default_port,
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_hides_secrets_and_the_mask_keeps_them() {
        let stored = ChannelConfig::PagerDuty(PagerDutyConfig {
            routing_key: "R0UTING".into(),
            ..Default::default()
        });
        let masked = stored.masked();
        assert!(!serde_json::to_string(&masked).unwrap().contains("R0UTING"));
        let mut update = masked.clone();
        update.keep_secrets_from(&stored);
        assert_eq!(update, stored);
        let mut changed = ChannelConfig::PagerDuty(PagerDutyConfig {
            routing_key: "NEW".into(),
            ..Default::default()
        });
        changed.keep_secrets_from(&stored);
        assert!(matches!(changed, ChannelConfig::PagerDuty(c) if c.routing_key == "NEW"));
    }

    #[test]
    fn validation_names_every_missing_field() {
        let err = ChannelConfig::empty(ChannelKind::Zulip)
            .validate()
            .unwrap_err();
        for field in ["site URL", "bot's email", "API key", "stream"] {
            assert!(err.message.contains(field), "{}", err.message);
        }
        let email = ChannelConfig::Email(EmailConfig {
            host: "smtp.example.com".into(),
            from: "fabrik@example.com".into(),
            to: "ops@example.com, not-an-address".into(),
            ..Default::default()
        });
        let err = email.validate().unwrap_err();
        assert!(err.message.contains("'not-an-address'"), "{}", err.message);
    }

    #[test]
    fn urls_parse_to_host_and_port() {
        assert_eq!(
            parse_url("https://chat.example.com/x").unwrap(),
            ("chat.example.com".into(), 443)
        );
        assert_eq!(
            parse_url("http://user:pw@127.0.0.1:9093").unwrap(),
            ("127.0.0.1".into(), 9093)
        );
        assert_eq!(parse_url("http://[::1]:80/").unwrap(), ("::1".into(), 80));
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("https://:9/").is_err());
    }
}

/// One setting of a channel, as a form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub secret: bool,
    pub placeholder: &'static str,
    /// The allowed values, for a choice.
    pub choices: &'static [&'static str],
}

fn field(
    key: &'static str,
    label: &'static str,
    value: String,
    placeholder: &'static str,
) -> Field {
    Field {
        key,
        label,
        value,
        secret: false,
        placeholder,
        choices: &[],
    }
}

fn secret(key: &'static str, label: &'static str, value: String) -> Field {
    Field {
        key,
        label,
        value,
        secret: true,
        placeholder: "",
        choices: &[],
    }
}

impl SmtpSecurity {
    pub const CHOICES: &'static [&'static str] = &["starttls", "tls", "none"];

    fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

impl ChannelConfig {
    /// The settings in form order.
    pub fn fields(&self) -> Vec<Field> {
        match self {
            ChannelConfig::Zulip(c) => vec![
                field(
                    "site",
                    "Zulip site",
                    c.site.clone(),
                    "https://yourorg.zulipchat.com",
                ),
                field(
                    "bot_email",
                    "Bot email",
                    c.bot_email.clone(),
                    "fabrik-bot@yourorg.zulipchat.com",
                ),
                secret("api_key", "Bot API key", c.api_key.clone()),
                field("stream", "Stream", c.stream.clone(), "agent-runs"),
            ],
            ChannelConfig::PagerDuty(c) => vec![
                secret(
                    "routing_key",
                    "Integration (routing) key",
                    c.routing_key.clone(),
                ),
                field(
                    "events_url",
                    "Events API URL",
                    c.events_url.clone(),
                    "https://events.pagerduty.com/v2/enqueue",
                ),
            ],
            ChannelConfig::Alertmanager(c) => vec![
                field(
                    "url",
                    "Alertmanager URL",
                    c.url.clone(),
                    "http://alertmanager:9093",
                ),
                secret(
                    "bearer_token",
                    "Bearer token (optional)",
                    c.bearer_token.clone(),
                ),
            ],
            ChannelConfig::Email(c) => vec![
                field("host", "SMTP host", c.host.clone(), "smtp.example.com"),
                field("port", "Port", c.port.to_string(), "587"),
                Field {
                    choices: SmtpSecurity::CHOICES,
                    ..field("security", "Security", c.security.as_str().into(), "")
                },
                field("username", "Username", c.username.clone(), "optional"),
                secret("password", "Password", c.password.clone()),
                field(
                    "from",
                    "From",
                    c.from.clone(),
                    "Fabrik <fabrik@example.com>",
                ),
                field(
                    "to",
                    "To (comma-separated)",
                    c.to.clone(),
                    "oncall@example.com",
                ),
            ],
        }
    }

    /// Sets one field from a form; a bad value (a port that isn't a number) says why.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.to_string();
        match (self, key) {
            (ChannelConfig::Zulip(c), "site") => c.site = v,
            (ChannelConfig::Zulip(c), "bot_email") => c.bot_email = v,
            (ChannelConfig::Zulip(c), "api_key") => c.api_key = v,
            (ChannelConfig::Zulip(c), "stream") => c.stream = v,
            (ChannelConfig::PagerDuty(c), "routing_key") => c.routing_key = v,
            (ChannelConfig::PagerDuty(c), "events_url") => c.events_url = v,
            (ChannelConfig::Alertmanager(c), "url") => c.url = v,
            (ChannelConfig::Alertmanager(c), "bearer_token") => c.bearer_token = v,
            (ChannelConfig::Email(c), "host") => c.host = v,
            (ChannelConfig::Email(c), "port") => {
                c.port = value.trim().parse().map_err(|_| {
                    Error::bad_request(format!(
                        "The port '{value}' is not a number from 1 to 65535."
                    ))
                })?
            }
            (ChannelConfig::Email(c), "security") => {
                c.security = match value {
                    "tls" => SmtpSecurity::Tls,
                    "none" => SmtpSecurity::None,
                    _ => SmtpSecurity::Starttls,
                }
            }
            (ChannelConfig::Email(c), "username") => c.username = v,
            (ChannelConfig::Email(c), "password") => c.password = v,
            (ChannelConfig::Email(c), "from") => c.from = v,
            (ChannelConfig::Email(c), "to") => c.to = v,
            (config, key) => {
                return Err(Error::bad_request(format!(
                    "{} has no setting '{key}'.",
                    config.kind().title()
                )))
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn every_field_a_form_shows_can_be_set_back() {
        for kind in ChannelKind::ALL {
            let mut config = ChannelConfig::empty(kind);
            for f in config.clone().fields() {
                let value = if f.key == "port" {
                    "2525"
                } else if f.choices.is_empty() {
                    "x"
                } else {
                    f.choices[1]
                };
                config.set(f.key, value).unwrap();
                let after = config
                    .fields()
                    .into_iter()
                    .find(|g| g.key == f.key)
                    .unwrap();
                assert_eq!(after.value, value, "{kind:?}.{}", f.key);
            }
        }
        let mut email = ChannelConfig::empty(ChannelKind::Email);
        assert!(email
            .set("port", "smtp")
            .unwrap_err()
            .message
            .contains("not a number"));
        assert!(email.set("nope", "1").is_err());
    }
}
