use super::run_data::set_page_status;
use crate::components::{Icon, I};
use crate::session::use_session;
use domain::auth::Action;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    set_page_status(404);
    view! {
        <Title text="Page not found"/>
        <div class="page">
            <div data-testid="not-found" class="mx-auto max-w-lg py-20 text-center">
                <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
                <h1 class="mt-2 text-3xl font-bold tracking-tight">"Page not found"</h1>
                <p class="mt-3 text-slate-600 dark:text-slate-400">
                    "There is nothing at this address. It may have moved, or the link has a typo."
                </p>
                <div class="mt-8 flex justify-center gap-3">
                    <a href="/runs" class="btn btn-primary">
                        <Icon icon=I::ArrowLeft class="h-4 w-4"/>
                        "Go to runs"
                    </a>
                    {use_session().can(Action::Dispatch).then(|| view! {
                        <a href="/dispatch" class="btn btn-secondary">"Dispatch a run"</a>
                    })}
                </div>
            </div>
        </div>
    }
}
