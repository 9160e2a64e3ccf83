//! Short confirmations ("Token revoked") in the corner; they go away by themselves.
use super::icons::{Icon, I};
use leptos::prelude::*;
use std::time::Duration;

/// How long a toast stays.
const TOAST_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq)]
struct Toast {
    id: u64,
    text: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    /// Shows a success message for a few seconds.
    pub fn success(self, text: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| {
            l.push(Toast {
                id,
                text: text.into(),
            });
            // Never a wall of them.
            if l.len() > 3 {
                l.remove(0);
            }
        });
        set_timeout(move || self.dismiss(id), Duration::from_secs(TOAST_SECS));
    }

    fn dismiss(self, id: u64) {
        self.list.try_update(|l| l.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        list: RwSignal::new(Vec::new()),
        next: StoredValue::new(1),
    };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(provide_toasts)
}

/// Where toasts appear: bottom right, bottom centre on phones.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div
            role="status"
            aria-live="polite"
            class="pointer-events-none fixed inset-x-0 bottom-0 z-50 flex flex-col items-center gap-2 p-4 sm:items-end sm:p-6"
        >
            <For
                each=move || toasts.list.get()
                key=|t| t.id
                children=move |t| {
                    let id = t.id;
                    view! {
                        <div
                            data-testid="toast"
                            class="pointer-events-auto flex w-full max-w-sm items-start gap-3 rounded-xl border border-emerald-200 bg-white p-3 text-sm text-slate-800 shadow-lg dark:border-emerald-500/30 dark:bg-slate-900 dark:text-slate-100"
                        >
                            <Icon icon=I::CheckCircle class="mt-0.5 h-5 w-5 shrink-0 text-emerald-500"/>
                            <p class="min-w-0 flex-1 break-words">{t.text}</p>
                            <button
                                type="button"
                                class="-m-1 rounded p-1 text-slate-400 hover:text-slate-700 dark:hover:text-white"
                                aria-label="Dismiss"
                                on:click=move |_| toasts.dismiss(id)
                            >
                                <Icon icon=I::X class="h-4 w-4"/>
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
