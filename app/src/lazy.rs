//! Pages loaded on demand. Built with `cargo leptos build --split`, each one's code is a
//! WASM chunk of its own, fetched when the page is first opened (or preloaded by the
//! server-rendered page that needs it), so a first visit to `/runs` doesn't download the
//! env editor or the spec wizard. The runs list and "not found" stay in the main module:
//! they are where people land. Sign-in is a chunk too: it is visited once a session.
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

use crate::pages::admin::{
    backups::BackupsPage, cluster::ClusterPage, credentials::CredentialsPage, metrics::MetricsPage,
    overview::OverviewPage,
};
use crate::pages::settings::{
    audit::AuditLogPage, notifications::NotificationsPage, observability::ObservabilityPage,
    prices::PricesPage, tokens::TokensPage, users::UsersPage,
};
use crate::pages::{
    dispatch::DispatchPage,
    env::diff::EnvReviewPage,
    env::editor::EnvEditorPage,
    env::EnvListPage,
    feedback::FeedbackPage,
    login::LoginPage,
    run::RunPage,
    schedules::{new::NewSchedulePage, SchedulesPage},
    specs::{detail::SpecPage, todo::TodoPage, wizard::SpecWizardPage, SpecsPage},
};

lazy_pages! {
    Login => LoginPage,
    Run => RunPage,
    Feedback => FeedbackPage,
    Dispatch => DispatchPage,
    EnvList => EnvListPage,
    EnvEditor => EnvEditorPage,
    EnvReview => EnvReviewPage,
    Specs => SpecsPage,
    SpecWizard => SpecWizardPage,
    Spec => SpecPage,
    Todo => TodoPage,
    Schedules => SchedulesPage,
    NewSchedule => NewSchedulePage,
    Overview => OverviewPage,
    Metrics => MetricsPage,
    Cluster => ClusterPage,
    Credentials => CredentialsPage,
    Backups => BackupsPage,
    Tokens => TokensPage,
    Notifications => NotificationsPage,
    Users => UsersPage,
    AuditLog => AuditLogPage,
    Prices => PricesPage,
    Observability => ObservabilityPage,
}
