//! `/settings/observability` (admins): where to look deeper — Grafana, Loki, LAOS —
//! and a check that says what can't be reached and what to do.
use super::{your_role, AdminOnly};
use crate::components::{ErrorBanner, Icon, I};
use crate::server_fns::{load_links, CheckLinks, SaveLinks};
use crate::session::use_session;
use domain::auth::Action;
use domain::links::ObservabilityLinks;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ObservabilityPage() -> impl IntoView {
    if !use_session().can(Action::ChangeSettings) {
        return view! {
            <AdminOnly title="Only admins can change the observability links"
                message=format!("{} They point the team at Grafana, Loki and LAOS.", your_role())/>
        }
        .into_any();
    }
    let stored = Resource::new(|| (), |_| load_links());
    view! {
        <Title text="Observability"/>
        <Transition fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || stored.get().map(|r| match r {
                Ok(links) => view! { <LinksForm links/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn LinksForm(links: ObservabilityLinks) -> impl IntoView {
    let save = ServerAction::<SaveLinks>::new();
    let check = ServerAction::<CheckLinks>::new();
    let grafana = RwSignal::new(links.grafana.unwrap_or_default());
    let loki = RwSignal::new(links.loki.unwrap_or_default());
    let laos = RwSignal::new(links.laos.unwrap_or_default());
    let field = |label: &'static str,
                 testid: &'static str,
                 hint: &'static str,
                 value: RwSignal<String>| {
        view! {
            <label class="block">
                <span class="text-sm font-medium">{label}</span>
                <input class="input mt-1 w-full" type="url" data-testid=testid placeholder=hint
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <section class="card space-y-4 p-4 sm:p-6" data-testid="links">
            <div>
                <h2 class="text-base font-semibold">"Observability links"</h2>
                <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">
                    "Where to look deeper than these pages: scrape " <code>"/metrics"</code>
                    " into Prometheus and chart it in Grafana; ship the server's JSON logs (" <code>"--log-format json"</code> ") to Loki."
                </p>
            </div>
            {field("Grafana", "link-grafana", "https://grafana.example.com", grafana)}
            {field("Loki", "link-loki", "http://loki:3100", loki)}
            {field("LAOS", "link-laos", "https://laos.example.com", laos)}
            {move || match save.value().get() {
                Some(Err(e)) => view! { <ErrorBanner error=e testid="form-error"/> }.into_any(),
                Some(Ok(_)) => view! { <p class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="links-saved">"Saved."</p> }.into_any(),
                None => ().into_any(),
            }}
            <div class="flex flex-wrap justify-end gap-2">
                <button class="btn btn-secondary" data-testid="links-check" disabled=move || check.pending().get()
                    on:click=move |_| { check.dispatch(CheckLinks {}); }>
                    <Icon icon=I::Heart class="h-4 w-4"/>
                    {move || if check.pending().get() { "Checking…" } else { "Check saved links" }}
                </button>
                <button class="btn btn-primary" data-testid="links-save" disabled=move || save.pending().get()
                    on:click=move |_| {
                        save.dispatch(SaveLinks { grafana: grafana.get_untracked(), loki: loki.get_untracked(), laos: laos.get_untracked() });
                    }>
                    <Icon icon=I::Check class="h-4 w-4"/>
                    "Save links"
                </button>
            </div>
            {move || check.value().get().map(|r| match r {
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="text-sm text-slate-500">"No link is saved yet."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="space-y-2" data-testid="link-checks">
                        {list.into_iter().map(|c| view! {
                            <li class="flex items-start gap-2 text-sm" data-testid="link-check" data-ok=c.ok.to_string()>
                                <Icon icon=if c.ok { I::CheckCircle } else { I::XCircle }
                                    class=if c.ok { "mt-0.5 h-4 w-4 text-emerald-600" } else { "mt-0.5 h-4 w-4 text-red-600" }/>
                                <span><span class="font-medium">{c.name}</span>": " {c.detail}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </section>
    }
}
