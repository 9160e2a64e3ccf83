use crate::auth::Auth;
use crate::client_addr::TrustedProxies;
use crate::service::Service;
use crate::streams::Streams;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub service: Arc<Service>,
    pub auth: Arc<Auth>,
    /// Open live streams, capped and revocable per user.
    pub streams: Arc<Streams>,
    /// Proxies whose `X-Forwarded-For` names the real client.
    pub proxies: Arc<TrustedProxies>,
    /// Mark the session cookie Secure even without `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
    pub telemetry: Arc<crate::telemetry::Telemetry>,
    /// Lets a scraper read `/metrics` without signing in.
    pub metrics_token: Option<String>,
    pub page_cache: Arc<crate::page_cache::PageCache>,
}
