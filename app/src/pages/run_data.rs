//! Loading a run's detail for `/runs/:id` and `/runs/:id/feedback`, and keeping it
//! current: a `run` live event for this id refetches it (debounced), and so does the
//! stream coming back after an interruption.
use crate::error::AppError;
use crate::live::{on_live, LiveMsg};
use crate::server_fns::get_run;
use domain::run::RunDetail;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Live events that arrive this close together cause one refetch.
pub const DEBOUNCE_MS: u64 = 150;

#[derive(Clone, Copy)]
pub struct RunData {
    pub id: Memo<String>,
    /// The first load (server-rendered, then hydrated).
    pub resource: Resource<Result<RunDetail, AppError>>,
    /// Newer copies fetched after live events; newest wins.
    live: RwSignal<Option<RunDetail>>,
    /// Why the last refresh failed, if it did (the page keeps showing older data).
    pub refresh_error: RwSignal<Option<AppError>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pending: StoredValue<Option<TimeoutHandle>>,
}

impl RunData {
    /// The detail to show: the freshest copy for this run.
    pub fn current(self, initial: RunDetail) -> Memo<RunDetail> {
        let live = self.live;
        Memo::new(move |_| {
            live.get()
                .filter(|d| d.summary.run_id == initial.summary.run_id)
                .unwrap_or_else(|| initial.clone())
        })
    }

    /// Refetches now (after an action, or when the debounce fires).
    pub fn refresh(self) {
        #[cfg(feature = "hydrate")]
        {
            let id = self.id.get_untracked();
            leptos::task::spawn_local(async move {
                match get_run(id.clone()).await {
                    Ok(d) => {
                        // Ignore answers for a run we have navigated away from.
                        if self.id.try_get_untracked().as_deref() == Some(id.as_str()) {
                            self.live.try_set(Some(d));
                            self.refresh_error.try_set(None);
                        }
                    }
                    Err(e) => {
                        self.refresh_error.try_set(Some(e));
                    }
                }
            });
        }
    }

    /// Refetches once events stop arriving for [`DEBOUNCE_MS`].
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn refresh_soon(self) {
        if let Some(Some(h)) = self.pending.try_get_value() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || self.refresh(),
            std::time::Duration::from_millis(DEBOUNCE_MS),
        )
        .ok();
        self.pending.try_set_value(handle);
    }
}

/// The run named by the route's `:id`, loaded and kept live.
pub fn use_run_data() -> RunData {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let resource = Resource::new(move || id.get(), get_run);
    let data = RunData {
        id,
        resource,
        live: RwSignal::new(None),
        refresh_error: RwSignal::new(None),
        pending: StoredValue::new(None),
    };
    on_live(move |msg| match msg {
        LiveMsg::Run(run) if id.try_get_untracked().as_deref() == Some(run.run_id.as_str()) => {
            data.refresh_soon()
        }
        LiveMsg::Resync => data.refresh_soon(),
        LiveMsg::Run(_) => {}
    });
    data
}

/// Sets the HTTP status of the server-rendered page (e.g. 404 for an unknown run).
pub fn set_page_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(opts), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        opts.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}
