//! Browser notifications: the service worker is registered once the app is live, the
//! permission is asked only from the "Enable notifications" button, and an open tab
//! shows a notification when a run reaches its human gate.
use crate::live::{on_live, LiveMsg};
#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// Where this browser stands on notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Not asked yet.
    Ask,
    Granted,
    Denied,
    /// No Notification API (or still rendering on the server).
    Unsupported,
}

/// Registers the service worker and shows gate notifications in this tab. Call once,
/// in the app.
pub fn provide_notifications() {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| client::register_service_worker());
    on_live(|msg| {
        if let LiveMsg::Run(run) = msg {
            if run.needs_feedback {
                #[cfg(feature = "hydrate")]
                client::notify_gate(run);
            }
        }
    });
}

pub fn permission() -> Permission {
    #[cfg(feature = "hydrate")]
    return client::permission();
    #[cfg(not(feature = "hydrate"))]
    Permission::Unsupported
}

/// Asks the browser (it shows its prompt), then tells `done` the answer.
pub fn ask_permission(done: impl FnOnce(Permission) + 'static) {
    #[cfg(feature = "hydrate")]
    client::ask(done);
    #[cfg(not(feature = "hydrate"))]
    done(Permission::Unsupported);
}

#[cfg(feature = "hydrate")]
mod client {
    use super::Permission;
    use domain::run::RunSummary;
    use std::cell::RefCell;
    use std::collections::HashSet;
    use wasm_bindgen::prelude::*;
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    thread_local! {
        /// Gates this tab has shown already, so a run's updates don't repeat it.
        static SHOWN: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    }

    pub fn register_service_worker() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let container = window.navigator().service_worker();
        let _ = container.register("/sw.js");
    }

    fn supported() -> bool {
        web_sys::window()
            .map(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false))
            .unwrap_or(false)
    }

    pub fn permission() -> Permission {
        if !supported() {
            return Permission::Unsupported;
        }
        match Notification::permission() {
            NotificationPermission::Granted => Permission::Granted,
            NotificationPermission::Denied => Permission::Denied,
            _ => Permission::Ask,
        }
    }

    pub fn ask(done: impl FnOnce(Permission) + 'static) {
        let Ok(promise) = Notification::request_permission() else {
            return done(permission());
        };
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            done(permission());
        });
    }

    pub fn notify_gate(run: &RunSummary) {
        let first = SHOWN.with(|s| s.borrow_mut().insert(run.run_id.clone()));
        if !first || permission() != Permission::Granted {
            return;
        }
        let title = format!(
            "Run {} is waiting for you",
            crate::format::short_id(&run.run_id)
        );
        let body = format!(
            "Template {} · spec {} · {}. Approve or reject it.",
            run.template,
            run.spec.as_deref().unwrap_or("none"),
            run.phase
        );
        let options = NotificationOptions::new();
        options.set_body(&body);
        options.set_tag(&format!("gate-{}", run.run_id));
        options.set_icon("/icons/icon-192.png");
        let Ok(notification) = Notification::new_with_options(&title, &options) else {
            return;
        };
        let url = format!("/runs/{}/feedback", run.run_id);
        let open = Closure::<dyn FnMut()>::new(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
                let _ = w.location().set_href(&url);
            }
        });
        notification.set_onclick(Some(open.as_ref().unchecked_ref()));
        open.forget();
    }
}
