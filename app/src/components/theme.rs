//! Light/dark theme: a class on `<html>`, chosen before first paint by a tiny inline
//! script (stored choice, else the system preference) and switched by the toggle.
use super::icons::{Icon, I};
use leptos::prelude::*;

/// localStorage key holding "dark" or "light".
pub const STORAGE_KEY: &str = "fabrik-theme";

/// Runs in `<head>` before the body renders, so there is no flash of the wrong theme.
pub const THEME_SCRIPT: &str = "(function(){try{var t=localStorage.getItem('fabrik-theme');\
var d=t?t==='dark':window.matchMedia('(prefers-color-scheme: dark)').matches;\
document.documentElement.classList.toggle('dark',d);}catch(e){}})();";

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| dark.set(is_dark()));
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        dark.set(toggle());
    };
    view! {
        <button
            type="button"
            data-testid="theme-toggle"
            data-theme=move || if dark.get() { "dark" } else { "light" }
            aria-label=move || {
                if dark.get() { "Switch to light theme" } else { "Switch to dark theme" }
            }
            title="Toggle light/dark theme"
            on:click=on_click
            class="inline-flex h-9 w-9 items-center justify-center rounded-lg text-slate-600 ring-1 ring-inset ring-slate-200 transition hover:bg-slate-100 hover:text-slate-900 dark:text-slate-300 dark:ring-slate-700 dark:hover:bg-slate-800 dark:hover:text-white"
        >
            <span class="dark:hidden">
                <Icon icon=I::Moon class="h-[18px] w-[18px]"/>
            </span>
            <span class="hidden dark:inline">
                <Icon icon=I::Sun class="h-[18px] w-[18px]"/>
            </span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn is_dark() -> bool {
    document()
        .document_element()
        .map(|e| e.class_list().contains("dark"))
        .unwrap_or(false)
}

/// Flips the theme, remembers the choice, and returns whether it is now dark.
#[cfg(feature = "hydrate")]
fn toggle() -> bool {
    let dark = !is_dark();
    if let Some(root) = document().document_element() {
        let _ = root.class_list().toggle_with_force("dark", dark);
    }
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(STORAGE_KEY, if dark { "dark" } else { "light" });
    }
    dark
}
