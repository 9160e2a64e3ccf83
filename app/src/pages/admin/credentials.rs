//! `/admin/credentials`: the providers runs have keys for — key names, never a value —
//! which key of a pool new runs get (and rotating to the next), and whether runs are
//! hitting the provider's rate limit.
use crate::components::{EmptyState, ErrorBanner, Icon, I};
use crate::format;
use crate::server_fns::{credential_keys, RotateCredential};
use domain::credentials::RateLimitState;
use domain::fleet::{CredentialsView, ProviderKeys};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| credential_keys());
    let rotate = ServerAction::<RotateCredential>::new();
    view! {
        <Title text="Credentials"/>
        <Transition fallback=|| view! { <div class="card h-40 animate-pulse"></div> }>
            {move || {
                // After a rotation the page shows what the server answered.
                let latest = match rotate.value().get() {
                    Some(Ok(view)) => Some(Ok(view)),
                    _ => keys.get(),
                };
                latest.map(|r| match r {
                    Ok(v) => view! { <Credentials view=v rotate/> }.into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                })
            }}
        </Transition>
        {move || match rotate.value().get() {
            Some(Err(e)) => Some(view! { <div class="mt-4"><ErrorBanner error=e/></div> }),
            _ => None,
        }}
    }
}

#[component]
fn Credentials(view: CredentialsView, rotate: ServerAction<RotateCredential>) -> impl IntoView {
    let source = view.source.clone();
    let body = if view.providers.is_empty() {
        view! {
            <EmptyState icon=I::Key title="No credentials"
                message=view.note.clone().unwrap_or_else(|| format!("{source} has no keys."))
                testid="credentials-empty"/>
        }
        .into_any()
    } else {
        view! {
            <section class="card overflow-hidden">
                <table class="stack-table w-full text-sm" data-testid="credentials">
                    <thead class="table-head">
                        <tr>
                            <th scope="col" class="px-4 py-2.5 sm:pl-6">"Provider"</th>
                            <th scope="col" class="px-3 py-2.5">"Keys"</th>
                            <th scope="col" class="px-3 py-2.5">"Rate limit"</th>
                            <th scope="col" class="px-3 py-2.5">"Last rotation"</th>
                            <th scope="col" class="px-4 py-2.5 sm:pr-6"><span class="sr-only">"Rotate"</span></th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        {view.providers.into_iter().map(|p| view! { <ProviderRow p rotate/> }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
        .into_any()
    };
    view! {
        <div class="space-y-4">
            <p class="flex items-center gap-2 text-sm text-slate-500 dark:text-slate-400" data-testid="credentials-source">
                <Icon icon=I::Lock class="h-4 w-4"/>
                {format!("Every run gets these, beneath its env set and settings. Kept in {}; values are never shown here.", view.source)}
            </p>
            {body}
            <p class="text-xs text-slate-500 dark:text-slate-400">
                "Rotate moves new runs to the next key of a provider's pool (ANTHROPIC_API_KEY_1, _2…): they get it as ANTHROPIC_API_KEY. Running runs keep theirs. A provider is limited for 15 minutes after a run fails on its rate limit."
            </p>
        </div>
    }
}

#[component]
fn ProviderRow(p: ProviderKeys, rotate: ServerAction<RotateCredential>) -> impl IntoView {
    let provider = p.provider.clone();
    let active = p.rotation.as_ref().map(|r| r.active.clone());
    let pooled = p.names.len() > 1;
    let rotated = p
        .rotation
        .as_ref()
        .map(|r| format!("{} by {}", format::datetime(r.at_ms), r.by))
        .unwrap_or_else(|| "never".into());
    let pending = rotate.pending();
    view! {
        <tr data-testid="provider" data-provider=p.provider.clone()>
            <td class="c-head px-4 py-2.5 font-medium sm:pl-6">{p.provider.clone()}</td>
            <td class="px-3 py-2.5" data-label="Keys">
                <span class="text-slate-600 dark:text-slate-300">
                    <span class="tabular-nums" data-testid="provider-keys">{p.keys}</span>
                    {if p.keys == 1 { " key" } else { " keys" }}
                </span>
                <div class="mt-1 flex flex-wrap gap-1">
                    {p.names.into_iter().map(|n| {
                        let is_active = active.as_deref() == Some(n.as_str());
                        view! {
                            <code data-testid=if is_active { "active-key" } else { "key" }
                                title=if is_active { "New runs get this one" } else { "" }
                                class=if is_active {
                                    "rounded bg-indigo-100 px-1.5 py-0.5 text-xs font-semibold text-indigo-800 ring-1 ring-indigo-300 dark:bg-indigo-500/20 dark:text-indigo-200 dark:ring-indigo-500/40"
                                } else {
                                    "rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800"
                                }>{n}</code>
                        }
                    }).collect_view()}
                </div>
            </td>
            <td class="px-3 py-2.5" data-label="Rate limit"><RateLimit state=p.rate_limit/></td>
            <td class="px-3 py-2.5 text-slate-600 dark:text-slate-300" data-label="Last rotation" data-testid="last-rotation">{rotated}</td>
            <td class="px-4 py-2.5 text-right sm:pr-6">
                {pooled.then(|| view! {
                    <button type="button" class="btn btn-secondary" data-testid="rotate"
                        disabled=move || pending.get()
                        on:click=move |_| { rotate.dispatch(RotateCredential { provider: provider.clone() }); }>
                        <Icon icon=I::Rotate class="h-4 w-4"/>"Rotate"
                    </button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn RateLimit(state: RateLimitState) -> impl IntoView {
    let detail = state.last_message.clone().unwrap_or_default();
    let last = state
        .last_at_ms
        .map(|at| format!("last {}", format::datetime(at)))
        .unwrap_or_default();
    let (label, tone) = if state.limited {
        ("Limited", "bg-red-50 text-red-700 ring-red-200 dark:bg-red-500/10 dark:text-red-300 dark:ring-red-500/30")
    } else {
        ("OK", "bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-500/30")
    };
    view! {
        <div class="space-y-0.5" title=detail>
            <span data-testid="rate-limit" data-limited=state.limited.to_string()
                class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")>{label}</span>
            {(state.events_24h > 0).then(|| view! {
                <p class="text-xs text-slate-500 dark:text-slate-400" data-testid="rate-limit-count">
                    {format!("{} in 24 h · {last}", state.events_24h)}
                </p>
            })}
        </div>
    }
}
