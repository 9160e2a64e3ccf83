//! Admins: the site's notification settings and the alert channels (Zulip,
//! PagerDuty, Alertmanager, email), each with Save and "Send test". Secrets come back
//! masked; leaving the mask keeps the stored one.
use crate::components::toast::use_toasts;
use crate::components::{ErrorBanner, Icon, I};
use crate::error::AppError;
use crate::server_fns::{
    load_notify_settings, load_outbox, notify_channels, store_channel, store_notify_settings,
    try_channel,
};
use domain::notify::{ChannelUpdate, ChannelView, NotifySettings};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SiteSettings() -> impl IntoView {
    let settings = Resource::new(|| (), |_| load_notify_settings());
    view! {
        <section class="card overflow-hidden" data-testid="notify-settings">
            <div class="border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <h2 class="text-base font-semibold">"Alerts"</h2>
                <p class="mt-0.5 text-sm text-slate-500 dark:text-slate-400">
                    "Every gate is sent to each enabled channel below; its decision resolves or announces it there. A gate nobody answers escalates."
                </p>
            </div>
            <Suspense fallback=|| view! { <div class="h-24 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => view! { <SettingsForm settings=s/> }.into_any(),
                        Err(e) => view! { <div class="p-4"><ErrorBanner error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SettingsForm(settings: NotifySettings) -> impl IntoView {
    let toasts = use_toasts();
    let url = RwSignal::new(settings.external_url);
    let minutes = RwSignal::new(settings.escalate_after_minutes.to_string());
    let error = RwSignal::new(None::<AppError>);
    let outbox = Resource::new(|| (), |_| load_outbox());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(escalate_after_minutes) = minutes.get_untracked().trim().parse() else {
            error.set(Some(AppError::new(
                domain::ErrorCode::BadRequest,
                "Escalate after must be a whole number of minutes.",
            )));
            return;
        };
        let wanted = NotifySettings {
            external_url: url.get_untracked().trim().into(),
            escalate_after_minutes,
        };
        if let Err(e) = wanted.validate() {
            error.set(Some(e.into()));
            return;
        }
        error.set(None);
        spawn_local(async move {
            match store_notify_settings(wanted).await {
                Ok(_) => toasts.success("Alert settings saved."),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <form class="space-y-4 p-4 sm:p-6" on:submit=save>
            <div class="grid gap-4 sm:grid-cols-[2fr_1fr]">
                <label class="block">
                    <span class="label">"This server's address (for links in messages)"</span>
                    <input class="input mt-1" type="url" data-testid="notify-external-url" placeholder="https://fabrik.example.com"
                        prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                </label>
                <label class="block">
                    <span class="label">"Escalate after (minutes)"</span>
                    <input class="input mt-1" type="number" min="1" data-testid="notify-escalate"
                        prop:value=move || minutes.get() on:input=move |ev| minutes.set(event_target_value(&ev))/>
                </label>
            </div>
            {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
            <div class="flex flex-wrap items-center gap-3">
                <button type="submit" class="btn btn-primary" data-testid="notify-settings-save">"Save"</button>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        outbox.await.ok().map(|o| view! {
                            <span class="text-xs text-slate-500 dark:text-slate-400" data-testid="outbox-status">
                                {format!("Messages: {} delivered · {} waiting · {} failed", o.sent, o.pending + o.sending, o.failed)}
                            </span>
                        })
                    })}
                </Suspense>
            </div>
        </form>
    }
}

#[component]
pub fn Channels() -> impl IntoView {
    let channels = Resource::new(|| (), |_| notify_channels());
    view! {
        <Suspense fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
            {move || Suspend::new(async move {
                match channels.await {
                    Ok(list) => list.into_iter().map(|c| view! { <ChannelCard channel=c/> }).collect_view().into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChannelCard(channel: ChannelView) -> impl IntoView {
    let toasts = use_toasts();
    let kind = channel.kind;
    let config = RwSignal::new(channel.config);
    let enabled = RwSignal::new(channel.enabled);
    let saved = RwSignal::new(channel.last_sent_ms.is_some() || channel.enabled);
    let status = RwSignal::new(status_line(channel.last_sent_ms, channel.last_error));
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let update = ChannelUpdate {
            enabled: enabled.get_untracked(),
            config: config.get_untracked(),
        };
        busy.set(true);
        spawn_local(async move {
            let result = store_channel(kind, update).await;
            busy.try_set(false);
            match result {
                Ok(view) => {
                    config.try_set(view.config);
                    saved.try_set(true);
                    error.try_set(None);
                    toasts.success(format!("{} saved.", kind.title()));
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let test = move |_| {
        spawn_local(async move {
            match try_channel(kind).await {
                Ok(()) => {
                    status
                        .try_set("Test queued; this line shows how it went after a reload.".into());
                    toasts.success(format!("Test message queued for {}.", kind.title()));
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <section class="card overflow-hidden" data-testid=format!("channel-{}", kind.as_str())>
            <form on:submit=save>
                <div class="flex flex-wrap items-center gap-3 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                    <h2 class="text-base font-semibold">{kind.title()}</h2>
                    <label class="ml-auto flex items-center gap-2 text-sm">
                        <input type="checkbox" data-testid="channel-enabled" prop:checked=move || enabled.get()
                            on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                        "Send gates here"
                    </label>
                </div>
                <div class="grid gap-4 p-4 sm:grid-cols-2 sm:p-6">
                    {move || config.get().fields().into_iter().map(|f| {
                        let key = f.key;
                        let input = move |ev| {
                            let value = event_target_value(&ev);
                            config.update(|c| { let _ = c.set(key, &value); });
                        };
                        if f.choices.is_empty() {
                            view! {
                                <label class="block">
                                    <span class="label">{f.label}</span>
                                    <input class="input mt-1" data-testid=format!("field-{key}")
                                        type=if f.secret { "password" } else { "text" }
                                        autocomplete="off" placeholder=f.placeholder
                                        value=f.value on:change=input/>
                                </label>
                            }.into_any()
                        } else {
                            view! {
                                <label class="block">
                                    <span class="label">{f.label}</span>
                                    <select class="input mt-1" data-testid=format!("field-{key}") on:change=input>
                                        {f.choices.iter().map(|c| view! { <option value=*c selected=f.value == *c>{*c}</option> }).collect_view()}
                                    </select>
                                </label>
                            }.into_any()
                        }
                    }).collect_view()}
                </div>
                <div class="flex flex-wrap items-center gap-3 border-t border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                    <button type="submit" class="btn btn-primary" data-testid="channel-save" disabled=move || busy.get()>"Save"</button>
                    <button type="button" class="btn btn-secondary" data-testid="channel-test" disabled=move || !saved.get() on:click=test>
                        <Icon icon=I::Send class="h-4 w-4"/>
                        "Send test"
                    </button>
                    <span class="text-xs text-slate-500 dark:text-slate-400" data-testid="channel-status">{move || status.get()}</span>
                </div>
                {move || error.get().map(|e| view! { <div class="px-4 pb-4 sm:px-6"><ErrorBanner error=e testid="form-error"/></div> })}
            </form>
        </section>
    }
}

fn status_line(last_sent_ms: Option<i64>, last_error: Option<String>) -> String {
    match (last_sent_ms, last_error) {
        (_, Some(e)) => format!("Last try failed: {e}"),
        (Some(at), None) => format!("Last delivered {}", crate::format::datetime(at)),
        (None, None) => "Nothing sent yet.".into(),
    }
}
