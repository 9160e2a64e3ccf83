use super::icons::{Icon, I};
use crate::error::AppError;
use leptos::prelude::*;

/// A red banner for an error; `message` is what the person reads.
#[component]
pub fn ErrorBanner(
    error: AppError,
    /// Defaults to `error-banner`; forms use `form-error`.
    #[prop(default = "error-banner")]
    testid: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
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
