//! `/admin/*` (admins): what runs use and cost, where they go — this host or the
//! cluster — and the credentials they get.
pub mod backups;
pub mod cluster;
pub mod credentials;
pub mod metrics;
pub mod overview;

use crate::components::{PageTab, TabBar, I};
use crate::pages::settings::{your_role, AdminOnly};
use crate::session::use_session;
use domain::auth::Action;
use leptos::prelude::*;
use leptos_router::components::Outlet;

#[component]
pub fn AdminFrame() -> impl IntoView {
    let allowed = use_session().can(Action::SeeFleet);
    view! {
        <div class="page">
            <div class="mx-auto max-w-6xl space-y-6">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Admin"</h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                        "What runs use and cost, where they go and what they get: metrics, machines, volumes, storage, credentials and backups."
                    </p>
                </div>
                {if allowed {
                    view! {
                        <TabBar label="Admin">
                            <PageTab href="/admin" testid="admin-tab-overview" icon=I::Heart label="Overview"/>
                            <PageTab href="/admin/metrics" testid="admin-tab-metrics" icon=I::Hash label="Metrics"/>
                            <PageTab href="/admin/cluster" testid="admin-tab-cluster" icon=I::Cpu label="Cluster"/>
                            <PageTab href="/admin/credentials" testid="admin-tab-credentials" icon=I::Key label="Credentials"/>
                            <PageTab href="/admin/backups" testid="admin-tab-backups" icon=I::Download label="Backups"/>
                        </TabBar>
                        <Outlet/>
                    }
                    .into_any()
                } else {
                    view! {
                        <AdminOnly
                            title="Only admins can see the fleet"
                            message=format!("{} These pages show the machines runs go to and the credentials they get.", your_role())
                        />
                    }
                    .into_any()
                }}
            </div>
        </div>
    }
}
