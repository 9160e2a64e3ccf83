//! A row of tabs under a page header: links, the current one underlined.
use super::{Icon, I};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The bar the tabs sit in; scrolls sideways on a phone.
#[component]
pub fn TabBar(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! {
        <nav aria-label=label class="-mx-4 overflow-x-auto border-b border-slate-200 px-4 sm:mx-0 sm:px-0 dark:border-slate-800">
            <div class="flex gap-1">{children()}</div>
        </nav>
    }
}

#[component]
pub fn TabLink(
    #[prop(into)] href: String,
    #[prop(into)] testid: String,
    #[prop(into)] active: Signal<bool>,
    children: Children,
) -> impl IntoView {
    view! {
        <a
            href=href
            data-testid=testid
            aria-current=move || active.get().then_some("page")
            class=move || {
                let tone = if active.get() {
                    "border-indigo-500 text-slate-900 dark:border-indigo-400 dark:text-white"
                } else {
                    "border-transparent text-slate-500 hover:border-slate-300 hover:text-slate-800 dark:text-slate-400 dark:hover:border-slate-600 dark:hover:text-slate-200"
                };
                format!("-mb-px inline-flex items-center gap-2 whitespace-nowrap border-b-2 px-3 py-2.5 text-sm font-medium transition {tone}")
            }
        >
            {children()}
        </a>
    }
}

/// A tab to a page of its own (`/settings/users`), current when it is open.
#[component]
pub fn PageTab(
    href: &'static str,
    testid: &'static str,
    icon: I,
    label: &'static str,
) -> impl IntoView {
    let location = use_location();
    let active = Signal::derive(move || location.pathname.get() == href);
    view! {
        <TabLink href testid active>
            <Icon icon=icon class="h-4 w-4"/>
            {label}
        </TabLink>
    }
}
