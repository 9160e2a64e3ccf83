//! Server functions: the pages' only way to the run and admin services.
//!
//! Each body runs on the server, where `fabrik-server` provides per request an
//! `Arc<dyn RunService>` and an `Arc<dyn AdminService>` as Leptos context. Who is asking
//! comes from the request itself: the server's auth middleware puts a
//! `domain::service::Actor` and a `domain::auth::Principal` into the request's
//! extensions, which leptos_axum hands us as `http::request::Parts` ([`actor`],
//! [`principal`]). Role rules live in the services; pages only hide what a role can't do.
use crate::error::AppError;
use domain::auth::{AuditView, NewUser, Principal, TokenView, UserChange, UserView};
use domain::dispatch::{DispatchRequest, Dispatched};
use domain::feedback::Decision;
use domain::filter::RunFilter;
use domain::run::{LogChunk, RunDetail, RunPage, RunSummary};
use domain::service::CreatedToken;
use domain::template::TemplateSummary;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// One page of the runs list plus the server's clock, so relative times render the
/// same on the server and during hydration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunListing {
    pub page: RunPage,
    pub now_ms: i64,
}

/// Largest log slice one call returns.
pub const MAX_LOG_CHUNK: u64 = 512 * 1024;

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

/// Who is asking: the `Actor` the server's auth middleware put into this request's
/// extensions. Every server function starts here, so none answers without sign-in.
#[cfg(feature = "ssr")]
pub fn actor() -> Result<domain::service::Actor, AppError> {
    from_request::<domain::service::Actor>().ok_or_else(signed_out)
}

/// The signed-in user of this request (page render or server function), if any.
#[cfg(feature = "ssr")]
pub fn principal() -> Option<Principal> {
    from_request::<Principal>()
}

#[cfg(feature = "ssr")]
fn from_request<T: Clone + Send + Sync + 'static>() -> Option<T> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<T>().cloned())
}

/// Gives a server function's failure its own HTTP status (403, 409…) instead of
/// leptos' blanket 500, so logs and metrics tell refusals from faults. Only for
/// server-function requests: during a page render the page decides its status.
#[cfg(feature = "ssr")]
fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result {
        let is_fn_call = use_context::<http::request::Parts>().is_some_and(|p| {
            p.uri.path().starts_with("/api/") && !p.uri.path().starts_with("/api/v1/")
        });
        if let (true, Some(opts), Ok(status)) = (
            is_fn_call,
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(e.code.http_status()),
        ) {
            opts.set_status(status);
        }
    }
    result
}

#[cfg(feature = "ssr")]
fn signed_out() -> AppError {
    AppError::new(
        domain::ErrorCode::Unauthorized,
        "You are not signed in, or your session has expired. Sign in again and retry.",
    )
}

#[cfg(feature = "ssr")]
mod ctx {
    use crate::error::AppError;
    use domain::service::{AdminService, RunService};
    use domain::ErrorCode;
    use std::sync::Arc;

    pub fn service() -> Result<Arc<dyn RunService>, AppError> {
        leptos::prelude::use_context::<Arc<dyn RunService>>().ok_or_else(|| {
            AppError::new(
                ErrorCode::Internal,
                "The run service is not available to this page. Restart fabrik-server; \
                 if it persists, report it as a bug.",
            )
        })
    }

    pub fn admin() -> Result<Arc<dyn AdminService>, AppError> {
        leptos::prelude::use_context::<Arc<dyn AdminService>>().ok_or_else(|| {
            AppError::new(
                ErrorCode::Internal,
                "The user service is not available to this page. Restart fabrik-server; \
                 if it persists, report it as a bug.",
            )
        })
    }

    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// One page of runs matching `filter` (newest first).
#[server(endpoint = "list_runs", input = Json)]
pub async fn list_runs(filter: RunFilter) -> Result<RunListing, AppError> {
    let result = async move {
        actor()?;
        let page = ctx::service()?.list_runs(filter).await?;
        Ok(RunListing {
            page,
            now_ms: ctx::now_ms(),
        })
    }
    .await;
    answer(result)
}

/// Everything the run and feedback pages show.
#[server(endpoint = "get_run", input = Json)]
pub async fn get_run(run_id: String) -> Result<RunDetail, AppError> {
    let result = async move {
        actor()?;
        Ok(ctx::service()?.get_run(&run_id).await?)
    }
    .await;
    answer(result)
}

/// Starts a run; the caller navigates to `/runs/<run_id>`.
#[server(endpoint = "dispatch_run", input = Json)]
pub async fn dispatch_run(request: DispatchRequest) -> Result<Dispatched, AppError> {
    let result = async move {
        let request = request.normalized()?;
        let actor = actor()?;
        Ok(ctx::service()?.dispatch(&actor, request).await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "cancel_run", input = Json)]
pub async fn cancel_run(run_id: String) -> Result<RunSummary, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.cancel(&actor, &run_id).await?)
    }
    .await;
    answer(result)
}

#[server(endpoint = "resume_run", input = Json)]
pub async fn resume_run(run_id: String) -> Result<RunSummary, AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::service()?.resume(&actor, &run_id).await?)
    }
    .await;
    answer(result)
}

/// Approves or rejects the run's open human gate.
#[server(endpoint = "submit_feedback", input = Json)]
pub async fn submit_feedback(
    run_id: String,
    decision: Decision,
    notes: Option<String>,
) -> Result<RunSummary, AppError> {
    let request = domain::feedback::FeedbackRequest { decision, notes };
    request.validate()?;
    let actor = actor()?;
    Ok(ctx::service()?.feedback(&actor, &run_id, request).await?)
}

#[server(endpoint = "list_templates", input = Json)]
pub async fn list_templates() -> Result<Vec<TemplateSummary>, AppError> {
    let result = async move {
        actor()?;
        Ok(ctx::service()?.templates().await?)
    }
    .await;
    answer(result)
}

/// A slice of the run's log from byte `offset`, at most `max_bytes` long.
#[server(endpoint = "read_logs", input = Json)]
pub async fn read_logs(run_id: String, offset: u64, max_bytes: u64) -> Result<LogChunk, AppError> {
    let result = async move {
        actor()?;
        let max_bytes = max_bytes.clamp(1, MAX_LOG_CHUNK);
        Ok(ctx::service()?.logs(&run_id, offset, max_bytes).await?)
    }
    .await;
    answer(result)
}

/// Who is signed in (`None` on the login page, where nobody is).
#[server(endpoint = "current_user", input = Json)]
pub async fn current_user() -> Result<Option<Principal>, AppError> {
    let result = async move { Ok(principal()) }.await;
    answer(result)
}

/// Every user (admins only).
#[server(endpoint = "list_users", input = Json)]
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
#[server(endpoint = "create_user", input = Json)]
pub async fn create_user(user: NewUser) -> Result<UserView, AppError> {
    let result = async move {
        let actor = actor()?;
        let user = NewUser {
            username: user.username.trim().to_string(),
            ..user
        };
        domain::auth::validate_username(&user.username)?;
        domain::auth::validate_password(&user.password)?;
        Ok(ctx::admin()?.create_user(&actor, user).await?)
    }
    .await;
    answer(result)
}

/// Changes a user's role, enabled state or password (admins only; not one's own role
/// or enabled state).
#[server(endpoint = "change_user", input = Json)]
pub async fn change_user(username: String, change: UserChange) -> Result<UserView, AppError> {
    let result = async move {
        let actor = actor()?;
        if let Some(password) = &change.password {
            domain::auth::validate_password(password)?;
        }
        Ok(ctx::admin()?.change_user(&actor, &username, change).await?)
    }
    .await;
    answer(result)
}

/// The caller's own API tokens.
#[server(endpoint = "list_tokens", input = Json)]
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
#[server(endpoint = "create_token", input = Json)]
pub async fn create_token(name: String) -> Result<CreatedToken, AppError> {
    let result = async move {
        let actor = actor()?;
        let name = name.trim().to_string();
        validate_token_name(&name)?;
        Ok(ctx::admin()?.create_token(&actor, &name).await?)
    }
    .await;
    answer(result)
}

/// Revokes one of the caller's tokens.
#[server(endpoint = "revoke_token", input = Json)]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let result = async move {
        let actor = actor()?;
        Ok(ctx::admin()?.revoke_token(&actor, id).await?)
    }
    .await;
    answer(result)
}

/// The audit log, newest first, [`AUDIT_PAGE`] entries from before `before_id` (admins only).
#[server(endpoint = "audit_log", input = Json)]
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

/// Longest token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 64;

/// A token needs a name that says where it is used ("laptop CLI").
pub fn validate_token_name(name: &str) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::new(
            domain::ErrorCode::BadRequest,
            "Give the token a name that says where it is used, e.g. \"laptop CLI\".",
        ));
    }
    if name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::new(
            domain::ErrorCode::BadRequest,
            format!("Token names are at most {MAX_TOKEN_NAME_CHARS} characters on one line."),
        ));
    }
    Ok(())
}
