//! Fabrik Mission Control: the web UI (Leptos, server-rendered and hydrated).
//!
//! - [`shell`] is the HTML document the server renders around [`App`].
//! - [`api`] holds the server functions; their bodies run on the server with an
//!   `Arc<dyn RunService>` / `Arc<dyn AdminService>` from Leptos context and the caller's
//!   `Actor`, which the server's auth middleware puts into the request.
//! - [`session`] is the signed-in user, known to every component for role-aware views.
//! - [`live`] is the browser's connection to `/api/v1/events`.
#![recursion_limit = "512"]

pub mod browser;
pub mod clock;
pub mod components;
pub mod error;
pub mod format;
mod lazy;
pub mod live;
pub mod notify;
pub mod pages;
pub mod paths;
pub mod server_fns;
pub mod session;

use components::layout::Layout;
use components::theme::THEME_SCRIPT;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::runs::{RunsListView, RunsPage};

pub use error::AppError;

/// The whole HTML document. The server renders it for every page request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover"/>
                <meta name="description" content="Fabrik Mission Control: watch, steer and approve Fabrik runs."/>
                <meta name="theme-color" media="(prefers-color-scheme: light)" content="#ffffff"/>
                <meta name="theme-color" media="(prefers-color-scheme: dark)" content="#020617"/>
                <meta name="color-scheme" content="light dark"/>
                <script inner_html=THEME_SCRIPT></script>
                <link rel="stylesheet" id="leptos" href="/pkg/fabrik.css"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icons/apple-touch-icon.png"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_session();
    components::toast::provide_toasts();
    live::provide_live();
    clock::provide_clock();
    pages::env::provide_env_drafts();
    notify::provide_notifications();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() {
                "Fabrik Mission Control".to_string()
            } else {
                format!("{page} · Fabrik Mission Control")
            }
        }/>
        <Router>
            <Layout>
                <Routes fallback=|| "Page not found.">
                    <Route path=path!("/") view=|| view! { <Redirect path="/runs"/> } ssr=SsrMode::Async/>
                    <ParentRoute path=path!("/runs") view=RunsPage>
                        <Route path=path!("") view=RunsListView/>
                        <Route path=path!("board") view={lazy::runs_board::PAGE}/>
                        <Route path=path!("activity") view={lazy::runs_activity::PAGE}/>
                    </ParentRoute>
                    <Route path=path!("/runs/:id") view={lazy::run::PAGE} ssr=SsrMode::Async/>
                    <Route path=path!("/runs/:id/feedback") view={lazy::feedback::PAGE} ssr=SsrMode::Async/>
                    <Route path=path!("/dispatch") view={lazy::dispatch::PAGE}/>
                    <Route path=path!("/env") view={lazy::env_list::PAGE}/>
                    <Route path=path!("/env/:project") view={lazy::env_list::PAGE}/>
                    <Route path=path!("/env/:project/:env") view={lazy::env_editor::PAGE} ssr=SsrMode::Async/>
                    <Route path=path!("/env/:project/:env/diff") view={lazy::env_review::PAGE} ssr=SsrMode::Async/>
                    <Route path=path!("/specs") view={lazy::specs::PAGE}/>
                    <Route path=path!("/specs/new") view={lazy::spec_wizard::PAGE}/>
                    <Route path=path!("/specs/:id") view={lazy::spec::PAGE} ssr=SsrMode::Async/>
                    <Route path=path!("/specs/:id/todo") view={lazy::todo::PAGE} ssr=SsrMode::Async/>
                    <Route path=path!("/schedules") view={lazy::schedules::PAGE}/>
                    <Route path=path!("/schedules/new") view={lazy::new_schedule::PAGE}/>
                    <Route path=path!("/login") view={lazy::login::PAGE}/>
                    <ParentRoute path=path!("/admin") view={lazy::admin_frame::PAGE}>
                        <Route path=path!("") view={lazy::overview::PAGE}/>
                        <Route path=path!("metrics") view={lazy::metrics::PAGE}/>
                        <Route path=path!("cluster") view={lazy::cluster::PAGE}/>
                        <Route path=path!("credentials") view={lazy::credentials::PAGE}/>
                        <Route path=path!("backups") view={lazy::backups::PAGE}/>
                    </ParentRoute>
                    <ParentRoute path=path!("/settings") view={lazy::settings_frame::PAGE}>
                        <Route path=path!("") view=|| view! { <Redirect path="/settings/tokens"/> } ssr=SsrMode::Async/>
                        <Route path=path!("tokens") view={lazy::tokens::PAGE}/>
                        <Route path=path!("notifications") view={lazy::notifications::PAGE}/>
                        <Route path=path!("users") view={lazy::users::PAGE}/>
                        <Route path=path!("audit") view={lazy::audit_log::PAGE}/>
                        <Route path=path!("prices") view={lazy::prices::PAGE}/>
                        <Route path=path!("observability") view={lazy::observability::PAGE}/>
                    </ParentRoute>
                    // Last: every address no route above claims. (The server leaves it to
                    // its fallback, which serves files first.)
                    <Route path=path!("/*any") view={lazy::not_found::PAGE} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Tells browser tests the page is interactive: sets `window.__hydrated = true`.
pub fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(
            &window,
            &wasm_bindgen::JsValue::from_str("__hydrated"),
            &wasm_bindgen::JsValue::TRUE,
        );
    }
}
