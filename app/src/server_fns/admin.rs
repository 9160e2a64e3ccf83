//! Server functions for people: who is signed in, users, API tokens, the audit log.
use super::JsonText;
#[cfg(feature = "ssr")]
use super::{actor, answer, ctx, principal};
use crate::error::AppError;
use domain::auth::{AuditView, NewUser, Principal, TokenView, UserChange, UserView};
use domain::service::CreatedToken;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// The users table plus the server's clock (for "3h ago" that hydrates identically).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserView>,
    pub now_ms: i64,
}

/// The caller's API tokens plus the server's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
    pub now_ms: i64,
}

/// One page of the audit log, newest first; `has_older` says whether an "Older" page
/// exists (pass the last entry's id as `before_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditView>,
    pub has_older: bool,
}

/// Audit entries per page.
pub const AUDIT_PAGE: u32 = 50;

/// Who is signed in (`None` on the login page, where nobody is).
#[server(endpoint = "current_user", input = Json, output = JsonText)]
pub async fn current_user() -> Result<Option<Principal>, AppError> {
    let result = async move { Ok(principal()) }.await;
    answer(result)
}

/// Every user (admins only).
#[server(endpoint = "list_users", input = Json, output = JsonText)]
pub async fn list_users() -> Result<UserList, AppError> {
    let result = async move {
        let actor = actor()?;
        let users = ctx::admin()?.list_users(&actor).await?;
        Ok(UserList {
            users,
            now_ms: ctx::now_ms(),
        })
    }
    .await;
    answer(result)
}

/// Adds a user (admins only).
#[server(endpoint = "create_user", input = Json, output = JsonText)]
pub async fn create_user(user: NewUser) -> Result<UserView, AppError> {
    let result = async move {
        let actor = actor()?;
        let user = NewUser {
            username: user.username.trim().to_string(),
            ..user
        };
        Ok(ctx::admin()?.create_user(&actor, user).await?)
    }
    .await;
    answer(result)
}

/// Changes a user's role, enabled state or password (admins only; not one's own role
/// or enabled state).
#[server(endpoint = "change_user", input = Json, output = JsonText)]
pub async fn change_user(username: String, change: UserChange) -> Result<UserView, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::admin()?.change_user(&actor, &username, change).await?)
    }
    .await;
    answer(result)
}

/// The caller's own API tokens.
#[server(endpoint = "list_tokens", input = Json, output = JsonText)]
pub async fn list_tokens() -> Result<TokenList, AppError> {
    let result = async move {
        let actor = actor()?;
        let tokens = ctx::admin()?.list_tokens(&actor).await?;
        Ok(TokenList {
            tokens,
            now_ms: ctx::now_ms(),
        })
    }
    .await;
    answer(result)
}

/// A new API token for the caller; its secret is in the answer and nowhere else.
#[server(endpoint = "create_token", input = Json, output = JsonText)]
pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::admin()?.create_token(&actor, &name).await?)
    }
    .await;
    answer(result)
}

/// Revokes one of the caller's tokens.
#[server(endpoint = "revoke_token", input = Json, output = JsonText)]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::admin()?.revoke_token(&actor, id).await?)
    }
    .await;
    answer(result)
}

/// The audit log, newest first, [`AUDIT_PAGE`] entries from before `before_id` (admins only).
#[server(endpoint = "audit_log", input = Json, output = JsonText)]
pub async fn audit_log(before_id: Option<i64>) -> Result<AuditPage, AppError> {
    let result = async move {
        let actor = actor()?;
        let mut entries = ctx::admin()?
            .audit_log(&actor, AUDIT_PAGE + 1, before_id)
            .await?;
        let has_older = entries.len() > AUDIT_PAGE as usize;
        entries.truncate(AUDIT_PAGE as usize);
        Ok(AuditPage { entries, has_older })
    }
    .await;
    answer(result)
}
