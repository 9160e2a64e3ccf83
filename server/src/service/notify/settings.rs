//! Channels, site settings and subscribed browsers: reading, changing, and "Send test".
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::{audit_entry, public, Service};
use domain::auth::Action;
use domain::notify::{
    parse_url, AlertKind, ChannelConfig, ChannelKind, ChannelUpdate, ChannelView, DeviceView,
    GateAlert, NotifySettings, OutboxStatus, PushSubscription,
};
use domain::service::{Actor, NotifyService};
use domain::Error as DomainError;
use std::net::IpAddr;

#[async_trait::async_trait]
impl NotifyService for Service {
    async fn vapid_public_key(&self, _actor: &Actor) -> domain::Result<String> {
        Ok(self.notifier.vapid.public_key())
    }

    async fn devices(&self, actor: &Actor) -> domain::Result<Vec<DeviceView>> {
        public(self.store.devices_of(actor.name.clone()).await)
    }

    async fn subscribe_push(
        &self,
        actor: &Actor,
        sub: PushSubscription,
        user_agent: Option<String>,
    ) -> domain::Result<DeviceView> {
        sub.validate(self.notifier.options.allow_http_push)?;
        let device = sub
            .device
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| describe_agent(user_agent.as_deref()));
        public(
            async {
                let id = self
                    .store
                    .add_subscription(actor.name.clone(), sub, device, now_ms())
                    .await?;
                let devices = self.store.devices_of(actor.name.clone()).await?;
                Ok(devices
                    .into_iter()
                    .find(|d| d.id == id)
                    .expect("just saved"))
            }
            .await,
        )
    }

    async fn unsubscribe_push(
        &self,
        actor: &Actor,
        id: Option<i64>,
        endpoint: Option<String>,
    ) -> domain::Result<()> {
        let removed = self
            .store
            .remove_subscription(actor.name.clone(), id, endpoint)
            .await;
        match public(removed)? {
            true => Ok(()),
            false => Err(DomainError::not_found(
                "You have no such subscribed browser.",
            )),
        }
    }

    async fn test_push(&self, actor: &Actor) -> domain::Result<usize> {
        public(self.queue_test_pushes(actor).await)
    }

    async fn notify_settings(&self, _actor: &Actor) -> domain::Result<NotifySettings> {
        public(self.store.notify_settings().await)
    }

    async fn save_notify_settings(
        &self,
        actor: &Actor,
        settings: NotifySettings,
    ) -> domain::Result<NotifySettings> {
        actor.role.require(Action::ManageUsers)?;
        settings.validate()?;
        let audit = audit_entry(actor, "notify.settings", "notifications", None);
        public(
            self.store
                .put_notify_settings(settings.clone(), audit)
                .await,
        )?;
        Ok(settings)
    }

    async fn channels(&self, actor: &Actor) -> domain::Result<Vec<ChannelView>> {
        actor.role.require(Action::ManageUsers)?;
        public(self.channel_views().await)
    }

    async fn save_channel(
        &self,
        actor: &Actor,
        kind: ChannelKind,
        update: ChannelUpdate,
    ) -> domain::Result<ChannelView> {
        actor.role.require(Action::ManageUsers)?;
        public(self.store_channel(actor, kind, update).await)
    }

    async fn delete_channel(&self, actor: &Actor, kind: ChannelKind) -> domain::Result<()> {
        actor.role.require(Action::ManageUsers)?;
        let audit = audit_entry(actor, "notify.channel.delete", kind.as_str(), None);
        match public(self.store.delete_channel(kind, audit).await)? {
            true => Ok(()),
            false => Err(DomainError::not_found(format!(
                "{} is not set up.",
                kind.title()
            ))),
        }
    }

    async fn test_channel(&self, actor: &Actor, kind: ChannelKind) -> domain::Result<()> {
        actor.role.require(Action::ManageUsers)?;
        public(self.queue_test_message(actor, kind).await)
    }

    async fn outbox_status(&self, actor: &Actor) -> domain::Result<OutboxStatus> {
        actor.role.require(Action::ManageUsers)?;
        let mut status = public(self.store.outbox_counts().await)?;
        status.deliveries = self.notifier.counters.rows();
        Ok(status)
    }
}

impl Service {
    async fn queue_test_pushes(&self, actor: &Actor) -> Result<usize> {
        let devices = self.store.devices_of(actor.name.clone()).await?;
        if devices.is_empty() {
            return Err(DomainError::bad_request(
                "No browser of yours is subscribed. Press \"Enable notifications\" in a browser first.",
            )
            .into());
        }
        for d in &devices {
            let test = AlertKind::Test {
                by: actor.name.clone(),
            };
            let to = Some((d.id, actor.name.clone()));
            let sample = GateAlert::sample(now_ms());
            self.store
                .enqueue_message(sample, test, "push".into(), to, now_ms())
                .await?;
        }
        self.notifier.wake();
        Ok(devices.len())
    }

    async fn queue_test_message(&self, actor: &Actor, kind: ChannelKind) -> Result<()> {
        if self.stored_channel(kind).await?.is_none() {
            let message = format!("Save the {} settings first.", kind.title());
            return Err(DomainError::bad_request(message).into());
        }
        let test = AlertKind::Test {
            by: actor.name.clone(),
        };
        let sample = GateAlert::sample(now_ms());
        self.store
            .enqueue_message(sample, test, kind.as_str().into(), None, now_ms())
            .await?;
        self.notifier.wake();
        Ok(())
    }

    async fn channel_views(&self) -> Result<Vec<ChannelView>> {
        let stored = self.store.channels().await?;
        let view = |kind: ChannelKind| match stored.iter().find(|c| c.kind == kind) {
            Some(c) => ChannelView {
                kind,
                enabled: c.enabled,
                config: self
                    .notifier
                    .open(kind, &c.sealed)
                    .unwrap_or_else(|| ChannelConfig::empty(kind))
                    .masked(),
                last_sent_ms: c.last_sent_ms,
                last_error: c.last_error.clone(),
            },
            None => ChannelView {
                kind,
                enabled: false,
                config: ChannelConfig::empty(kind),
                last_sent_ms: None,
                last_error: None,
            },
        };
        Ok(ChannelKind::ALL.into_iter().map(view).collect())
    }

    async fn store_channel(
        &self,
        actor: &Actor,
        kind: ChannelKind,
        update: ChannelUpdate,
    ) -> Result<ChannelView> {
        let mut config = update.config;
        if config.kind() != kind {
            return Err(DomainError::bad_request(format!(
                "The settings are for {}, not {}.",
                config.kind().as_str(),
                kind.as_str()
            ))
            .into());
        }
        if let Some(stored) = self.stored_channel(kind).await? {
            config.keep_secrets_from(&stored);
        }
        config.validate()?;
        self.refuse_self_urls(&config).await?;
        let detail = Some(format!("enabled={}", update.enabled));
        let audit = audit_entry(actor, "notify.channel", kind.as_str(), detail);
        let sealed = self.notifier.seal(&config);
        self.store
            .put_channel(kind, update.enabled, sealed, audit)
            .await?;
        let views = self.channel_views().await?;
        Ok(views
            .into_iter()
            .find(|v| v.kind == kind)
            .expect("every kind has a view"))
    }

    async fn stored_channel(&self, kind: ChannelKind) -> Result<Option<ChannelConfig>> {
        let stored = self.store.channels().await?;
        Ok(stored
            .into_iter()
            .find(|c| c.kind == kind)
            .and_then(|c| self.notifier.open(kind, &c.sealed)))
    }

    /// A channel URL that leads back to this server would have it call itself.
    async fn refuse_self_urls(&self, config: &ChannelConfig) -> Result<()> {
        let settings = self.store.notify_settings().await?;
        let external = parse_url(&settings.external_url).ok();
        let listen = self.notifier.options.listen;
        for url in config.urls() {
            let Ok((host, port)) = parse_url(url) else {
                continue;
            };
            let is_external = external.as_ref() == Some(&(host.clone(), port));
            let is_listen = listen.is_some_and(|l| l.port() == port && points_here(&host, l.ip()));
            if is_external || is_listen {
                return Err(DomainError::bad_request(format!(
                    "{} points at this server itself; give the address of the {} service.",
                    url.trim(),
                    config.kind().title()
                ))
                .into());
            }
        }
        Ok(())
    }
}

fn points_here(host: &str, listen: IpAddr) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified() || ip == listen,
        Err(_) => false,
    }
}

/// "Chrome on Linux" from a User-Agent, for naming a device nobody named.
fn describe_agent(agent: Option<&str>) -> String {
    let agent = agent.unwrap_or("");
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| name)
    .unwrap_or("A browser");
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("Mac OS", "macOS"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_string(),
    }
}
