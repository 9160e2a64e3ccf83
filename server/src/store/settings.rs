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
        self.call(move |c| {
            let text: Option<String> = c
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
        })
        .await
    }

    /// Saves `value` under `key` with its audit entry, in one transaction.
    pub async fn set_setting<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
        audit: AuditEntry,
    ) -> Result<()> {
        let text = serde_json::to_string(value)?;
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
        .await
    }
}
