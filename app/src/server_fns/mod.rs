//! Server functions: the pages' only way to the services, one module per capability
//! (`runs`, `admin`, `env`, `specs`, `schedules`, `notify`), sharing the helpers here.
//!
//! Each body runs on the server, where `fabrik-server` provides per request an
//! `Arc<dyn RunService>` and an `Arc<dyn AdminService>` as Leptos context. Who is asking
//! comes from the request itself: the server's auth middleware puts a
//! `domain::service::Actor` and a `domain::auth::Principal` into the request's
//! extensions, which leptos_axum hands us as `http::request::Parts` ([`actor`],
//! [`principal`]). Role rules live in the services; pages only hide what a role can't do.
mod admin;
mod backups;
mod codec;
mod env;
mod fleet;
mod metrics;
mod notify;
mod runs;
mod schedules;
mod specs;

pub use admin::*;
pub use backups::*;
pub use codec::JsonText;
pub use env::*;
pub use fleet::*;
pub use metrics::*;
pub use notify::*;
pub use runs::*;
pub use schedules::*;
pub use specs::*;

#[cfg(feature = "ssr")]
use crate::error::AppError;
#[cfg(feature = "ssr")]
use domain::auth::Principal;
#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// Who is asking: the `Actor` the server's auth middleware put into this request's
/// extensions. Every server function starts here, so none answers without sign-in.
#[cfg(feature = "ssr")]
pub(crate) fn actor() -> Result<domain::service::Actor, AppError> {
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
pub(crate) fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
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
pub(crate) mod ctx {
    use crate::error::AppError;
    use domain::service::{
        AdminService, BackupService, EnvService, FleetService, MetricsService, NotifyService,
        RunService, ScheduleService, SpecService,
    };
    use domain::ErrorCode;
    use std::sync::Arc;

    pub fn service() -> Result<Arc<dyn RunService>, AppError> {
        provided("run service")
    }

    pub fn admin() -> Result<Arc<dyn AdminService>, AppError> {
        provided("user service")
    }

    pub fn env() -> Result<Arc<dyn EnvService>, AppError> {
        provided("env service")
    }

    pub fn specs() -> Result<Arc<dyn SpecService>, AppError> {
        provided("spec service")
    }

    pub fn schedules() -> Result<Arc<dyn ScheduleService>, AppError> {
        provided("schedule service")
    }

    pub fn fleet() -> Result<Arc<dyn FleetService>, AppError> {
        provided("fleet service")
    }

    pub fn backups() -> Result<Arc<dyn BackupService>, AppError> {
        provided("backup service")
    }

    pub fn metrics() -> Result<Arc<dyn MetricsService>, AppError> {
        provided("metrics service")
    }

    pub fn notify() -> Result<Arc<dyn NotifyService>, AppError> {
        provided("notification service")
    }

    fn provided<T: Clone + 'static>(what: &str) -> Result<T, AppError> {
        leptos::prelude::use_context::<T>().ok_or_else(|| {
            AppError::new(
                ErrorCode::Internal,
                format!(
                    "The {what} is not available to this page. Restart fabrik-server; \
                     if it persists, report it as a bug."
                ),
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
