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

/// Subscribes this browser to Web Push with the server's public key and hands `done`
/// the subscription as the API takes it (or why the browser refused).
pub fn subscribe_push(
    key: String,
    done: impl FnOnce(Result<domain::notify::PushSubscription, String>) + 'static,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move { done(client::subscribe(&key).await) });
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        done(Err("not in a browser".into()));
    }
}

/// The browser's User-Agent, to name the device.
pub fn user_agent() -> Option<String> {
    #[cfg(feature = "hydrate")]
    return web_sys::window().and_then(|w| w.navigator().user_agent().ok());
    #[cfg(not(feature = "hydrate"))]
    None
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

    pub async fn subscribe(key: &str) -> Result<domain::notify::PushSubscription, String> {
        use wasm_bindgen_futures::JsFuture;
        use web_sys::{PushManager, PushSubscriptionOptionsInit, ServiceWorkerRegistration};
        let window = web_sys::window().ok_or("no window")?;
        let ready = window
            .navigator()
            .service_worker()
            .ready()
            .map_err(js_error)?;
        let registration: ServiceWorkerRegistration = JsFuture::from(ready)
            .await
            .map_err(js_error)?
            .unchecked_into();
        let manager: PushManager = registration.push_manager().map_err(js_error)?;
        let key =
            domain::notify::decode_base64url(key).ok_or("the server's key is not base64url")?;
        let options = PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        options.set_application_server_key(&js_sys::Uint8Array::from(&key[..]).into());
        let promise = manager.subscribe_with_options(&options).map_err(js_error)?;
        let subscription = JsFuture::from(promise).await.map_err(js_error)?;
        let json = js_sys::JSON::stringify(&subscription).map_err(js_error)?;
        serde_json::from_str(&String::from(json)).map_err(|e| e.to_string())
    }

    fn js_error(e: JsValue) -> String {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| format!("{}: {}", e.name(), e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "the browser refused".into())
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
