//! `/settings/notifications`: this browser's notifications. The permission is asked only
//! from the button here, never on page load.
use crate::components::{Icon, I};
use crate::notify::{ask_permission, permission, Permission};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    // Unknown until the page is live in the browser (the server can't tell).
    let state = RwSignal::new(Permission::Unsupported);
    Effect::new(move |_| state.set(permission()));
    let enable = move |_| ask_permission(move |answer| state.set(answer));
    view! {
        <Title text="Notifications"/>
        <section class="card space-y-3 p-4 sm:p-6" data-testid="notifications-browser">
            <h2 class="text-base font-semibold">"This browser"</h2>
            <p class="text-sm text-slate-600 dark:text-slate-300">
                "When a run reaches its human gate, open tabs show a notification naming the run, its spec and template; click it to decide."
            </p>
            {move || match state.get() {
                Permission::Granted => view! {
                    <p class="flex items-center gap-2 text-sm font-medium text-emerald-700 dark:text-emerald-400" data-testid="notifications-on">
                        <Icon icon=I::CheckCircle class="h-4 w-4"/>
                        "Notifications are on for this browser."
                    </p>
                }.into_any(),
                Permission::Denied => view! {
                    <p class="text-sm text-amber-700 dark:text-amber-400" data-testid="notifications-denied">
                        "This browser blocks notifications from this site. Allow them in the site settings (the lock icon beside the address), then reload."
                    </p>
                }.into_any(),
                Permission::Ask => view! {
                    <button type="button" class="btn btn-primary" data-testid="notifications-enable" on:click=enable>
                        <Icon icon=I::Message class="h-4 w-4"/>
                        "Enable notifications"
                    </button>
                }.into_any(),
                Permission::Unsupported => view! {
                    <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="notifications-unsupported">
                        "This browser can't show notifications (or the page is still loading)."
                    </p>
                }.into_any(),
            }}
        </section>
    }
}
