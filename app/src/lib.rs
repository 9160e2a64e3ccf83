pub fn mark_hydrated() {}
#[leptos::component]
pub fn App() -> impl leptos::IntoView {}
