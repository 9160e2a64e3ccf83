use super::Store;
use crate::error::Result;
use rusqlite::params;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub actor: String,
    pub source: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

pub(super) fn insert_audit(c: &rusqlite::Connection, e: &AuditEntry) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO audit_log (at_ms, actor, source, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![e.at_ms, e.actor, e.source, e.action, e.target, e.detail],
    )?;
    Ok(())
}

/// Commits a write that changed `rows` rows, with its audit entry when it changed any;
/// whether it did.
pub(super) fn commit_audited(
    tx: rusqlite::Transaction,
    rows: usize,
    audit: &AuditEntry,
) -> rusqlite::Result<bool> {
    if rows > 0 {
        insert_audit(&tx, audit)?;
    }
    tx.commit()?;
    Ok(rows > 0)
}

impl Store {
    pub async fn audit(&self, entry: AuditEntry) -> Result<()> {
        self.call(move |c| Ok(insert_audit(c, &entry)?)).await
    }

    pub async fn audit_for(&self, target: String) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT at_ms, actor, source, action, target, detail FROM audit_log WHERE target = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([target], |r| {
                Ok(AuditEntry {
                    at_ms: r.get(0)?,
                    actor: r.get(1)?,
                    source: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}
