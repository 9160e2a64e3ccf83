use crate::auth::Auth;
use crate::service::Service;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub service: Arc<Service>,
    pub auth: Arc<Auth>,
    /// Mark the session cookie Secure even without `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
}
