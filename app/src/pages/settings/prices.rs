//! `/settings/prices` (admins): the price table runs are costed with, one model (or
//! model prefix ending in `*`) per line, in USD per million tokens.
use super::{your_role, AdminOnly};
use crate::components::{ErrorBanner, Icon, I};
use crate::server_fns::{prices_text, SavePrices};
use crate::session::use_session;
use domain::auth::Action;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PricesPage() -> impl IntoView {
    if !use_session().can(Action::ChangeSettings) {
        return view! {
            <AdminOnly title="Only admins can change prices"
                message=format!("{} The price table turns the runs' tokens into estimated cost.", your_role())/>
        }
        .into_any();
    }
    let stored = Resource::new(|| (), |_| prices_text());
    view! {
        <Title text="Prices"/>
        <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || stored.get().map(|r| match r {
                Ok(text) => view! { <PriceForm text/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn PriceForm(text: String) -> impl IntoView {
    let save = ServerAction::<SavePrices>::new();
    let text = RwSignal::new(text);
    let pending = save.pending();
    view! {
        <section class="card space-y-4 p-4 sm:p-6" data-testid="prices">
            <div>
                <h2 class="text-base font-semibold">"Price table"</h2>
                <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                    "One model per line: " <code>"model input output [cache-read] [cache-write]"</code>
                    ", in USD per million tokens. A name ending in " <code>"*"</code>
                    " prices every model it starts; an exact name wins. Models with no price show their tokens and no cost."
                </p>
            </div>
            <textarea data-testid="prices-text" rows="12" spellcheck="false" aria-label="Price table"
                class="input w-full font-mono text-xs"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            {move || match save.value().get() {
                Some(Err(e)) => view! { <ErrorBanner error=e testid="form-error"/> }.into_any(),
                Some(Ok(n)) => view! {
                    <p class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="prices-saved">
                        {format!("Saved: {n} {}. Costs on every page use it now.", if n == 1 { "model" } else { "models" })}
                    </p>
                }.into_any(),
                None => ().into_any(),
            }}
            <div class="flex justify-end">
                <button class="btn btn-primary" data-testid="prices-save" disabled=move || pending.get()
                    on:click=move |_| { save.dispatch(SavePrices { text: text.get_untracked() }); }>
                    <Icon icon=I::Check class="h-4 w-4"/>
                    {move || if pending.get() { "Saving…" } else { "Save prices" }}
                </button>
            </div>
        </section>
    }
}
