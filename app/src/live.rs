//! Live updates: one `EventSource` on `/api/v1/events` per tab, its connection state
//! (for the indicator in the header) and a subscriber list pages register with.
//!
//! Nothing here runs on the server: the connection is opened in an `Effect`, which only
//! runs in the browser, and subscriptions are no-ops during server rendering.
use domain::run::RunSummary;
use leptos::prelude::*;

/// What the header indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// First connection attempt after the page loaded.
    Connecting,
    Live,
    /// Lost the stream; the browser is retrying.
    Reconnecting,
    /// Several attempts failed, or the server refused the stream.
    Offline,
}

impl ConnState {
    /// Value of the indicator's `data-state` attribute.
    pub fn data_state(self) -> &'static str {
        match self {
            ConnState::Live => "live",
            ConnState::Connecting | ConnState::Reconnecting => "reconnecting",
            ConnState::Offline => "offline",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ConnState::Live => "Live",
            ConnState::Connecting => "Connecting…",
            ConnState::Reconnecting => "Reconnecting…",
            ConnState::Offline => "Offline",
        }
    }
    pub fn help(self) -> &'static str {
        match self {
            ConnState::Live => "Receiving live updates from the server.",
            ConnState::Connecting => "Connecting to the live update stream…",
            ConnState::Reconnecting => {
                "The live update stream was interrupted; reconnecting. Pages may be out of date."
            }
            ConnState::Offline => {
                "Cannot reach the server's live update stream. Pages will not update until it is back."
            }
        }
    }
}

/// Context: the connection state of the live stream.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub state: RwSignal<ConnState>,
}

/// What subscribers receive.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveMsg {
    /// A run changed; this is its new summary.
    Run(Box<RunSummary>),
    /// Events may have been missed (the stream came back after an interruption, or the
    /// server says this tab fell behind): refetch what is shown.
    Resync,
}

/// Creates the connection state and, in the browser, opens the stream.
pub fn provide_live() -> Live {
    let live = Live {
        state: RwSignal::new(ConnState::Connecting),
    };
    provide_context(live);
    // Not on the sign-in page: the stream needs a session.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let path = window().location().pathname().unwrap_or_default();
        if !crate::paths::is_bare_page(&path) {
            client::connect(live.state, 0);
        }
    });
    live
}

pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(|| Live {
        state: RwSignal::new(ConnState::Connecting),
    })
}

/// Calls `refetch` at most once per `every` while live messages arrive (a board or
/// feed that rereads what it shows, however many runs change at once).
pub fn refetch_on_live(every: std::time::Duration, refetch: impl Fn() + Copy + 'static) {
    let queued = RwSignal::new(false);
    on_live(move |_| {
        if !queued.get_untracked() {
            queued.set(true);
            set_timeout(
                move || {
                    queued.set(false);
                    refetch();
                },
                every,
            );
        }
    });
}

/// Calls `f` for every live message until the current component is unmounted.
pub fn on_live(f: impl Fn(&LiveMsg) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let id = client::subscribe(std::rc::Rc::new(f));
        on_cleanup(move || client::unsubscribe(id));
    }
    #[cfg(not(feature = "hydrate"))]
    drop(f);
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{ConnState, LiveMsg};
    use domain::event::RunChangedData;
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    type Subscriber = Rc<dyn Fn(&LiveMsg)>;

    thread_local! {
        static SUBSCRIBERS: RefCell<Vec<(u64, Subscriber)>> = const { RefCell::new(Vec::new()) };
        static NEXT_ID: Cell<u64> = const { Cell::new(1) };
    }

    /// Consecutive failed attempts before the indicator says "Offline".
    const OFFLINE_AFTER: u32 = 3;

    pub fn subscribe(f: Subscriber) -> u64 {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        SUBSCRIBERS.with(|s| s.borrow_mut().push((id, f)));
        id
    }

    pub fn unsubscribe(id: u64) {
        SUBSCRIBERS.with(|s| s.borrow_mut().retain(|(i, _)| *i != id));
    }

    fn publish(msg: &LiveMsg) {
        // Copy the list first: a subscriber may (un)subscribe while handling the message.
        let subs: Vec<Subscriber> =
            SUBSCRIBERS.with(|s| s.borrow().iter().map(|(_, f)| f.clone()).collect());
        for f in subs {
            f(msg);
        }
    }

    /// Opens the stream. `failures` counts attempts that failed in a row.
    pub fn connect(state: RwSignal<ConnState>, failures: u32) {
        let Ok(es) = EventSource::new("/api/v1/events") else {
            state.set(ConnState::Offline);
            retry_later(state, failures + 1);
            return;
        };
        let failures = Rc::new(Cell::new(failures));
        let interrupted = Rc::new(Cell::new(failures.get() > 0));

        let on_open = {
            let failures = failures.clone();
            let interrupted = interrupted.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                failures.set(0);
                state.set(ConnState::Live);
                if interrupted.replace(false) {
                    publish(&LiveMsg::Resync);
                }
            })
        };
        es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let on_run = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(data) = ev.data().as_string() else {
                return;
            };
            match serde_json::from_str::<RunChangedData>(&data) {
                Ok(RunChangedData { run }) => publish(&LiveMsg::Run(Box::new(run))),
                Err(e) => leptos::logging::warn!("ignoring a live event I can't read: {e}"),
            }
        });
        let _ = es.add_event_listener_with_callback("run", on_run.as_ref().unchecked_ref());
        on_run.forget();

        // The server dropped events this tab was too slow to take.
        let on_resync = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            publish(&LiveMsg::Resync);
        });
        let _ = es.add_event_listener_with_callback("resync", on_resync.as_ref().unchecked_ref());
        on_resync.forget();

        let on_error = {
            let es = es.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                interrupted.set(true);
                let n = failures.get() + 1;
                failures.set(n);
                if es.ready_state() == EventSource::CLOSED {
                    // The browser gave up (e.g. an error status); retry ourselves.
                    es.close();
                    state.set(ConnState::Offline);
                    retry_later(state, n);
                } else if n >= OFFLINE_AFTER {
                    state.set(ConnState::Offline);
                } else {
                    state.set(ConnState::Reconnecting);
                }
            })
        };
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
    }

    fn retry_later(state: RwSignal<ConnState>, failures: u32) {
        let secs = 2u64.saturating_pow(failures.min(5)).min(30);
        set_timeout(move || connect(state, failures), Duration::from_secs(secs));
    }
}
