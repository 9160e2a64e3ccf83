//! Pages loaded on demand. Built with `cargo leptos build --split`, each one's code is a
//! WASM chunk of its own, fetched when the page is first opened (or preloaded by the
//! server-rendered page that needs it), so a first visit to `/runs` doesn't download the
//! env editor or the spec wizard. Only the runs list stays in the main module: it is where
//! people land. The runs board and activity feed, the admin and settings frames around
//! their pages, sign-in and "not found" are chunks like every other page.
use leptos::prelude::*;
use leptos_router::ChooseView;
use std::future::Future;
use std::pin::Pin;

type ViewFuture = Pin<Box<dyn Future<Output = AnyView>>>;
type PreloadFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A page whose code is a chunk of its own. Every lazy route shares this one type, so the
/// router's choose/preload glue is in the main module once, not once per page (Leptos'
/// `Lazy<T>` is generic over the page: a copy per page, about 1.5 KB each before `wasm-opt`).
#[derive(Clone, Copy)]
pub struct LazyPage {
    view: fn() -> ViewFuture,
    preload: fn() -> PreloadFuture,
}

impl ChooseView for LazyPage {
    fn choose(self) -> impl Future<Output = AnyView> {
        (self.view)()
    }

    fn preload(&self) -> impl Future<Output = ()> {
        (self.preload)()
    }
}

/// `name => Component`: a module `name` whose `PAGE` renders the component from a chunk
/// of its own, named after the module.
macro_rules! lazy_pages {
    ($($name:ident => $page:ident),* $(,)?) => {$(
        pub mod $name {
            use super::*;

            #[::leptos::lazy($name)]
            fn page() -> AnyView {
                view! { <$page/> }.into_any()
            }

            pub const PAGE: LazyPage = LazyPage {
                view: || Box::pin(page()),
                preload: || {
                    Box::pin(async {
                        // Only the browser build splits; the server renders in place.
                        #[cfg(target_arch = "wasm32")]
                        __preload_page().await;
                    })
                },
            };
        }
    )*};
}

use crate::pages::admin::{
    backups::BackupsPage, cluster::ClusterPage, credentials::CredentialsPage, metrics::MetricsPage,
    overview::OverviewPage, AdminFrame,
};
use crate::pages::settings::{
    audit::AuditLogPage, notifications::NotificationsPage, observability::ObservabilityPage,
    prices::PricesPage, tokens::TokensPage, users::UsersPage, SettingsFrame,
};
use crate::pages::{
    dispatch::DispatchPage,
    env::diff::EnvReviewPage,
    env::editor::EnvEditorPage,
    env::EnvListPage,
    feedback::FeedbackPage,
    login::LoginPage,
    not_found::NotFound,
    run::RunPage,
    runs::{activity::RunsActivity, board::RunsBoard},
    schedules::{new::NewSchedulePage, SchedulesPage},
    specs::{detail::SpecPage, todo::TodoPage, wizard::SpecWizardPage, SpecsPage},
};

lazy_pages! {
    login => LoginPage,
    not_found => NotFound,
    runs_board => RunsBoard,
    runs_activity => RunsActivity,
    run => RunPage,
    feedback => FeedbackPage,
    dispatch => DispatchPage,
    env_list => EnvListPage,
    env_editor => EnvEditorPage,
    env_review => EnvReviewPage,
    specs => SpecsPage,
    spec_wizard => SpecWizardPage,
    spec => SpecPage,
    todo => TodoPage,
    schedules => SchedulesPage,
    new_schedule => NewSchedulePage,
    admin_frame => AdminFrame,
    overview => OverviewPage,
    metrics => MetricsPage,
    cluster => ClusterPage,
    credentials => CredentialsPage,
    backups => BackupsPage,
    settings_frame => SettingsFrame,
    tokens => TokensPage,
    notifications => NotificationsPage,
    users => UsersPage,
    audit_log => AuditLogPage,
    prices => PricesPage,
    observability => ObservabilityPage,
}
