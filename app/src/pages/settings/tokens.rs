//! `/settings/tokens`: the signed-in user's API tokens: list, create (the secret is
//! shown once), revoke.
use crate::components::toast::use_toasts;
use crate::components::{ErrorBanner, Icon, RelativeTime, I};
use crate::error::AppError;
use crate::server_fns::{create_token, list_tokens, revoke_token, TokenList};
use domain::auth::validate_token_name;
use domain::auth::TokenView;
use domain::service::CreatedToken;
use leptos::prelude::*;
use leptos::server::SharedValue;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    let origin = site_origin();
    view! {
        <Title text="API tokens"/>
        <Suspense fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || {
                let origin = origin.clone();
                Suspend::new(async move {
                match tokens.await {
                    Ok(list) => view! { <TokensView list origin/> }.into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

/// This server's address as the browser sees it, for the usage example. Taken from the
/// request's Host header while rendering, and handed to the browser with the page.
fn site_origin() -> String {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| {
                    let host = parts
                        .headers
                        .get(http::header::HOST)?
                        .to_str()
                        .ok()?
                        .to_string();
                    let scheme = parts
                        .headers
                        .get("x-forwarded-proto")
                        .and_then(|v| v.to_str().ok())
                        .filter(|s| *s == "https" || *s == "http")
                        .unwrap_or("http")
                        .to_string();
                    Some(format!("{scheme}://{host}"))
                })
                .unwrap_or_else(|| "http://localhost:3000".to_string())
        }
        #[cfg(not(feature = "ssr"))]
        {
            String::from("http://localhost:3000")
        }
    })
    .into_inner()
}

#[component]
fn TokensView(list: TokenList, origin: String) -> impl IntoView {
    let toasts = use_toasts();
    let now_ms = list.now_ms;
    let tokens = RwSignal::new(list.tokens);
    let created = RwSignal::new(None::<CreatedToken>);
    let name = RwSignal::new(String::new());
    let creating = RwSignal::new(false);
    let create_error = RwSignal::new(None::<AppError>);
    let list_error = RwSignal::new(None::<AppError>);

    let on_create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if creating.get_untracked() {
            return;
        }
        let wanted = name.get_untracked().trim().to_string();
        if let Err(e) = validate_token_name(&wanted) {
            create_error.set(Some(e.into()));
            return;
        }
        create_error.set(None);
        creating.set(true);
        spawn_local(async move {
            let result = create_token(wanted).await;
            creating.try_set(false);
            match result {
                Ok(c) => {
                    tokens.try_update(|l| l.insert(0, c.info.clone()));
                    name.try_set(String::new());
                    created.try_set(Some(c));
                }
                Err(e) => {
                    create_error.try_set(Some(e));
                }
            }
        });
    };

    let on_revoked = Callback::new(move |token: TokenView| {
        list_error.set(None);
        tokens.update(|l| l.retain(|t| t.id != token.id));
        if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.info.id == token.id)) {
            created.set(None);
        }
        toasts.success(format!(
            "Token \u{201c}{}\u{201d} revoked. Anything using it can no longer sign in.",
            token.name
        ));
    });
    let on_error = Callback::new(move |e: AppError| list_error.set(Some(e)));

    let usage_origin = origin.clone();
    view! {
        <section class="card overflow-hidden" data-testid="token-create">
            <div class="border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <h2 class="text-base font-semibold">"Create a token"</h2>
                <p class="mt-0.5 text-sm text-slate-500 dark:text-slate-400">
                    "A token lets the fabrik CLI or a script act as you, with your role. Make one per machine or script, so you can revoke each on its own."
                </p>
            </div>
            <form on:submit=on_create class="space-y-4 p-4 sm:p-6">
                <div class="flex flex-col gap-3 sm:flex-row sm:items-end">
                    <label class="block flex-1">
                        <span class="label">"Name"</span>
                        <input
                            type="text"
                            name="name"
                            data-testid="new-token-name"
                            class="input mt-1"
                            autocomplete="off"
                            maxlength="64"
                            placeholder="e.g. laptop CLI"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                            disabled=move || creating.get()
                        />
                    </label>
                    <button
                        type="submit"
                        data-testid="new-token-submit"
                        class="btn btn-primary justify-center"
                        disabled=move || creating.get()
                    >
                        <Icon icon=I::Plus class="h-4 w-4"/>
                        {move || if creating.get() { "Creating…" } else { "Create token" }}
                    </button>
                </div>
                {move || create_error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
                {move || created.get().map(|c| view! {
                    <NewToken created=c origin=origin.clone() on_done=Callback::new(move |_| created.set(None))/>
                })}
            </form>
        </section>

        <section class="card overflow-hidden" data-testid="token-list">
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <Icon icon=I::Key class="h-4 w-4 text-slate-400"/>
                <h2 class="text-sm font-semibold">"Your tokens"</h2>
                <span class="ml-auto text-xs text-slate-500 dark:text-slate-400" data-testid="token-count">
                    {move || match tokens.with(Vec::len) {
                        0 => String::new(),
                        1 => "1 token".to_string(),
                        n => format!("{n} tokens"),
                    }}
                </span>
            </div>
            {move || list_error.get().map(|e| view! { <div class="p-4"><ErrorBanner error=e testid="form-error"/></div> })}
            <Show
                when=move || tokens.with(|l| !l.is_empty())
                fallback=|| view! {
                    <p data-testid="tokens-empty" class="px-4 py-10 text-center text-sm text-slate-500 dark:text-slate-400">
                        "You have no API tokens. Create one above to use the CLI or the API."
                    </p>
                }
            >
                <table class="stack-table w-full text-sm" data-testid="token-table">
                    <thead class="table-head">
                        <tr>
                            <th scope="col" class="px-4 py-2.5 sm:pl-6">"Name"</th>
                            <th scope="col" class="px-3 py-2.5">"Created"</th>
                            <th scope="col" class="px-3 py-2.5">"Last used"</th>
                            <th scope="col" class="px-4 py-2.5 sm:pr-6"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        <For
                            each=move || tokens.get()
                            key=|t| t.id
                            children=move |t| view! { <TokenRow token=t now_ms on_revoked on_error/> }
                        />
                    </tbody>
                </table>
            </Show>
        </section>

        <section class="card p-4 sm:p-6" data-testid="token-usage">
            <h2 class="flex items-center gap-2 text-sm font-semibold">
                <Icon icon=I::Terminal class="h-4 w-4 text-slate-400"/>
                "Using a token"
            </h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                "Send it in the "
                <code class="rounded bg-slate-100 px-1 py-0.5 font-mono text-xs dark:bg-slate-800">"Authorization"</code>
                " header of every request to the API:"
            </p>
            <pre class="mt-3 overflow-x-auto rounded-lg bg-slate-950 p-3 font-mono text-xs leading-relaxed text-slate-100 dark:bg-black/40">
                {format!("curl -H \"Authorization: Bearer <token>\" {usage_origin}/api/v1/runs")}
            </pre>
            <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">
                "Treat a token like a password: keep it out of shared scripts and repositories. Revoke it here when a machine is lost or a script retired; it stops working at once."
            </p>
        </section>
    }
}

/// The new token's secret, shown this once, with a copy button.
#[component]
fn NewToken(created: CreatedToken, origin: String, on_done: Callback<()>) -> impl IntoView {
    // "copied", "selected" (no clipboard access: the text is selected for Ctrl+C) or "".
    let copied = RwSignal::new("");
    let value_ref = NodeRef::<leptos::html::Code>::new();
    let secret = created.token.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let navigator = window().navigator();
            // Browsers only offer the clipboard on https and localhost.
            let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
                .is_ok_and(|c| !c.is_undefined() && !c.is_null());
            let select = move || {
                if let (Some(el), Ok(Some(sel))) =
                    (value_ref.get_untracked(), window().get_selection())
                {
                    let _ = sel.select_all_children(&el);
                }
            };
            if has_clipboard {
                let promise = navigator.clipboard().write_text(&secret);
                spawn_local(async move {
                    let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                    if !ok {
                        select();
                    }
                    copied.try_set(if ok { "copied" } else { "selected" });
                });
            } else {
                select();
                copied.set("selected");
            }
            set_timeout(
                move || {
                    copied.try_set("");
                },
                std::time::Duration::from_secs(3),
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&secret, value_ref);
    };
    view! {
        <div
            data-testid="new-token"
            class="rounded-xl border border-emerald-300 bg-emerald-50 p-4 dark:border-emerald-500/30 dark:bg-emerald-500/10"
        >
            <p class="flex items-center gap-2 text-sm font-semibold text-emerald-900 dark:text-emerald-200">
                <Icon icon=I::CheckCircle class="h-4 w-4 text-emerald-500"/>
                {format!("Token \u{201c}{}\u{201d} created", created.info.name)}
            </p>
            <p class="mt-1 text-sm text-emerald-900/80 dark:text-emerald-200/80">
                <span class="font-semibold">"Copy it now: it won't be shown again."</span>
                " Only a hash of it is stored."
            </p>
            <div class="mt-3 flex flex-col gap-2 sm:flex-row sm:items-stretch">
                <code
                    node_ref=value_ref
                    data-testid="new-token-value"
                    class="block min-w-0 flex-1 break-all rounded-lg bg-white px-3 py-2 font-mono text-sm text-slate-900 ring-1 ring-inset ring-emerald-300 select-all dark:bg-slate-950 dark:text-emerald-100 dark:ring-emerald-500/40"
                >
                    {created.token.clone()}
                </code>
                <button
                    type="button"
                    data-testid="new-token-copy"
                    class="btn btn-secondary justify-center"
                    on:click=copy
                >
                    {move || if copied.get() == "copied" {
                        view! { <Icon icon=I::Check class="h-4 w-4"/> }
                    } else {
                        view! { <Icon icon=I::Copy class="h-4 w-4"/> }
                    }}
                    {move || match copied.get() {
                        "copied" => "Copied",
                        "selected" => "Press Ctrl+C",
                        _ => "Copy",
                    }}
                </button>
            </div>
            <pre class="mt-3 overflow-x-auto rounded-lg bg-slate-950 p-3 font-mono text-xs text-slate-100 dark:bg-black/40">
                {format!("curl -H \"Authorization: Bearer {}\" {origin}/api/v1/runs", created.token)}
            </pre>
            <div class="mt-3 flex justify-end">
                <button
                    type="button"
                    data-testid="new-token-done"
                    class="btn btn-ghost"
                    on:click=move |_| on_done.run(())
                >
                    "I have copied it"
                </button>
            </div>
        </div>
    }
}

#[component]
fn TokenRow(
    token: TokenView,
    now_ms: i64,
    on_revoked: Callback<TokenView>,
    on_error: Callback<AppError>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let id = token.id;
    let t = token.clone();
    let revoke = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let t = t.clone();
        spawn_local(async move {
            let result = revoke_token(t.id).await;
            busy.try_set(false);
            match result {
                Ok(()) => on_revoked.run(t),
                Err(e) => on_error.run(e),
            }
        });
    };
    view! {
        <tr data-testid=format!("token-row-{id}")>
            <td class="c-head px-4 py-3 font-medium sm:pl-6">
                <span class="break-all">{token.name.clone()}</span>
            </td>
            <td class="whitespace-nowrap px-3 py-3 text-slate-600 dark:text-slate-300" data-label="Created">
                <RelativeTime at_ms=token.created_at_ms server_now=now_ms/>
            </td>
            <td class="whitespace-nowrap px-3 py-3 text-slate-600 dark:text-slate-300" data-label="Last used">
                {match token.last_used_ms {
                    Some(at) => view! { <RelativeTime at_ms=at server_now=now_ms/> }.into_any(),
                    None => view! { <span class="text-slate-400">"never"</span> }.into_any(),
                }}
            </td>
            <td class="c-actions px-4 py-3 text-right sm:pr-6">
                <button
                    type="button"
                    data-testid=format!("token-revoke-{id}")
                    class="btn btn-danger-outline py-1.5"
                    title="Revoke: anything using this token can no longer sign in"
                    disabled=move || busy.get()
                    on:click=revoke
                >
                    {move || if busy.get() { "Revoking…" } else { "Revoke" }}
                </button>
            </td>
        </tr>
    }
}
