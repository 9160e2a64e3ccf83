//! This browser's notifications (the permission is asked only from the button here,
//! never on page load) and the person's subscribed devices.
use crate::components::toast::use_toasts;
use crate::components::{ErrorBanner, Icon, RelativeTime, I};
use crate::error::AppError;
use crate::notify::{ask_permission, permission, subscribe_push, user_agent, Permission};
use crate::server_fns::{add_device, forget_device, my_devices, test_my_devices, vapid_key};
use domain::notify::DeviceView;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where push stands for this browser, once permission is granted.
#[derive(Debug, Clone, PartialEq)]
enum Push {
    Unknown,
    Subscribed(String),
    Failed(String),
}

/// Devices changed (a browser subscribed, or one was removed): lists refetch.
#[derive(Clone, Copy)]
struct DevicesChanged(RwSignal<u32>);

#[component]
pub fn ThisBrowser() -> impl IntoView {
    // Unknown until the page is live in the browser (the server can't tell).
    let state = RwSignal::new(Permission::Unsupported);
    let push = RwSignal::new(Push::Unknown);
    let changed = DevicesChanged(RwSignal::new(0));
    provide_context(changed);
    let subscribe = move || {
        spawn_local(async move {
            let key = match vapid_key().await {
                Ok(key) => key,
                Err(e) => return push.set(Push::Failed(e.message)),
            };
            subscribe_push(key, move |result| match result {
                Ok(sub) => spawn_local(async move {
                    match add_device(sub, user_agent()).await {
                        Ok(device) => {
                            push.try_set(Push::Subscribed(device.device));
                            changed.0.try_update(|n| *n += 1);
                        }
                        Err(e) => {
                            push.try_set(Push::Failed(e.message));
                        }
                    }
                }),
                Err(e) => push.set(Push::Failed(e)),
            });
        });
    };
    Effect::new(move |_| {
        let now = permission();
        state.set(now);
        if now == Permission::Granted {
            subscribe();
        }
    });
    let enable = move |_| {
        ask_permission(move |answer| {
            state.set(answer);
            if answer == Permission::Granted {
                subscribe();
            }
        })
    };
    view! {
        <section class="card space-y-3 p-4 sm:p-6" data-testid="notifications-browser">
            <h2 class="text-base font-semibold">"This browser"</h2>
            <p class="text-sm text-slate-600 dark:text-slate-300">
                "When a run reaches its human gate you get a notification naming the run, its spec and template, with Approve and Open. Open tabs show it straight away; with push, it reaches this device even when Fabrik is closed."
            </p>
            {move || match state.get() {
                Permission::Granted => view! {
                    <p class="flex items-center gap-2 text-sm font-medium text-emerald-700 dark:text-emerald-400" data-testid="notifications-on">
                        <Icon icon=I::CheckCircle class="h-4 w-4"/>
                        "Notifications are on for this browser."
                    </p>
                    <PushState push/>
                }.into_any(),
                Permission::Denied => view! {
                    <p class="text-sm text-amber-700 dark:text-amber-400" data-testid="notifications-denied">
                        "This browser blocks notifications from this site. Allow them in the site settings (the lock icon beside the address), then reload."
                    </p>
                }.into_any(),
                Permission::Ask => view! {
                    <button type="button" class="btn btn-primary" data-testid="notifications-enable" on:click=enable>
                        <Icon icon=I::Message class="h-4 w-4"/>
                        "Enable notifications"
                    </button>
                }.into_any(),
                Permission::Unsupported => view! {
                    <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="notifications-unsupported">
                        "This browser can't show notifications (or the page is still loading)."
                    </p>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PushState(push: RwSignal<Push>) -> impl IntoView {
    move || {
        match push.get() {
        Push::Unknown => view! {
            <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="push-pending">"Subscribing this browser to push…"</p>
        }.into_any(),
        Push::Subscribed(device) => view! {
            <p class="text-sm text-slate-600 dark:text-slate-300" data-testid="push-on">
                {format!("Push is on: this browser is listed below as \u{201c}{device}\u{201d}.")}
            </p>
        }.into_any(),
        Push::Failed(why) => view! {
            <p class="text-sm text-amber-700 dark:text-amber-400" data-testid="push-failed">
                {format!("This browser could not subscribe to push ({why}). Notifications still show in open tabs.")}
            </p>
        }.into_any(),
    }
    }
}

#[component]
pub fn Devices() -> impl IntoView {
    let changed = use_context::<DevicesChanged>().map(|c| c.0);
    let devices = Resource::new(move || changed.map(|c| c.get()), |_| my_devices());
    view! {
        <section class="card overflow-hidden" data-testid="devices">
            <Suspense fallback=|| view! { <div class="h-24 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    match devices.await {
                        Ok(list) => view! { <DeviceList list/> }.into_any(),
                        Err(e) => view! { <div class="p-4"><ErrorBanner error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DeviceList(list: Vec<DeviceView>) -> impl IntoView {
    let toasts = use_toasts();
    let devices = RwSignal::new(list);
    let error = RwSignal::new(None::<AppError>);
    let send_test = move |_| {
        spawn_local(async move {
            match test_my_devices().await {
                Ok(n) => toasts.success(format!(
                    "A test notification is on its way to {n} device(s)."
                )),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    let remove = move |id: i64| {
        spawn_local(async move {
            match forget_device(id).await {
                Ok(()) => {
                    devices.try_update(|l| l.retain(|d| d.id != id));
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    view! {
        <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
            <Icon icon=I::Send class="h-4 w-4 text-slate-400"/>
            <h2 class="text-sm font-semibold">"Your devices with push"</h2>
            <button type="button" class="btn btn-secondary ml-auto" data-testid="devices-test"
                disabled=move || devices.with(Vec::is_empty) on:click=send_test>
                "Send test"
            </button>
        </div>
        {move || error.get().map(|e| view! { <div class="p-4"><ErrorBanner error=e testid="form-error"/></div> })}
        <Show
            when=move || devices.with(|l| !l.is_empty())
            fallback=|| view! {
                <p data-testid="devices-empty" class="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">
                    "No device gets push yet. Enable notifications in each browser you want paged on."
                </p>
            }
        >
            <ul class="divide-y divide-slate-100 dark:divide-slate-800" data-testid="device-list">
                <For each=move || devices.get() key=|d| d.id children=move |d| {
                    let id = d.id;
                    view! {
                        <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3 text-sm sm:px-6" data-testid="device-row">
                            <span class="font-medium">{d.device.clone()}</span>
                            <span class="text-xs text-slate-500 dark:text-slate-400">{format!("via {}", d.service)}</span>
                            <span class="text-xs text-slate-500 dark:text-slate-400">
                                "added " <RelativeTime at_ms=d.created_at_ms server_now=d.created_at_ms/>
                            </span>
                            <button type="button" class="btn btn-secondary ml-auto" on:click=move |_| remove(id)>"Remove"</button>
                        </li>
                    }
                }/>
            </ul>
        </Show>
    }
}
