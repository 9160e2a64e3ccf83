//! The app frame: header with product name, navigation, live indicator, theme toggle
//! and the signed-in user's menu; toasts.
use super::badges::RoleBadge;
use super::icons::{Icon, Logo, I};
use super::theme::ThemeToggle;
use super::toast::ToastRegion;
use crate::live::{use_live, ConnState};
use crate::paths::is_bare_page;
use crate::session::use_session;
use domain::auth::{Action, Principal};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let bare = move || is_bare_page(&location.pathname.get());
    view! {
        <div class="flex min-h-dvh flex-col">
            <Show when=move || !bare()>
                <Header/>
            </Show>
            <main class="flex-1">{children()}</main>
            <ToastRegion/>
            <Show when=move || !bare()>
                <footer class="border-t border-slate-200 py-4 text-center text-xs text-slate-400 dark:border-slate-800 dark:text-slate-500">
                    "Fabrik Mission Control"
                </footer>
            </Show>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let signed_in = session.user.is_some();
    view! {
        <header class="sticky top-0 z-30 border-b border-slate-200 bg-white/85 backdrop-blur-md dark:border-slate-800 dark:bg-slate-950/80">
            <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-2 px-4 py-2.5 sm:gap-x-6 sm:px-6 lg:px-8">
                <a href="/runs" class="flex items-center gap-2.5 rounded-lg" aria-label="Fabrik Mission Control — runs">
                    <Logo class="h-8 w-8 shrink-0"/>
                    // Phones keep one header row for brand, status and the user menu.
                    <span class="text-sm font-semibold tracking-tight text-slate-900 dark:text-white">
                        <span class="sm:hidden">"Fabrik"</span>
                        <span class="hidden sm:inline">"Fabrik Mission Control"</span>
                    </span>
                </a>
                <nav aria-label="Main" class="order-last -mx-1 flex w-full min-w-0 gap-1 overflow-x-auto md:order-none md:mx-0 md:w-auto">
                    <NavLink href="/runs" testid="nav-runs" label="Runs" also="/"/>
                    {match session.refusal(Action::Dispatch) {
                        None => view! { <NavLink href="/dispatch" testid="nav-dispatch" label="Dispatch" also=""/> }.into_any(),
                        Some(why) => view! {
                            <span
                                data-testid="nav-dispatch"
                                data-disabled="true"
                                aria-disabled="true"
                                title=why
                                class="cursor-not-allowed rounded-lg px-3 py-1.5 text-sm font-medium text-slate-400 dark:text-slate-600"
                            >
                                "Dispatch"
                            </span>
                        }
                        .into_any(),
                    }}
                    {signed_in.then(|| view! { <NavLink href="/specs" testid="nav-specs" label="Specs" also=""/> })}
                    {signed_in.then(|| view! { <NavLink href="/schedules" testid="nav-schedules" label="Schedules" also=""/> })}
                    {signed_in.then(|| view! { <NavLink href="/env" testid="nav-env" label="Env" also=""/> })}
                    {signed_in.then(|| view! { <NavLink href="/settings" testid="nav-settings" label="Settings" also=""/> })}
                    {session.can(Action::SeeFleet).then(|| view! { <NavLink href="/admin" testid="nav-admin" label="Admin" also=""/> })}
                </nav>
                <div class="ml-auto flex items-center gap-2">
                    <ConnIndicator/>
                    <ThemeToggle/>
                    {match session.user.clone() {
                        Some(user) => view! { <UserMenu user/> }.into_any(),
                        None => view! {
                            <a href="/login" data-testid="login-link" class="btn btn-secondary h-9">"Sign in"</a>
                        }
                        .into_any(),
                    }}
                </div>
            </div>
        </header>
    }
}

/// The signed-in user (name and role) and a menu: settings pages and Sign out.
/// A `<details>` element, so it opens and signs out even before the WASM has loaded.
#[component]
fn UserMenu(user: Principal) -> impl IntoView {
    let menu = NodeRef::<leptos::html::Details>::new();
    let location = use_location();
    let close = move || {
        if let Some(el) = menu.get_untracked() {
            el.set_open(false);
        }
    };
    // Following a link in the menu closes it.
    Effect::new(move |prev: Option<String>| {
        let path = location.pathname.get();
        if prev.is_some_and(|p| p != path) {
            close();
        }
        path
    });
    // So do a click elsewhere and Escape.
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let click = window_event_listener(leptos::ev::click, move |ev| {
            let Some(el) = menu.get_untracked() else {
                return;
            };
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                .is_some_and(|t| el.contains(Some(&t)));
            if !inside && el.open() {
                el.set_open(false);
            }
        });
        let key = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                close();
            }
        });
        on_cleanup(move || {
            click.remove();
            key.remove();
        });
    }

    let admin = user.role.can(Action::ManageUsers);
    // Shown in capitals by the stylesheet (`uppercase`): Rust's to_uppercase would bring
    // Unicode's case tables into the main WASM module.
    let initial = user
        .username
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    view! {
        <details node_ref=menu class="group relative" data-testid="user-menu">
            <summary
                data-testid="current-user"
                data-username=user.username.clone()
                data-role=user.role.as_str()
                title=format!("Signed in as {} ({})", user.username, user.role.as_str())
                class="flex h-9 cursor-pointer list-none items-center gap-2 rounded-lg pr-2 pl-1 text-sm ring-1 ring-inset ring-slate-200 transition select-none hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:ring-slate-700 dark:hover:bg-slate-800"
            >
                // The initial is drawn by CSS, so the element's text is just name and role.
                <span
                    aria-hidden="true"
                    data-initial=initial
                    class="flex h-7 w-7 shrink-0 items-center justify-center rounded-md bg-indigo-600 text-xs font-semibold uppercase text-white before:content-[attr(data-initial)] dark:bg-indigo-500"
                ></span>
                <span class="max-w-[4.5rem] truncate font-medium text-slate-800 sm:max-w-[10rem] dark:text-slate-100" data-testid="current-username">
                    {user.username.clone()}
                </span>
                <span class="hidden sm:inline-flex">
                    <RoleBadge role=user.role testid="current-role"/>
                </span>
                <Icon icon=I::ChevronDown class="h-4 w-4 shrink-0 text-slate-400 transition-transform group-open:rotate-180"/>
            </summary>
            <div class="absolute right-0 z-40 mt-2 w-64 max-w-[calc(100vw-2rem)] overflow-hidden rounded-xl border border-slate-200 bg-white py-1 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
                <div class="flex items-center gap-2 border-b border-slate-100 px-3 py-2.5 dark:border-slate-800">
                    <div class="min-w-0 flex-1">
                        <p class="text-xs text-slate-500 dark:text-slate-400">"Signed in as"</p>
                        <p class="truncate font-semibold">{user.username.clone()}</p>
                    </div>
                    <RoleBadge role=user.role/>
                </div>
                <p class="px-3 pt-2.5 pb-1 text-[11px] font-semibold uppercase tracking-wide text-slate-400 dark:text-slate-500">
                    "Settings"
                </p>
                {admin.then(|| view! {
                    <MenuLink href="/settings/users" testid="menu-users" icon=I::Users label="Users"/>
                    <MenuLink href="/settings/audit" testid="menu-audit" icon=I::List label="Audit log"/>
                })}
                <MenuLink href="/settings/tokens" testid="menu-tokens" icon=I::Key label="API tokens"/>
                <div class="mt-1 border-t border-slate-100 pt-1 dark:border-slate-800">
                    <form method="post" action="/auth/logout">
                        <button
                            type="submit"
                            data-testid="logout-button"
                            class="flex w-full items-center gap-2.5 px-3 py-2 text-left text-slate-700 hover:bg-slate-50 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white"
                        >
                            <Icon icon=I::LogOut class="h-4 w-4 text-slate-400"/>
                            "Sign out"
                        </button>
                    </form>
                </div>
            </div>
        </details>
    }
}

#[component]
fn MenuLink(
    href: &'static str,
    testid: &'static str,
    icon: I,
    label: &'static str,
) -> impl IntoView {
    view! {
        <a
            href=href
            data-testid=testid
            class="flex items-center gap-2.5 px-3 py-2 text-slate-700 hover:bg-slate-50 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white"
        >
            <Icon icon=icon class="h-4 w-4 text-slate-400"/>
            {label}
        </a>
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
                format!("shrink-0 whitespace-nowrap rounded-lg px-3 py-1.5 text-sm font-medium transition {tone}")
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
