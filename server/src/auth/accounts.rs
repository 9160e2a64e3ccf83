//! Users, sessions and API tokens in the store.
use crate::error::Result;
use crate::store::Store;
use domain::auth::{Role, TokenView, UserView};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// A user row with its password hash (never leaves the server).
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub view: UserView,
    pub password_hash: String,
}

const USER_COLUMNS: &str = "username, role, disabled, created_at_ms, last_login_ms, password_hash";

fn user_from_row(r: &Row) -> rusqlite::Result<UserRecord> {
    let role: String = r.get(1)?;
    Ok(UserRecord {
        view: UserView {
            username: r.get(0)?,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            disabled: r.get(2)?,
            created_at_ms: r.get(3)?,
            last_login_ms: r.get(4)?,
        },
        password_hash: r.get(5)?,
    })
}

fn token_from_row(r: &Row) -> rusqlite::Result<TokenView> {
    Ok(TokenView {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at_ms: r.get(2)?,
        last_used_ms: r.get(3)?,
    })
}

impl Store {
    pub async fn user_count(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?))
            .await
    }

    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        let username = username.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1"),
                [username],
                user_from_row,
            )
            .optional()?)
        })
        .await
    }

    pub async fn users(&self) -> Result<Vec<UserView>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY username"
            ))?;
            let rows = stmt.query_map([], user_from_row)?;
            Ok(rows
                .map(|r| r.map(|u| u.view))
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// False when the name is taken.
    pub async fn insert_user(
        &self,
        username: &str,
        hash: String,
        role: Role,
        now_ms: i64,
    ) -> Result<bool> {
        let username = username.to_string();
        self.call(move |c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO users (username, password_hash, role, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![username, hash, role.as_str(), now_ms],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub async fn update_user(
        &self,
        username: &str,
        role: Option<Role>,
        disabled: Option<bool>,
        hash: Option<String>,
    ) -> Result<()> {
        let username = username.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            if let Some(role) = role {
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE username = ?1",
                    params![username, role.as_str()],
                )?;
            }
            if let Some(disabled) = disabled {
                tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE username = ?1",
                    params![username, disabled],
                )?;
            }
            if let Some(hash) = hash {
                tx.execute(
                    "UPDATE users SET password_hash = ?2 WHERE username = ?1",
                    params![username, hash],
                )?;
            }
            // A changed account starts over: its sessions end.
            tx.execute("DELETE FROM sessions WHERE username = ?1", [&username])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn record_login(&self, username: &str, now_ms: i64) -> Result<()> {
        let username = username.to_string();
        self.call(move |c| {
            c.execute(
                "UPDATE users SET last_login_ms = ?2 WHERE username = ?1",
                params![username, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn insert_session(
        &self,
        id_hash: String,
        username: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        let username = username.to_string();
        self.call(move |c| {
            c.execute(
                "INSERT INTO sessions (id_hash, username, created_at_ms, last_seen_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?3, ?4)",
                params![id_hash, username, now_ms, expires_at_ms],
            )?;
            Ok(())
        })
        .await
    }

    /// The session's user, if the session is live and the user enabled; touches
    /// `last_seen_ms` at most once a minute. Expired sessions are deleted. Every request
    /// asks this, so it reads on a reader and takes the writer only for those writes.
    pub async fn session_user(
        &self,
        id_hash: String,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<UserView>> {
        let lookup = id_hash.clone();
        let found = self
            .read(move |c| {
                let row: Option<(String, i64, i64)> = c
                    .query_row(
                        "SELECT username, last_seen_ms, expires_at_ms FROM sessions WHERE id_hash = ?1",
                        [&lookup],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                let Some((username, last_seen, expires)) = row else {
                    return Ok(None);
                };
                Ok(Some((last_seen, expires, enabled_user(c, &username)?)))
            })
            .await?;
        let Some((last_seen, expires, user)) = found else {
            return Ok(None);
        };
        if now_ms > expires || now_ms - last_seen > idle_ms {
            self.call(move |c| {
                c.execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash])?;
                Ok(())
            })
            .await?;
            return Ok(None);
        }
        if now_ms - last_seen > 60_000 {
            self.call(move |c| {
                c.execute(
                    "UPDATE sessions SET last_seen_ms = ?2 WHERE id_hash = ?1",
                    params![id_hash, now_ms],
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(user)
    }

    pub async fn delete_session(&self, id_hash: String) -> Result<()> {
        self.call(move |c| {
            c.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
            Ok(())
        })
        .await
    }

    pub async fn active_sessions(&self, now_ms: i64) -> Result<i64> {
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM sessions WHERE expires_at_ms > ?1",
                [now_ms],
                |r| r.get(0),
            )?)
        })
        .await
    }

    pub async fn insert_token(
        &self,
        username: &str,
        name: &str,
        token_hash: String,
        now_ms: i64,
    ) -> Result<TokenView> {
        let (username, name) = (username.to_string(), name.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO api_tokens (username, name, token_hash, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![username, name, token_hash, now_ms],
            )?;
            Ok(TokenView {
                id: c.last_insert_rowid(),
                name,
                created_at_ms: now_ms,
                last_used_ms: None,
            })
        })
        .await
    }

    pub async fn tokens_of(&self, username: &str) -> Result<Vec<TokenView>> {
        let username = username.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, name, created_at_ms, last_used_ms FROM api_tokens \
                 WHERE username = ?1 AND revoked_at_ms IS NULL ORDER BY id DESC",
            )?;
            let rows = stmt.query_map([username], token_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Ends every session and API token of `username` (password reset, disabled);
    /// returns how many sessions and tokens ended.
    pub async fn revoke_credentials(&self, username: &str, now_ms: i64) -> Result<(usize, usize)> {
        let username = username.to_string();
        self.call(move |c| {
            let tx = c.transaction()?;
            let sessions = tx.execute("DELETE FROM sessions WHERE username = ?1", [&username])?;
            let tokens = tx.execute(
                "UPDATE api_tokens SET revoked_at_ms = ?2 WHERE username = ?1 AND revoked_at_ms IS NULL",
                params![username, now_ms],
            )?;
            tx.commit()?;
            Ok((sessions, tokens))
        })
        .await
    }

    /// Deletes sessions past their absolute expiry or idle for longer than `idle_ms`.
    pub async fn sweep_sessions(&self, now_ms: i64, idle_ms: i64) -> Result<usize> {
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM sessions WHERE expires_at_ms < ?1 OR last_seen_ms < ?1 - ?2",
                params![now_ms, idle_ms],
            )?)
        })
        .await
    }

    /// False when the token is not the user's or already revoked.
    pub async fn revoke_token(&self, username: &str, id: i64, now_ms: i64) -> Result<bool> {
        let username = username.to_string();
        self.call(move |c| {
            let n = c.execute(
                "UPDATE api_tokens SET revoked_at_ms = ?3 WHERE id = ?1 AND username = ?2 AND revoked_at_ms IS NULL",
                params![id, username, now_ms],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// The token's enabled user; marks the token used (at most once a minute).
    pub async fn token_user(&self, token_hash: String, now_ms: i64) -> Result<Option<UserView>> {
        let found = self
            .read(move |c| {
                let row: Option<(i64, String, Option<i64>)> = c
                    .query_row(
                        "SELECT id, username, last_used_ms FROM api_tokens WHERE token_hash = ?1 AND revoked_at_ms IS NULL",
                        [&token_hash],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                let Some((id, username, last_used)) = row else {
                    return Ok(None);
                };
                Ok(Some((id, last_used, enabled_user(c, &username)?)))
            })
            .await?;
        let Some((id, last_used, user)) = found else {
            return Ok(None);
        };
        if last_used.is_none_or(|t| now_ms - t > 60_000) {
            self.call(move |c| {
                c.execute(
                    "UPDATE api_tokens SET last_used_ms = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(user)
    }

    pub async fn audit_page(
        &self,
        limit: u32,
        before_id: Option<i64>,
    ) -> Result<Vec<domain::auth::AuditView>> {
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, at_ms, actor, source, action, target, detail FROM audit_log \
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![before_id.unwrap_or(i64::MAX), limit], |r| {
                Ok(domain::auth::AuditView {
                    id: r.get(0)?,
                    at_ms: r.get(1)?,
                    actor: r.get(2)?,
                    source: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    detail: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

/// The user behind a session or token, unless disabled.
fn enabled_user(c: &Connection, username: &str) -> Result<Option<UserView>> {
    let user = c
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1 AND disabled = 0"),
            [username],
            user_from_row,
        )
        .optional()?;
    Ok(user.map(|u| u.view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::auth::Role;

    #[tokio::test]
    async fn sweeping_forgets_expired_and_idle_sessions_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("fabrik.db")).unwrap();
        store
            .insert_user("ann", "hash".into(), Role::Admin, 0)
            .await
            .unwrap();
        // (id, last seen, absolute expiry) at now = 10_000, idle limit 1_000.
        for (id, seen, expires) in [
            ("fresh", 9_500, 20_000),
            ("idle", 8_000, 20_000),
            ("old", 9_900, 9_000),
        ] {
            store
                .insert_session(id.into(), "ann", seen, expires)
                .await
                .unwrap();
        }
        assert_eq!(store.sweep_sessions(10_000, 1_000).await.unwrap(), 2);
        assert_eq!(store.active_sessions(0).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn revoking_a_user_ends_their_sessions_and_tokens_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("fabrik.db")).unwrap();
        for name in ["ann", "bob"] {
            store
                .insert_user(name, "hash".into(), Role::Admin, 0)
                .await
                .unwrap();
            store
                .insert_session(format!("s-{name}"), name, 1, 99_999)
                .await
                .unwrap();
            store
                .insert_token(name, "cli", format!("t-{name}"), 1)
                .await
                .unwrap();
        }
        assert_eq!(store.revoke_credentials("ann", 5).await.unwrap(), (1, 1));
        assert!(store.token_user("t-ann".into(), 6).await.unwrap().is_none());
        assert!(store.token_user("t-bob".into(), 6).await.unwrap().is_some());
        assert_eq!(store.active_sessions(0).await.unwrap(), 1);
    }
}
