//! Env sets in the store. Values arrive and leave sealed; this module never sees one in
//! the clear.
use super::audit::{commit_audited, insert_audit};
use super::{AuditEntry, Store};
use crate::error::Result;
use domain::env::EnvSetSummary;
use rusqlite::{params, OptionalExtension};

/// A set as stored: its variables' sealed values, by key.
#[derive(Debug, Clone)]
pub struct StoredEnvSet {
    pub project: String,
    pub env: String,
    pub version: i64,
    pub sealed: Vec<(String, Vec<u8>)>,
    pub updated_at_ms: i64,
    pub updated_by: String,
}

/// A save that found another version than it was based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleVersion;

impl Store {
    /// Every set, and the keys it lacks of `required`.
    pub async fn env_sets(&self, required: Vec<String>) -> Result<Vec<EnvSetSummary>> {
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT s.project, s.env, s.version, s.updated_at_ms, s.updated_by, \
                 (SELECT group_concat(v.key, ',') FROM env_vars v WHERE v.project = s.project AND v.env = s.env) \
                 FROM env_sets s ORDER BY s.project, s.env",
            )?;
            let rows = stmt.query_map([], |r| {
                let keys: Option<String> = r.get(5)?;
                let keys: Vec<&str> = keys.as_deref().map(|k| k.split(',').collect()).unwrap_or_default();
                Ok(EnvSetSummary {
                    project: r.get(0)?,
                    env: r.get(1)?,
                    version: r.get(2)?,
                    updated_at_ms: r.get(3)?,
                    updated_by: r.get(4)?,
                    keys: keys.len(),
                    missing_required: required
                        .iter()
                        .filter(|k| !keys.contains(&k.as_str()))
                        .cloned()
                        .collect(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub async fn env_set(&self, project: &str, env: &str) -> Result<Option<StoredEnvSet>> {
        let (project, env) = (project.to_string(), env.to_string());
        self.read(move |c| {
            let head: Option<(i64, i64, String)> = c
                .query_row(
                    "SELECT version, updated_at_ms, updated_by FROM env_sets WHERE project = ?1 AND env = ?2",
                    params![project, env],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((version, updated_at_ms, updated_by)) = head else {
                return Ok(None);
            };
            let mut stmt = c.prepare(
                "SELECT key, sealed FROM env_vars WHERE project = ?1 AND env = ?2 ORDER BY key",
            )?;
            let sealed = stmt
                .query_map(params![project, env], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some(StoredEnvSet {
                project,
                env,
                version,
                sealed,
                updated_at_ms,
                updated_by,
            }))
        })
        .await
    }

    /// Replaces the set's variables if it is still at `expected` (`None`: it must not
    /// exist yet), with its audit entry, in one transaction. Returns the new version.
    pub async fn save_env_set(
        &self,
        stored: StoredEnvSet,
        expected: Option<i64>,
        audit: AuditEntry,
    ) -> Result<std::result::Result<i64, StaleVersion>> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let current: Option<i64> = tx
                .query_row(
                    "SELECT version FROM env_sets WHERE project = ?1 AND env = ?2",
                    params![stored.project, stored.env],
                    |r| r.get(0),
                )
                .optional()?;
            if current != expected {
                return Ok(Err(StaleVersion));
            }
            let version = current.unwrap_or(0) + 1;
            tx.execute(
                "INSERT INTO env_sets (project, env, version, created_at_ms, updated_at_ms, updated_by) \
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (project, env) DO UPDATE SET \
                 version = ?3, updated_at_ms = ?4, updated_by = ?5",
                params![stored.project, stored.env, version, stored.updated_at_ms, stored.updated_by],
            )?;
            tx.execute(
                "DELETE FROM env_vars WHERE project = ?1 AND env = ?2",
                params![stored.project, stored.env],
            )?;
            for (key, sealed) in &stored.sealed {
                tx.execute(
                    "INSERT INTO env_vars (project, env, key, sealed) VALUES (?1, ?2, ?3, ?4)",
                    params![stored.project, stored.env, key, sealed],
                )?;
            }
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok(Ok(version))
        })
        .await
    }

    /// Deletes the set and its variables; false when there was none.
    pub async fn delete_env_set(
        &self,
        project: &str,
        env: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        let (project, env) = (project.to_string(), env.to_string());
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM env_vars WHERE project = ?1 AND env = ?2",
                params![project, env],
            )?;
            let n = tx.execute(
                "DELETE FROM env_sets WHERE project = ?1 AND env = ?2",
                params![project, env],
            )?;
            Ok(commit_audited(tx, n, &audit)?)
        })
        .await
    }
}
