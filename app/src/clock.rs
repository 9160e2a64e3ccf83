//! A ticking "now" for relative times and running durations.
//!
//! On the server and during hydration the clock is unset, so views fall back to the
//! server's time carried in the data and render identically on both sides; once the
//! page is live the browser's clock takes over and ticks every second.
use leptos::prelude::*;

#[derive(Debug, Clone, Copy)]
pub struct Clock(RwSignal<Option<i64>>);

impl Clock {
    /// Current time in ms, or `fallback` (the server's time) until the browser ticks.
    pub fn now_or(self, fallback: i64) -> i64 {
        self.0.get().unwrap_or(fallback)
    }
}

pub fn provide_clock() {
    let now = RwSignal::new(None::<i64>);
    provide_context(Clock(now));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let tick = move || now.set(Some(js_sys::Date::now() as i64));
        tick();
        set_interval(tick, std::time::Duration::from_secs(1));
    });
}

pub fn use_clock() -> Clock {
    use_context::<Clock>().unwrap_or_else(|| Clock(RwSignal::new(None)))
}
