//! The delivery loop over the store's outbox.
use super::channels::{self, Delivery, Failure};
use super::Notifier;
use crate::clock::now_ms;
use crate::service::Service;
use crate::store::OutboxItem;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::notify::{AlertKind, ChannelKind, NotifySettings};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The loop wakes at least this often: escalations and retries come due on their own.
const TICK: Duration = Duration::from_millis(500);
/// How often runs and their alerts are compared (catches a decision the watcher missed).
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

pub fn spawn(service: Arc<Service>) {
    tokio::spawn(run(service));
}

async fn run(service: Arc<Service>) {
    let notifier = service.notifier().clone();
    if let Err(e) = notifier.store.requeue_sending(now_ms()).await {
        tracing::warn!(error = %e, "could not requeue the messages of the last run");
    }
    let permits = Arc::new(Semaphore::new(notifier.options.concurrency));
    let mut last_reconcile = tokio::time::Instant::now() - RECONCILE_EVERY;
    loop {
        if last_reconcile.elapsed() >= RECONCILE_EVERY {
            last_reconcile = tokio::time::Instant::now();
            service.reconcile_gates().await;
        }
        let settings = notifier.store.notify_settings().await.unwrap_or_default();
        escalate(&notifier, &settings).await;
        let claimed = notifier
            .store
            .claim_outbox(now_ms(), notifier.options.concurrency * 4)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the outbox");
                Vec::new()
            });
        let full = claimed.len() == notifier.options.concurrency * 4;
        let settings = Arc::new(settings);
        for item in claimed {
            let permit = permits.clone().acquire_owned().await.expect("never closed");
            let (notifier, settings) = (notifier.clone(), settings.clone());
            tokio::spawn(async move {
                deliver(&notifier, &settings, item).await;
                drop(permit);
            });
        }
        if !full {
            let _ = tokio::time::timeout(wait(&notifier).await, notifier.wake.notified()).await;
        }
    }
}

/// Until the next message is due, at most a tick.
async fn wait(notifier: &Notifier) -> Duration {
    match notifier.store.next_outbox_due().await {
        Ok(Some(at)) => {
            Duration::from_millis((at - now_ms()).clamp(0, TICK.as_millis() as i64) as u64)
        }
        _ => TICK,
    }
}

async fn escalate(notifier: &Notifier, settings: &NotifySettings) {
    let after = settings.escalate_after_minutes as i64 * 60_000;
    let now = now_ms();
    if let Err(e) = notifier.store.escalate_gates(now - after, now).await {
        tracing::warn!(error = %e, "could not escalate gates");
    }
}

async fn deliver(notifier: &Arc<Notifier>, settings: &NotifySettings, item: OutboxItem) {
    let kind_name = item.kind.as_str();
    let outcome = attempt(notifier, settings, &item).await;
    let channel = item.channel.clone();
    let stored = match outcome {
        Ok(()) => {
            notifier.counters.add(&channel, kind_name, true);
            notifier.store.outbox_sent(item, now_ms()).await
        }
        Err(failure) => {
            let retry_at = (failure.retry && item.attempts < notifier.options.max_attempts)
                .then(|| now_ms() + backoff(notifier, item.attempts));
            if retry_at.is_none() {
                notifier.counters.add(&channel, kind_name, false);
            }
            tracing::warn!(
                outbox_id = item.id,
                channel = %channel,
                attempt = item.attempts,
                retry = retry_at.is_some(),
                error = %failure.message,
                "a notification was not delivered"
            );
            notifier
                .store
                .outbox_failed(item, failure.message, retry_at)
                .await
        }
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not record a delivery");
    }
}

fn backoff(notifier: &Notifier, attempts: i64) -> i64 {
    let base = notifier.options.retry_base.as_millis() as i64;
    (base << (attempts - 1).clamp(0, 16)).min(600_000)
}

async fn attempt(
    notifier: &Arc<Notifier>,
    settings: &NotifySettings,
    item: &OutboxItem,
) -> Result<(), Failure> {
    let message = item.alert.message(&item.kind, settings);
    if item.channel == "push" {
        return push(notifier, item, &message).await;
    }
    let kind = ChannelKind::parse(&item.channel).map_err(|e| Failure::give_up(e.message))?;
    let channels = notifier
        .store
        .channels()
        .await
        .map_err(|e| Failure::retry(e.to_string()))?;
    let stored = channels
        .into_iter()
        .find(|c| c.kind == kind)
        .ok_or_else(|| Failure::give_up("the channel was removed"))?;
    let config = notifier.open(kind, &stored.sealed).ok_or_else(|| {
        Failure::give_up("the channel's stored settings can't be opened with this server's key")
    })?;
    let delivery = Delivery {
        alert: &item.alert,
        kind: &item.kind,
        message: &message,
    };
    channels::send(&notifier.http, &config, &delivery).await
}

async fn push(
    notifier: &Arc<Notifier>,
    item: &OutboxItem,
    message: &domain::notify::Message,
) -> Result<(), Failure> {
    let sub = notifier
        .store
        .subscription(item.subscription_id)
        .await
        .map_err(|e| Failure::retry(e.to_string()))?
        .ok_or_else(|| Failure::give_up("the browser unsubscribed"))?;
    let mut payload = serde_json::json!({
        "type": item.kind.as_str(),
        "run_id": item.alert.run_id,
        "title": message.title,
        "body": message.body,
        "url": message.url,
        "tag": message.tag,
    });
    let decidable = matches!(item.kind, AlertKind::Gate | AlertKind::Escalated { .. });
    if decidable && item.alert_is_real() {
        let token = approve_token(notifier, item, &sub.username).await?;
        payload["approve"] = serde_json::json!({ "url": "/api/v1/push/approve", "token": token });
    }
    let body = serde_json::to_vec(&payload).expect("json");
    // ECDH and AES per message: off the async workers, so a fan-out to many browsers
    // doesn't stall the server.
    let (encrypting, tag) = (notifier.clone(), message.tag.clone());
    let sub_id = sub.id;
    let request =
        tokio::task::spawn_blocking(move || encrypting.vapid.request(&sub, &body, Some(&tag)))
            .await
            .map_err(|e| Failure::retry(e.to_string()))?
            .map_err(Failure::give_up)?;
    let request =
        reqwest::Request::try_from(request).map_err(|e| Failure::give_up(e.to_string()))?;
    let answer = channels::answer(notifier.http.execute(request).await).await;
    if let Err(f) = &answer {
        if matches!(f.status, Some(404 | 410)) {
            // The browser dropped the subscription: forget it.
            let _ = notifier.store.drop_subscription(sub_id).await;
            return Err(Failure::give_up(format!(
                "the subscription is gone ({})",
                f.message
            )));
        }
    }
    answer
}

/// A single-use token that approves this alert's gate as `username`, and only that.
async fn approve_token(
    notifier: &Arc<Notifier>,
    item: &OutboxItem,
    username: &str,
) -> Result<String, Failure> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| Failure::retry(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(raw);
    let expires = now_ms() + notifier.options.approve_ttl.as_millis() as i64;
    notifier
        .store
        .issue_approve_token(
            crate::service::token_hash(&token),
            &item.alert,
            username.into(),
            expires,
        )
        .await
        .map_err(|e| Failure::retry(e.to_string()))?;
    Ok(token)
}

impl OutboxItem {
    /// Test messages describe a made-up run: no token for them.
    fn alert_is_real(&self) -> bool {
        !matches!(self.kind, AlertKind::Test { .. })
    }
}
