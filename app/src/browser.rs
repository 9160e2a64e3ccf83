//! The few browser calls pages need, as no-ops while rendering on the server.
#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// Reads the file picked in an `<input type="file">` (its change event) as text and
/// hands `done` the file's name and its text (`None`: not readable as text). The input
/// is cleared, so picking the same file again reads it again.
pub fn read_picked_file(
    ev: leptos::ev::Event,
    done: impl FnOnce(String, Option<String>) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            done(file.name(), text.ok().and_then(|t| t.as_string()));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, done);
}

/// What this browser keeps under `key` (localStorage), if anything.
pub fn stored(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        window().local_storage().ok()??.get_item(key).ok()?
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Keeps `value` under `key` in this browser; `None` forgets it.
pub fn store(key: &str, value: Option<&str>) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = match value {
            Some(v) => storage.set_item(key, v),
            None => storage.remove_item(key),
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// Today as YYYY-MM-DD in this browser's clock (the server's while rendering there).
pub fn today() -> String {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as i64;
    #[cfg(not(feature = "hydrate"))]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    domain::time::rfc3339(now)[..10].to_string()
}

/// `text` in lower case. In the browser this is JavaScript's `toLowerCase` (the same
/// Unicode mapping as Rust's), so the WASM doesn't carry Unicode's case tables.
pub fn lowercase(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::JsString::from(text).to_lower_case().into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        text.to_lowercase()
    }
}
