//! Notifications in the store. A gate is raised once (`gate_alerts` is unique per run
//! and gate), and raising it writes every message it causes into the outbox in the same
//! transaction: nothing is announced that isn't durably queued, nothing queued twice.
use super::audit::{commit_audited, insert_audit};
use super::{AuditEntry, Store};
use crate::error::Result;
use domain::notify::{
    AlertKind, ChannelKind, DeviceView, GateAlert, NotifySettings, OutboxStatus, PushSubscription,
};
use rusqlite::{params, Connection, OptionalExtension};

/// A subscribed browser, with what it takes to push to it.
#[derive(Debug, Clone)]
pub struct StoredSubscription {
    pub id: i64,
    pub username: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A channel's row: its sealed settings and how it last did.
#[derive(Debug, Clone)]
pub struct StoredChannel {
    pub kind: ChannelKind,
    pub enabled: bool,
    pub sealed: Vec<u8>,
    pub last_sent_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// One message to deliver, as claimed from the outbox.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub alert: GateAlert,
    pub kind: AlertKind,
    /// "push" or a channel kind.
    pub channel: String,
    pub subscription_id: i64,
    pub username: Option<String>,
    /// Including this one.
    pub attempts: i64,
}

/// What became of an approve token presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// Spent now, by its owner, for this gate.
    Spent {
        username: String,
        gate: String,
    },
    Unknown,
    Expired,
    Used,
    WrongRun,
    WrongUser,
}

const DECIDERS: &str = "SELECT s.id, s.username FROM push_subscriptions s JOIN users u ON u.username = s.username WHERE u.disabled = 0 AND u.role IN ('admin', 'operator')";

impl Store {
    // ---- push subscriptions

    /// Saves a browser's subscription for `username`. The same endpoint again (the
    /// browser re-subscribing, or another person signing in on it) replaces the old row.
    pub async fn add_subscription(
        &self,
        username: String,
        sub: PushSubscription,
        device: String,
        now_ms: i64,
    ) -> Result<i64> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO push_subscriptions (username, endpoint, p256dh, auth, device, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (endpoint) DO UPDATE SET username = ?1, p256dh = ?3, auth = ?4, device = ?5",
                params![username, sub.endpoint.trim(), sub.keys.p256dh, sub.keys.auth, device, now_ms],
            )?;
            Ok(c.query_row(
                "SELECT id FROM push_subscriptions WHERE endpoint = ?1",
                [sub.endpoint.trim()],
                |r| r.get(0),
            )?)
        })
        .await
    }

    pub async fn devices_of(&self, username: String) -> Result<Vec<DeviceView>> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, device, endpoint, created_at_ms, last_sent_ms FROM push_subscriptions WHERE username = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([username], |r| {
                let endpoint: String = r.get(2)?;
                Ok(DeviceView {
                    id: r.get(0)?,
                    device: r.get(1)?,
                    service: domain::notify::push_service(&endpoint),
                    created_at_ms: r.get(3)?,
                    last_sent_ms: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Removes `username`'s subscription `id` (or, with `endpoint`, the one at it).
    pub async fn remove_subscription(
        &self,
        username: String,
        id: Option<i64>,
        endpoint: Option<String>,
    ) -> Result<bool> {
        self.call(move |c| {
            let n = c.execute(
                "DELETE FROM push_subscriptions WHERE username = ?1 AND (id = ?2 OR endpoint = ?3)",
                params![username, id, endpoint],
            )?;
            Ok(n > 0)
        })
        .await
    }

    /// The push service said the subscription is gone (404/410).
    pub async fn drop_subscription(&self, id: i64) -> Result<()> {
        self.call(move |c| {
            c.execute("DELETE FROM push_subscriptions WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    pub async fn subscription(&self, id: i64) -> Result<Option<StoredSubscription>> {
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT id, username, endpoint, p256dh, auth FROM push_subscriptions WHERE id = ?1",
                [id],
                |r| {
                    Ok(StoredSubscription {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        endpoint: r.get(2)?,
                        p256dh: r.get(3)?,
                        auth: r.get(4)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    // ---- channels and settings

    pub async fn channels(&self) -> Result<Vec<StoredChannel>> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT kind, enabled, config, last_sent_ms, last_error FROM notify_channels ORDER BY kind",
            )?;
            let rows = stmt.query_map([], |r| {
                let kind: String = r.get(0)?;
                Ok((kind, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (kind, enabled, sealed, last_sent_ms, last_error) = row?;
                if let Ok(kind) = ChannelKind::parse(&kind) {
                    out.push(StoredChannel { kind, enabled, sealed, last_sent_ms, last_error });
                }
            }
            Ok(out)
        })
        .await
    }

    pub async fn put_channel(
        &self,
        kind: ChannelKind,
        enabled: bool,
        sealed: Vec<u8>,
        audit: AuditEntry,
    ) -> Result<()> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "INSERT INTO notify_channels (kind, enabled, config, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind) DO UPDATE SET enabled = ?2, config = ?3, updated_at_ms = ?4",
                params![kind.as_str(), enabled, sealed, audit.at_ms],
            )?;
            commit_audited(tx, n, &audit)?;
            Ok(())
        })
        .await
    }

    pub async fn delete_channel(&self, kind: ChannelKind, audit: AuditEntry) -> Result<bool> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "DELETE FROM notify_channels WHERE kind = ?1",
                [kind.as_str()],
            )?;
            Ok(commit_audited(tx, n, &audit)?)
        })
        .await
    }

    pub async fn notify_settings(&self) -> Result<NotifySettings> {
        self.call(|c| {
            let json: Option<String> = c
                .query_row("SELECT json FROM notify_settings WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(match json {
                Some(j) => serde_json::from_str(&j)?,
                None => NotifySettings::default(),
            })
        })
        .await
    }

    pub async fn put_notify_settings(
        &self,
        settings: NotifySettings,
        audit: AuditEntry,
    ) -> Result<()> {
        let json = serde_json::to_string(&settings)?;
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO notify_settings (id, json) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET json = ?1",
                [json],
            )?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    // ---- gates

    /// Raises the gate once: records it and queues a message for every enabled channel
    /// and every browser of everyone who may decide. `None` when it was raised before.
    pub async fn raise_gate(&self, alert: GateAlert) -> Result<Option<i64>> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let json = serde_json::to_string(&alert)?;
            let n = tx.execute(
                "INSERT OR IGNORE INTO gate_alerts (run_id, gate, alert, raised_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![alert.run_id, alert.gate, json, alert.raised_at_ms],
            )?;
            if n == 0 {
                return Ok(None);
            }
            let id = tx.last_insert_rowid();
            fan_out(&tx, id, &json, &AlertKind::Gate, alert.raised_at_ms)?;
            tx.commit()?;
            Ok(Some(id))
        })
        .await
    }

    /// The run left its gate: closes its open alerts, drops their messages not yet
    /// tried, and tells every channel and browser that got (or may have got) one.
    pub async fn settle_gates(
        &self,
        run_id: String,
        decided: AlertKind,
        now_ms: i64,
    ) -> Result<usize> {
        let kind_json = serde_json::to_string(&decided)?;
        self.call(move |c| {
            let tx = c.transaction()?;
            let open: Vec<(i64, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, alert FROM gate_alerts WHERE run_id = ?1 AND decided_at_ms IS NULL",
                )?;
                let rows = stmt.query_map([&run_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (id, alert) in &open {
                tx.execute(
                    "UPDATE gate_alerts SET decided_at_ms = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )?;
                tx.execute(
                    "UPDATE outbox SET state = 'cancelled' WHERE alert_id = ?1 AND state = 'pending' AND attempts = 0",
                    [id],
                )?;
                tx.execute(
                    "INSERT OR IGNORE INTO outbox (alert_id, alert, kind, kind_name, channel, subscription_id, username, state, next_at_ms, created_at_ms)
                     SELECT DISTINCT ?1, ?2, ?3, 'decided', channel, subscription_id, username, 'pending', ?4, ?4
                     FROM outbox WHERE alert_id = ?1 AND state != 'cancelled' AND kind_name != 'decided'",
                    params![id, alert, kind_json, now_ms],
                )?;
            }
            tx.commit()?;
            Ok(open.len())
        })
        .await
    }

    /// Queues the escalation of every gate open since before `raised_before_ms`, once.
    pub async fn escalate_gates(&self, raised_before_ms: i64, now_ms: i64) -> Result<usize> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let due: Vec<(i64, String, i64)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, alert, raised_at_ms FROM gate_alerts
                     WHERE decided_at_ms IS NULL AND escalated_at_ms IS NULL AND raised_at_ms <= ?1",
                )?;
                let rows = stmt.query_map([raised_before_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (id, alert, raised) in &due {
                tx.execute(
                    "UPDATE gate_alerts SET escalated_at_ms = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )?;
                let kind = AlertKind::Escalated {
                    waited_minutes: ((now_ms - raised) / 60_000).max(0) as u32,
                };
                fan_out(&tx, *id, alert, &kind, now_ms)?;
            }
            tx.commit()?;
            Ok(due.len())
        })
        .await
    }

    /// Runs whose alerts disagree with their status: waiting without an open alert, or
    /// with an open alert but no longer waiting (a decision the watcher didn't see).
    pub async fn gates_out_of_step(&self) -> Result<Vec<String>> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT run_id FROM runs WHERE status = 'waiting-approval'
                   AND run_id NOT IN (SELECT run_id FROM gate_alerts WHERE decided_at_ms IS NULL)
                 UNION
                 SELECT run_id FROM gate_alerts WHERE decided_at_ms IS NULL
                   AND run_id NOT IN (SELECT run_id FROM runs WHERE status = 'waiting-approval')",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Queues one message outside any gate ("Send test").
    pub async fn enqueue_message(
        &self,
        alert: GateAlert,
        kind: AlertKind,
        channel: String,
        subscription: Option<(i64, String)>,
        now_ms: i64,
    ) -> Result<i64> {
        let alert = serde_json::to_string(&alert)?;
        let kind_json = serde_json::to_string(&kind)?;
        let (sub_id, username) = subscription.unzip();
        self.call(move |c| {
            c.execute(
                "INSERT INTO outbox (alert_id, alert, kind, kind_name, channel, subscription_id, username, state, next_at_ms, created_at_ms)
                 VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)",
                params![alert, kind_json, kind.as_str(), channel, sub_id.unwrap_or(0), username, now_ms],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    // ---- the outbox

    /// Claims up to `limit` due messages: each is marked sending until `lease_until`.
    pub async fn claim_outbox(&self, now_ms: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let items: Vec<OutboxItem> = {
                let mut stmt = tx.prepare(
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1
                     WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_at_ms <= ?1 ORDER BY next_at_ms, id LIMIT ?2)
                     RETURNING id, alert, kind, channel, subscription_id, username, attempts",
                )?;
                let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                })?;
                let mut out = Vec::new();
                for row in rows {
                    let (id, alert, kind, channel, subscription_id, username, attempts) = row?;
                    out.push(OutboxItem {
                        id,
                        alert: serde_json::from_str(&alert)?,
                        kind: serde_json::from_str(&kind)?,
                        channel,
                        subscription_id,
                        username,
                        attempts,
                    });
                }
                out
            };
            tx.commit()?;
            Ok(items)
        })
        .await
    }

    /// Messages a stopped server was sending go back in the queue (call once at start).
    pub async fn requeue_sending(&self, now_ms: i64) -> Result<usize> {
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE outbox SET state = 'pending', next_at_ms = ?1 WHERE state = 'sending'",
                [now_ms],
            )?)
        })
        .await
    }

    /// The message went out: it's done, and its channel (or browser) did fine.
    pub async fn outbox_sent(&self, item: OutboxItem, now_ms: i64) -> Result<()> {
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE outbox SET state = 'sent', sent_at_ms = ?2, last_error = NULL WHERE id = ?1",
                params![item.id, now_ms],
            )?;
            if item.channel == "push" {
                tx.execute(
                    "UPDATE push_subscriptions SET last_sent_ms = ?2 WHERE id = ?1",
                    params![item.subscription_id, now_ms],
                )?;
            } else {
                tx.execute(
                    "UPDATE notify_channels SET last_sent_ms = ?2, last_error = NULL WHERE kind = ?1",
                    params![item.channel, now_ms],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// A try failed: again at `retry_at_ms`, or (None) never — the message failed.
    pub async fn outbox_failed(
        &self,
        item: OutboxItem,
        error: String,
        retry_at_ms: Option<i64>,
    ) -> Result<()> {
        self.call(move |c| {
            let tx = c.transaction()?;
            match retry_at_ms {
                Some(at) => tx.execute(
                    "UPDATE outbox SET state = 'pending', next_at_ms = ?2, last_error = ?3 WHERE id = ?1",
                    params![item.id, at, error],
                )?,
                None => tx.execute(
                    "UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1",
                    params![item.id, error],
                )?,
            };
            if item.channel != "push" {
                tx.execute(
                    "UPDATE notify_channels SET last_error = ?2 WHERE kind = ?1",
                    params![item.channel, error],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Messages by state (the delivery counters since start are the notifier's to add).
    pub async fn outbox_counts(&self) -> Result<OutboxStatus> {
        self.call(|c| {
            let mut counts = OutboxStatus::default();
            let mut stmt = c.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (state, n) = row?;
                match state.as_str() {
                    "pending" => counts.pending = n,
                    "sending" => counts.sending = n,
                    "sent" => counts.sent = n,
                    "failed" => counts.failed = n,
                    _ => counts.cancelled = n,
                }
            }
            Ok(counts)
        })
        .await
    }

    /// When the next queued message is due, if any.
    pub async fn next_outbox_due(&self) -> Result<Option<i64>> {
        self.call(|c| {
            Ok(c.query_row(
                "SELECT MIN(next_at_ms) FROM outbox WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }

    // ---- approve tokens

    pub async fn issue_approve_token(
        &self,
        hash: String,
        alert: &GateAlert,
        username: String,
        expires_at_ms: i64,
    ) -> Result<()> {
        let (run_id, gate) = (alert.run_id.clone(), alert.gate.clone());
        self.call(move |c| {
            c.execute(
                "INSERT INTO approve_tokens (hash, run_id, gate, username, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, run_id, gate, username, expires_at_ms],
            )?;
            c.execute("DELETE FROM approve_tokens WHERE expires_at_ms < ?1", [expires_at_ms - 86_400_000])?;
            Ok(())
        })
        .await
    }

    /// Spends the token for `run_id` if it is this caller's, unspent and in date — all
    /// checked and spent in one statement's transaction, so a burst spends it once.
    pub async fn spend_approve_token(
        &self,
        hash: String,
        run_id: String,
        caller: Option<String>,
        now_ms: i64,
    ) -> Result<TokenUse> {
        self.call(move |c| Ok(spend(c, &hash, &run_id, caller.as_deref(), now_ms)?))
            .await
    }
}

fn spend(
    c: &mut Connection,
    hash: &str,
    run_id: &str,
    caller: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<TokenUse> {
    let tx = c.transaction()?;
    let row: Option<(String, String, String, i64, Option<i64>)> = tx
        .query_row(
            "SELECT run_id, gate, username, expires_at_ms, used_at_ms FROM approve_tokens WHERE hash = ?1",
            [hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((token_run, gate, username, expires, used)) = row else {
        return Ok(TokenUse::Unknown);
    };
    let outcome = if token_run != run_id {
        TokenUse::WrongRun
    } else if caller.is_some_and(|c| c != username) {
        TokenUse::WrongUser
    } else if used.is_some() {
        TokenUse::Used
    } else if expires <= now_ms {
        TokenUse::Expired
    } else {
        let n = tx.execute(
            "UPDATE approve_tokens SET used_at_ms = ?2 WHERE hash = ?1 AND used_at_ms IS NULL",
            params![hash, now_ms],
        )?;
        if n == 1 {
            TokenUse::Spent { username, gate }
        } else {
            TokenUse::Used
        }
    };
    tx.commit()?;
    Ok(outcome)
}

/// Queues `kind` of alert `alert_id` for every enabled channel and every decider's browser.
fn fan_out(
    tx: &Connection,
    alert_id: i64,
    alert: &str,
    kind: &AlertKind,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let kind_json = serde_json::to_string(kind).unwrap_or_default();
    tx.execute(
        "INSERT OR IGNORE INTO outbox (alert_id, alert, kind, kind_name, channel, subscription_id, state, next_at_ms, created_at_ms)
         SELECT ?1, ?2, ?3, ?4, kind, 0, 'pending', ?5, ?5 FROM notify_channels WHERE enabled = 1",
        params![alert_id, alert, kind_json, kind.as_str(), now_ms],
    )?;
    tx.execute(
        &format!(
            "INSERT OR IGNORE INTO outbox (alert_id, alert, kind, kind_name, channel, subscription_id, username, state, next_at_ms, created_at_ms)
             SELECT ?1, ?2, ?3, ?4, 'push', d.id, d.username, 'pending', ?5, ?5 FROM ({DECIDERS}) d"
        ),
        params![alert_id, alert, kind_json, kind.as_str(), now_ms],
    )?;
    Ok(())
}

impl Store {
    /// The role of `username` if they may still sign in.
    pub async fn active_role(&self, username: String) -> Result<Option<domain::auth::Role>> {
        self.call(move |c| {
            let role: Option<String> = c
                .query_row(
                    "SELECT role FROM users WHERE username = ?1 AND disabled = 0",
                    [username],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(role.and_then(|r| domain::auth::Role::parse(&r).ok()))
        })
        .await
    }
}
