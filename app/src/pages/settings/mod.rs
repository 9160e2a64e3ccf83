//! `/settings/*`: API tokens (everyone), users, the audit log and prices (admins).
pub mod audit;
pub mod notifications;
pub mod observability;
pub mod prices;
pub mod tokens;
pub mod users;

use crate::components::{Icon, PageTab, TabBar, I};
use crate::session::use_session;
use domain::auth::Action;
use leptos::prelude::*;
use leptos_router::components::Outlet;

/// The settings frame: title, tabs, and the chosen page.
#[component]
pub fn SettingsFrame() -> impl IntoView {
    let session = use_session();
    let admin = session.can(Action::ManageUsers);
    let audit = session.can(Action::ReadAudit);
    let prices = session.can(Action::ChangeSettings);
    view! {
        <div class="page">
            <div class="mx-auto max-w-5xl space-y-6">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                        {if admin {
                            "Your API tokens and notifications, the people who can sign in, and the record of every change."
                        } else {
                            "Your API tokens for the fabrik CLI and scripts, and this browser's notifications."
                        }}
                    </p>
                </div>
                <TabBar label="Settings">
                        <PageTab href="/settings/tokens" testid="settings-tab-tokens" icon=I::Key label="API tokens"/>
                        <PageTab href="/settings/notifications" testid="settings-tab-notifications" icon=I::Message label="Notifications"/>
                        {admin.then(|| view! { <PageTab href="/settings/users" testid="settings-tab-users" icon=I::Users label="Users"/> })}
                        {audit.then(|| view! { <PageTab href="/settings/audit" testid="settings-tab-audit" icon=I::List label="Audit log"/> })}
                        {prices.then(|| view! { <PageTab href="/settings/prices" testid="settings-tab-prices" icon=I::Hash label="Prices"/> })}
                        {prices.then(|| view! { <PageTab href="/settings/observability" testid="settings-tab-observability" icon=I::Heart label="Observability"/> })}
                </TabBar>
                <Outlet/>
            </div>
        </div>
    }
}

/// What non-admins see on an admin page.
#[component]
pub fn AdminOnly(#[prop(into)] title: String, #[prop(into)] message: String) -> impl IntoView {
    view! {
        <div data-testid="admin-only" class="empty-box">
            <div class="empty-icon"><Icon icon=I::Lock class="h-6 w-6"/></div>
            <h2 class="mt-4 text-base font-semibold">{title}</h2>
            <p class="mt-1 max-w-md text-sm text-slate-500 dark:text-slate-400">{message}</p>
            <a href="/settings/tokens" class="btn btn-secondary mt-5">
                <Icon icon=I::Key class="h-4 w-4"/>
                "Your API tokens"
            </a>
        </div>
    }
}

/// "your role is viewer" for the admin-only messages.
pub fn your_role() -> String {
    match use_session().role() {
        Some(r) => format!("Your role is {}.", r.as_str()),
        None => String::new(),
    }
}
