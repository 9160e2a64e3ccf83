use super::icons::{Icon, I};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// `/login?next=<here>`, for "Sign in again" after the session ended.
fn login_href(path: &str, search: &str) -> String {
    let here = if search.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", search.trim_start_matches('?'))
    };
    let mut next = String::with_capacity(here.len());
    for b in here.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                next.push(b as char)
            }
            _ => next.push_str(&format!("%{b:02X}")),
        }
    }
    format!("/login?next={next}")
}

/// A red banner for an error; `message` is what the person reads.
#[component]
pub fn ErrorBanner(
    error: AppError,
    /// Defaults to `error-banner`; forms use `form-error`.
    #[prop(default = "error-banner")]
    testid: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let signed_out = error.code == domain::ErrorCode::Unauthorized;
    let location = use_location();
    view! {
        <div
            role="alert"
            data-testid=testid
            data-code=format!("{:?}", error.code)
            class="flex gap-3 rounded-xl border border-red-200 bg-red-50 p-4 text-sm text-red-800 dark:border-red-500/30 dark:bg-red-500/10 dark:text-red-200"
        >
            <Icon icon=I::XCircle class="mt-0.5 h-5 w-5 shrink-0 text-red-500"/>
            <div class="min-w-0 flex-1">
                <p class="font-semibold">{error.title()}</p>
                <p class="mt-0.5 break-words">{error.message.clone()}</p>
                {crate::format::fix_link(&error.message).map(|href| view! {
                    <a href=href.clone() data-testid="fix-link" class="mt-2 inline-flex font-medium underline underline-offset-2">
                        {format!("Fix it: {href}")}
                    </a>
                })}
                {signed_out.then(|| view! {
                    <a
                        href=move || login_href(&location.pathname.get(), &location.search.get())
                        rel="external"
                        data-testid="sign-in-again"
                        class="mt-2 inline-flex font-medium underline underline-offset-2"
                    >
                        "Sign in again"
                    </a>
                })}
                {children.map(|c| view! { <div class="mt-2">{c()}</div> })}
            </div>
        </div>
    }
}

/// An amber banner for something degraded but not fatal.
#[component]
pub fn WarningBanner(
    title: String,
    #[prop(into)] message: String,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div
            role="status"
            data-testid=testid.unwrap_or("warning-banner")
            class="flex gap-3 rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900 dark:border-amber-500/30 dark:bg-amber-500/10 dark:text-amber-200"
        >
            <Icon icon=I::Triangle class="mt-0.5 h-5 w-5 shrink-0 text-amber-500"/>
            <div class="min-w-0 flex-1">
                <p class="font-semibold">{title}</p>
                <p class="mt-0.5 break-words">{message}</p>
            </div>
        </div>
    }
}

/// A centred message for "nothing here (yet)", with an optional action below.
#[component]
pub fn EmptyState(
    icon: I,
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div
            data-testid=testid.unwrap_or("empty-state")
            class="flex flex-col items-center rounded-xl border border-dashed border-slate-300 px-6 py-14 text-center dark:border-slate-700"
        >
            <div class="flex h-12 w-12 items-center justify-center rounded-full bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
                <Icon icon=icon class="h-6 w-6"/>
            </div>
            <h3 class="mt-4 text-base font-semibold">{title}</h3>
            <p class="mt-1 max-w-md text-sm text-slate-500 dark:text-slate-400">{message}</p>
            {children.map(|c| view! { <div class="mt-5">{c()}</div> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn login_links_come_back_here() {
        assert_eq!(super::login_href("/runs", ""), "/login?next=/runs");
        assert_eq!(
            super::login_href("/runs", "?status=running&q=a b"),
            "/login?next=/runs%3Fstatus%3Drunning%26q%3Da%20b"
        );
    }
}

/// A list page's title and what it holds, with its main action (a "New …" link).
#[component]
pub fn PageHeader(
    title: &'static str,
    blurb: &'static str,
    /// `(href, label, testid)` of the "New …" link, if the page has one.
    #[prop(optional)]
    new: Option<(&'static str, &'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <header class="flex flex-wrap items-end gap-3">
            <div class="min-w-[14rem] flex-1">
                <h1 class="text-xl font-semibold tracking-tight">{title}</h1>
                <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{blurb}</p>
            </div>
            {new.map(|(href, label, testid)| view! {
                <a href=href class="btn btn-primary" data-testid=testid>
                    <crate::components::Icon icon=crate::components::I::Plus class="h-4 w-4"/>
                    {label}
                </a>
            })}
        </header>
    }
}
