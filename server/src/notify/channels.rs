//! The alert channels, each as its service documents it: Zulip's bot API, PagerDuty
//! Events API v2, Alertmanager's `/api/v2/alerts`, and SMTP.
use domain::notify::{
    AlertKind, AlertmanagerConfig, ChannelConfig, EmailConfig, GateAlert, Message, PagerDutyConfig,
    SmtpSecurity, ZulipConfig,
};
use serde_json::json;
use std::time::Duration;

/// How long a channel may take before the try counts as failed.
pub const CHANNEL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub retry: bool,
    /// The HTTP status the service answered, if it answered.
    pub status: Option<u16>,
}

impl Failure {
    pub fn retry(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retry: true,
            status: None,
        }
    }
    pub fn give_up(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retry: false,
            status: None,
        }
    }
}

pub struct Delivery<'a> {
    pub alert: &'a GateAlert,
    pub kind: &'a AlertKind,
    pub message: &'a Message,
}

pub async fn send(
    http: &reqwest::Client,
    config: &ChannelConfig,
    d: &Delivery<'_>,
) -> Result<(), Failure> {
    match config {
        ChannelConfig::Zulip(c) => answer(zulip(http, c, d).send().await).await,
        ChannelConfig::PagerDuty(c) => answer(pagerduty(http, c, d).send().await).await,
        ChannelConfig::Alertmanager(c) => answer(alertmanager(http, c, d).send().await).await,
        ChannelConfig::Email(c) => email(c, d).await,
    }
}

/// A 2xx is delivered; 429 and 5xx may pass later; any other answer won't.
pub async fn answer(result: reqwest::Result<reqwest::Response>) -> Result<(), Failure> {
    let response = result.map_err(|e| Failure::retry(describe(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let message = format!("answered {status}: {}", body.trim());
    let retry = status.as_u16() == 429 || status.is_server_error();
    Err(Failure {
        message,
        retry,
        status: Some(status.as_u16()),
    })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", CHANNEL_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        // Without the URL: a webhook URL can hold a secret.
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), "the channel URL");
        }
        text
    }
}

fn zulip(http: &reqwest::Client, c: &ZulipConfig, d: &Delivery<'_>) -> reqwest::RequestBuilder {
    let url = format!("{}/api/v1/messages", c.site.trim().trim_end_matches('/'));
    let content = format!(
        "**{}**\n{}\n[Open the run]({})",
        d.message.title, d.message.body, d.message.url
    );
    let topic = format!("run {}", d.alert.short_id());
    http.post(url)
        .basic_auth(c.bot_email.trim(), Some(c.api_key.trim()))
        .form(&[
            ("type", "stream"),
            ("to", c.stream.trim()),
            ("topic", topic.as_str()),
            ("content", content.as_str()),
        ])
}

fn pagerduty(
    http: &reqwest::Client,
    c: &PagerDutyConfig,
    d: &Delivery<'_>,
) -> reqwest::RequestBuilder {
    let body = match d.kind {
        AlertKind::Decided { .. } => json!({
            "routing_key": c.routing_key.trim(),
            "event_action": "resolve",
            "dedup_key": d.alert.dedup_key(),
        }),
        kind => json!({
            "routing_key": c.routing_key.trim(),
            "event_action": "trigger",
            "dedup_key": d.alert.dedup_key(),
            "payload": {
                "summary": d.message.title,
                "source": "fabrik",
                "severity": if matches!(kind, AlertKind::Escalated { .. }) { "critical" } else { "warning" },
                "component": d.alert.template,
                "group": d.alert.spec.as_deref().unwrap_or("none"),
                "class": "human-gate",
                "custom_details": details(d.alert),
            },
            "links": [{ "href": d.message.url, "text": "Open the run" }],
            "client": "Fabrik Mission Control",
            "client_url": d.message.url,
        }),
    };
    http.post(c.events_url.trim()).json(&body)
}

fn alertmanager(
    http: &reqwest::Client,
    c: &AlertmanagerConfig,
    d: &Delivery<'_>,
) -> reqwest::RequestBuilder {
    let starts = domain::time::rfc3339(d.alert.raised_at_ms);
    let mut alert = json!({
        "labels": {
            "alertname": "FabrikGateWaiting",
            "run_id": d.alert.run_id,
            "gate": d.alert.gate,
            "template": d.alert.template,
            "spec": d.alert.spec.as_deref().unwrap_or("none"),
        },
        "annotations": {
            "summary": d.message.title,
            "description": d.message.body,
            "phase": d.alert.phase,
            "severity": if matches!(d.kind, AlertKind::Escalated { .. }) { "critical" } else { "warning" },
            "run_url": d.message.url,
        },
        "startsAt": starts,
        "generatorURL": d.message.url,
    });
    if matches!(d.kind, AlertKind::Decided { .. }) {
        alert["endsAt"] = json!(domain::time::rfc3339(crate::clock::now_ms()));
    }
    let url = format!("{}/api/v2/alerts", c.url.trim().trim_end_matches('/'));
    let request = http.post(url).json(&json!([alert]));
    match c.bearer_token.trim() {
        "" => request,
        token => request.bearer_auth(token),
    }
}

fn details(alert: &GateAlert) -> serde_json::Value {
    json!({
        "run_id": alert.run_id,
        "spec": alert.spec,
        "template": alert.template,
        "phase": alert.phase,
        "gate": alert.gate,
    })
}

async fn email(c: &EmailConfig, d: &Delivery<'_>) -> Result<(), Failure> {
    use lettre::message::{header::ContentType, Mailbox};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let from: Mailbox = c
        .from
        .trim()
        .parse()
        .map_err(|e| Failure::give_up(format!("the sender address: {e}")))?;
    let mut builder = lettre::Message::builder()
        .from(from)
        .subject(format!("[fabrik] {}", d.message.title))
        .header(ContentType::TEXT_PLAIN);
    for to in c.recipients() {
        let to: Mailbox = to
            .parse()
            .map_err(|e| Failure::give_up(format!("the recipient '{to}': {e}")))?;
        builder = builder.to(to);
    }
    let text = format!("{}\n\nOpen the run: {}\n", d.message.body, d.message.url);
    let mail = builder
        .body(text)
        .map_err(|e| Failure::give_up(format!("could not build the email: {e}")))?;
    let host = c.host.trim();
    let transport = match c.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
    }
    .map_err(|e| Failure::give_up(format!("SMTP settings: {e}")))?
    .port(c.port)
    .timeout(Some(CHANNEL_TIMEOUT));
    let transport = if c.username.is_empty() {
        transport
    } else {
        transport.credentials(lettre::transport::smtp::authentication::Credentials::new(
            c.username.clone(),
            c.password.clone(),
        ))
    };
    let sent = tokio::time::timeout(CHANNEL_TIMEOUT, transport.build().send(mail)).await;
    match sent {
        Err(_) => Err(Failure::retry(format!(
            "the SMTP server did not finish within {} s",
            CHANNEL_TIMEOUT.as_secs()
        ))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => {
            Err(Failure::give_up(format!("the SMTP server refused: {e}")))
        }
        Ok(Err(e)) => Err(Failure::retry(format!("SMTP: {e}"))),
    }
}
