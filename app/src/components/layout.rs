//! The app frame: header with product name, navigation, live indicator, theme toggle.
use super::icons::Logo;
use super::theme::ThemeToggle;
use crate::live::{use_live, ConnState};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-dvh flex-col">
            <Header/>
            <main class="flex-1">{children()}</main>
            <footer class="border-t border-slate-200 py-4 text-center text-xs text-slate-400 dark:border-slate-800 dark:text-slate-500">
                "Fabrik Mission Control"
            </footer>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    view! {
        <header class="sticky top-0 z-30 border-b border-slate-200 bg-white/85 backdrop-blur-md dark:border-slate-800 dark:bg-slate-950/80">
            <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2.5 sm:px-6 lg:px-8">
                <a href="/runs" class="flex items-center gap-2.5 rounded-lg" aria-label="Fabrik Mission Control — runs">
                    <Logo class="h-8 w-8 shrink-0"/>
                    <span class="text-sm font-semibold tracking-tight text-slate-900 dark:text-white">
                        "Fabrik Mission Control"
                    </span>
                </a>
                <nav aria-label="Main" class="order-last -mx-1 flex w-full gap-1 md:order-none md:mx-0 md:w-auto">
                    <NavLink href="/runs" testid="nav-runs" label="Runs" also="/"/>
                    <NavLink href="/dispatch" testid="nav-dispatch" label="Dispatch" also=""/>
                </nav>
                <div class="ml-auto flex items-center gap-2">
                    <ConnIndicator/>
                    <ThemeToggle/>
                </div>
            </div>
        </header>
    }
}

#[component]
fn NavLink(
    href: &'static str,
    testid: &'static str,
    label: &'static str,
    /// Another exact path that counts as this section.
    also: &'static str,
) -> impl IntoView {
    let location = use_location();
    let active = move || {
        let path = location.pathname.get();
        path == also || path == href || path.starts_with(&format!("{href}/"))
    };
    view! {
        <a
            href=href
            data-testid=testid
            aria-current=move || active().then_some("page")
            class=move || {
                let tone = if active() {
                    "bg-slate-900/5 text-slate-900 dark:bg-white/10 dark:text-white"
                } else {
                    "text-slate-600 hover:bg-slate-900/5 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-white/5 dark:hover:text-white"
                };
                format!("rounded-lg px-3 py-1.5 text-sm font-medium transition {tone}")
            }
        >
            {label}
        </a>
    }
}

#[component]
fn ConnIndicator() -> impl IntoView {
    let state = use_live().state;
    let tone = move || {
        match state.get() {
        ConnState::Live => {
            "bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-500/30"
        }
        ConnState::Connecting | ConnState::Reconnecting => {
            "bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-500/10 dark:text-amber-300 dark:ring-amber-500/30"
        }
        ConnState::Offline => {
            "bg-red-50 text-red-700 ring-red-200 dark:bg-red-500/10 dark:text-red-300 dark:ring-red-500/30"
        }
    }
    };
    let dot = move || match state.get() {
        ConnState::Live => "bg-emerald-500",
        ConnState::Connecting | ConnState::Reconnecting => "bg-amber-500 animate-pulse",
        ConnState::Offline => "bg-red-500",
    };
    view! {
        <div
            data-testid="conn-indicator"
            data-state=move || state.get().data_state()
            title=move || state.get().help()
            role="status"
            aria-live="polite"
            class=move || {
                format!(
                    "inline-flex h-9 items-center gap-2 rounded-lg px-2.5 text-xs font-medium ring-1 ring-inset {}",
                    tone(),
                )
            }
        >
            <span class="relative flex h-2 w-2">
                <Show when=move || state.get() == ConnState::Live>
                    <span class="absolute inline-flex h-full w-full animate-ping rounded-full bg-emerald-400 opacity-75"></span>
                </Show>
                <span class=move || format!("relative inline-flex h-2 w-2 rounded-full {}", dot())></span>
            </span>
            <span class="sr-only sm:not-sr-only">{move || state.get().label()}</span>
        </div>
    }
}
