//! Who is asking: users with argon2id passwords, cookie sessions, API tokens, login
//! limits, and the admin functions (users, tokens, audit log).
mod accounts;
pub mod http;
mod limiter;
mod secrets;

pub use secrets::CONCURRENT_HASHES;

use crate::clock::now_ms;
use crate::error::Result;
use crate::store::{AuditEntry, Store};
use crate::streams::Streams;
use domain::auth::{
    validate_password, validate_token_name, validate_username, Action, AuditView, NewUser, Role,
    TokenView, UserChange, UserView,
};
use domain::service::{Actor, AdminService, CreatedToken};
use domain::{Error as DomainError, ErrorCode};
use limiter::{Limiter, Limits};
use secrets::{random_secret, sha256_hex, Passwords};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A session ends after this long without a request…
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// …and in any case this long after login.
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often expired sessions and idle limiter entries are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(300);

pub struct Auth {
    store: Store,
    passwords: Passwords,
    limiter: Limiter,
    streams: Arc<Streams>,
}

/// Why a login failed: deliberately not whether the user exists.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Invalid,
    RateLimited,
}

impl LoginError {
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::Invalid => "invalid",
            LoginError::RateLimited => "rate_limited",
        }
    }
    pub fn public(&self) -> DomainError {
        match self {
            LoginError::Invalid => {
                DomainError::new(ErrorCode::Unauthorized, "Wrong username or password.")
            }
            LoginError::RateLimited => DomainError::new(
                ErrorCode::TooManyRequests,
                "Too many failed sign-ins. Wait a few minutes and try again.",
            ),
        }
    }
}

impl Auth {
    pub fn new(store: Store, streams: Arc<Streams>) -> Result<Auth> {
        Ok(Auth {
            store,
            passwords: Passwords::new()?,
            limiter: Limiter::new(Limits::default()),
            streams,
        })
    }

    /// Forgets expired sessions and idle sign-in limit entries, every few minutes.
    pub fn spawn_sweeper(self: &Arc<Self>) {
        let auth = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                auth.sweep().await;
            }
        });
    }

    pub async fn sweep(&self) {
        let idle = SESSION_IDLE.as_millis() as i64;
        match self.store.sweep_sessions(now_ms(), idle).await {
            Ok(n) if n > 0 => tracing::debug!(sessions = n, "swept expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not sweep expired sessions"),
        }
        self.limiter.sweep(Instant::now());
    }

    /// On an empty store, creates `admin` with `FABRIK_ADMIN_PASSWORD` or a generated
    /// password that is logged once.
    pub async fn bootstrap_admin(&self, from_env: Option<String>) -> Result<()> {
        if self.store.user_count().await? > 0 {
            return Ok(());
        }
        let (password, generated) = match from_env.filter(|p| !p.is_empty()) {
            Some(p) => {
                validate_password(&p).map_err(|e| {
                    DomainError::bad_request(format!("FABRIK_ADMIN_PASSWORD: {}", e.message))
                })?;
                (p, false)
            }
            None => (random_secret()[..20].to_string(), true),
        };
        let hash = self.passwords.hash(&password).await?;
        self.store
            .insert_user("admin", hash, Role::Admin, now_ms())
            .await?;
        if generated {
            tracing::warn!(
                "Created the first user 'admin' with the password: {password}  — it is shown only this once. \
                 Sign in at /login and change it in Settings → Users, or restart with an empty data dir \
                 and FABRIK_ADMIN_PASSWORD set to choose it."
            );
        } else {
            tracing::info!(
                "Created the first user 'admin' with the password from FABRIK_ADMIN_PASSWORD."
            );
        }
        Ok(())
    }

    /// Checks a password (rate-limited, constant work whether or not the user exists)
    /// and returns the user.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        ip: &str,
    ) -> Result<UserView, LoginError> {
        let Some(attempt) = self.limiter.begin(ip, username).await else {
            self.audit_login(username, ip, "auth.login_limited").await;
            return Err(LoginError::RateLimited);
        };
        let user = self.store.user(username).await.ok().flatten();
        let stored = user.as_ref().map(|u| u.password_hash.as_str());
        let ok = self.passwords.verify(password, stored).await;
        match user {
            Some(u) if ok && !u.view.disabled => {
                attempt.succeeded();
                Ok(u.view)
            }
            _ => {
                attempt.failed(Instant::now());
                self.audit_login(username, ip, "auth.login_failed").await;
                Err(LoginError::Invalid)
            }
        }
    }

    /// Signs in: a fresh session (never reusing one the client brought), whose secret
    /// goes in the cookie.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: &str,
        old_session: Option<&str>,
    ) -> Result<Result<String, LoginError>> {
        let user = match self.check_password(username, password, ip).await {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(old) = old_session {
            self.store.delete_session(sha256_hex(old)).await?;
        }
        let secret = random_secret();
        let now = now_ms();
        self.store
            .insert_session(
                sha256_hex(&secret),
                &user.username,
                now,
                now + SESSION_ABSOLUTE.as_millis() as i64,
            )
            .await?;
        self.store.record_login(&user.username, now).await?;
        self.audit_login(&user.username, ip, "auth.login").await;
        Ok(Ok(secret))
    }

    pub async fn logout(&self, session: &str, actor: &Actor) -> Result<()> {
        self.store.delete_session(sha256_hex(session)).await?;
        self.audit(actor, "auth.logout", None, None).await
    }

    pub async fn session_user(&self, secret: &str) -> Result<Option<UserView>> {
        self.store
            .session_user(
                sha256_hex(secret),
                now_ms(),
                SESSION_IDLE.as_millis() as i64,
            )
            .await
    }

    pub async fn token_user(&self, token: &str) -> Result<Option<UserView>> {
        self.store.token_user(sha256_hex(token), now_ms()).await
    }

    pub async fn active_sessions(&self) -> Result<i64> {
        self.store.active_sessions(now_ms()).await
    }

    async fn audit_login(&self, username: &str, ip: &str, action: &str) {
        let entry = AuditEntry {
            at_ms: now_ms(),
            actor: username.chars().take(64).collect(),
            source: Some(ip.to_string()),
            action: action.into(),
            target: None,
            detail: None,
        };
        if let Err(e) = self.store.audit(entry).await {
            tracing::warn!(error = %e, "could not write the audit log");
        }
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<String>,
        detail: Option<String>,
    ) -> Result<()> {
        self.store
            .audit(AuditEntry {
                at_ms: now_ms(),
                actor: actor.name.clone(),
                source: actor.from.clone(),
                action: action.into(),
                target,
                detail,
            })
            .await
    }

    /// Ends everything that lets `username` in: sessions, API tokens, open streams.
    async fn revoke_credentials(&self, username: &str) -> Result<()> {
        let (sessions, tokens) = self.store.revoke_credentials(username, now_ms()).await?;
        self.streams.revoke(username);
        tracing::info!(%username, sessions, tokens, "revoked a user's sessions, tokens and streams");
        Ok(())
    }

    async fn mint_token(&self, actor: &Actor, name: &str) -> Result<CreatedToken> {
        let name = name.trim();
        validate_token_name(name)?;
        let token = format!("fbk_{}", random_secret());
        let info = self
            .store
            .insert_token(&actor.name, name, sha256_hex(&token), now_ms())
            .await?;
        self.audit(
            actor,
            "token.create",
            Some(actor.name.clone()),
            Some(name.to_string()),
        )
        .await?;
        Ok(CreatedToken { token, info })
    }
}

fn public<T>(r: Result<T>) -> domain::Result<T> {
    r.map_err(|e| e.public())
}

#[async_trait::async_trait]
impl AdminService for Auth {
    async fn list_users(&self, actor: &Actor) -> domain::Result<Vec<UserView>> {
        actor.role.require(Action::ManageUsers)?;
        public(self.store.users().await)
    }

    async fn create_user(&self, actor: &Actor, user: NewUser) -> domain::Result<UserView> {
        actor.role.require(Action::ManageUsers)?;
        validate_username(&user.username)?;
        validate_password(&user.password)?;
        let hash = public(self.passwords.hash(&user.password).await)?;
        if !public(
            self.store
                .insert_user(&user.username, hash, user.role, now_ms())
                .await,
        )? {
            return Err(DomainError::conflict(format!(
                "A user named '{}' already exists.",
                user.username
            )));
        }
        public(
            self.audit(
                actor,
                "user.create",
                Some(user.username.clone()),
                Some(format!("role={}", user.role.as_str())),
            )
            .await,
        )?;
        public(self.store.user(&user.username).await)?
            .map(|u| u.view)
            .ok_or_else(|| {
                DomainError::internal("The user was created but could not be read back.")
            })
    }

    async fn change_user(
        &self,
        actor: &Actor,
        username: &str,
        change: UserChange,
    ) -> domain::Result<UserView> {
        actor.role.require(Action::ManageUsers)?;
        if public(self.store.user(username).await)?.is_none() {
            return Err(DomainError::not_found(format!(
                "No user named '{username}'."
            )));
        }
        if username == actor.name
            && (change.disabled == Some(true) || change.role.is_some_and(|r| r != Role::Admin))
        {
            return Err(DomainError::conflict(
                "You can't disable or demote yourself; ask another admin, so there is always one left.",
            ));
        }
        let hash = match &change.password {
            Some(p) => {
                validate_password(p)?;
                Some(public(self.passwords.hash(p).await)?)
            }
            None => None,
        };
        public(
            self.store
                .update_user(username, change.role, change.disabled, hash)
                .await,
        )?;
        if change.password.is_some() || change.disabled == Some(true) {
            public(self.revoke_credentials(username).await)?;
        }
        let mut what = Vec::new();
        if let Some(r) = change.role {
            what.push(format!("role={}", r.as_str()));
        }
        if let Some(d) = change.disabled {
            what.push(if d {
                "disabled".into()
            } else {
                "enabled".into()
            });
        }
        if change.password.is_some() {
            what.push("password reset".into());
        }
        public(
            self.audit(
                actor,
                "user.change",
                Some(username.into()),
                Some(what.join(", ")),
            )
            .await,
        )?;
        public(self.store.user(username).await)?
            .map(|u| u.view)
            .ok_or_else(|| DomainError::internal("The user vanished while being changed."))
    }

    async fn list_tokens(&self, actor: &Actor) -> domain::Result<Vec<TokenView>> {
        public(self.store.tokens_of(&actor.name).await)
    }

    async fn create_token(&self, actor: &Actor, name: &str) -> domain::Result<CreatedToken> {
        public(self.mint_token(actor, name).await)
    }

    async fn revoke_token(&self, actor: &Actor, id: i64) -> domain::Result<()> {
        if !public(self.store.revoke_token(&actor.name, id, now_ms()).await)? {
            return Err(DomainError::not_found(format!(
                "You have no active token with id {id}."
            )));
        }
        public(
            self.audit(
                actor,
                "token.revoke",
                Some(actor.name.clone()),
                Some(format!("id={id}")),
            )
            .await,
        )
    }

    async fn audit_log(
        &self,
        actor: &Actor,
        limit: u32,
        before_id: Option<i64>,
    ) -> domain::Result<Vec<AuditView>> {
        actor.role.require(Action::ReadAudit)?;
        public(self.store.audit_page(limit.clamp(1, 500), before_id).await)
    }
}
