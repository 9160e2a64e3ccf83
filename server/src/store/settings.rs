//! Admin settings, one JSON value per key (the price table, observability links).
use super::audit::{insert_audit, AuditEntry};
use super::Store;
use crate::error::Result;
use rusqlite::{params, OptionalExtension};
use serde::{de::DeserializeOwned, Serialize};

impl Store {
    /// The stored value of `key`, or `None` when it was never set.
    pub async fn setting<T: DeserializeOwned + Send + 'static>(
        &self,
        key: &'static str,
    ) -> Result<Option<T>> {
        let cached = self.cached_setting(key);
        let text = match cached {
            Some(text) => text,
            None => {
                let text: Option<String> = self
                    .call(move |c| {
                        Ok(
                            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                                r.get(0)
                            })
                            .optional()?,
                        )
                    })
                    .await?;
                // A save that landed meanwhile has cached the newer value: keep it.
                let mut cache = self.settings.lock().unwrap_or_else(|p| p.into_inner());
                cache.entry(key).or_insert(text).clone()
            }
        };
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    fn cached_setting(&self, key: &str) -> Option<Option<String>> {
        let cache = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).cloned()
    }

    fn cache_setting(&self, key: &'static str, text: Option<String>) {
        let mut cache = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(key, text);
    }

    /// Saves `value` under `key` with its audit entry, in one transaction.
    pub async fn set_setting<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
        audit: AuditEntry,
    ) -> Result<()> {
        let text = serde_json::to_string(value)?;
        let saved = text.clone();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO settings (key, value, updated_at_ms, updated_by) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by",
                params![key, text, audit.at_ms, audit.actor],
            )?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        self.cache_setting(key, Some(saved));
        Ok(())
    }
}
