//! `/admin/credentials`: the providers runs have keys for, and how many — key names,
//! never a value.
use crate::components::{EmptyState, ErrorBanner, Icon, I};
use crate::server_fns::credential_keys;
use domain::fleet::CredentialsView;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| credential_keys());
    view! {
        <Title text="Credentials"/>
        <Transition fallback=|| view! { <div class="card h-40 animate-pulse"></div> }>
            {move || keys.get().map(|r| match r {
                Ok(v) => view! { <Credentials view=v/> }.into_any(),
                Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Credentials(view: CredentialsView) -> impl IntoView {
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
                            <th scope="col" class="px-4 py-2.5 sm:pr-6">"Names"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        {view.providers.into_iter().map(|p| { let name = p.provider.clone(); view! {
                            <tr data-testid="provider" data-provider=name>
                                <td class="c-head px-4 py-2.5 font-medium sm:pl-6">{p.provider}</td>
                                <td class="px-3 py-2.5 tabular-nums" data-label="Keys" data-testid="provider-keys">{p.keys}</td>
                                <td class="px-4 py-2.5 sm:pr-6" data-label="Names">
                                    <div class="flex flex-wrap gap-1">
                                        {p.names.into_iter().map(|n| view! {
                                            <code class="rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">{n}</code>
                                        }).collect_view()}
                                    </div>
                                </td>
                            </tr>
                        }}).collect_view()}
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
        </div>
    }
}
