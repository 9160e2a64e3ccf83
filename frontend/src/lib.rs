#![recursion_limit = "512"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Hydrates the server-rendered page. Asynchronous, as a lazy route's code may have to
/// be fetched first; browser tests wait for `window.__hydrated`, set once it's done.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a document with a body");
        let mounted = leptos::mount::hydrate_from_async(body, app::App).await;
        mounted.forget();
        app::mark_hydrated();
    });
}
