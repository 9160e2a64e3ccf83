//! What the pages of one env share: the title, a link back, the project's tabs, and the
//! stored set loaded for the page itself.
use super::tabs::EnvTabs;
use super::use_env_key;
use crate::components::{ErrorBanner, Icon, I};
use crate::server_fns::get_env_set;
use domain::env::EnvSetView;
use leptos::prelude::*;
use leptos_meta::Title;

/// Where the back link goes.
#[derive(Clone, Copy)]
pub enum Back {
    Project,
    Editor,
}

#[component]
pub fn EnvSetFrame(
    /// Before "project/env" in the window title.
    title: &'static str,
    back: Back,
    /// The page, given the project, env and stored set (`None`: not saved yet).
    render: fn(String, String, Option<EnvSetView>) -> AnyView,
) -> impl IntoView {
    let key = use_env_key();
    let set = Resource::new(key, |(project, env)| get_env_set(project, env));
    let (back_href, back_label) = (
        move || {
            let (p, e) = key();
            match back {
                Back::Project => format!("/env/{p}"),
                Back::Editor => format!("/env/{p}/{e}"),
            }
        },
        match back {
            Back::Project => "Environments",
            Back::Editor => "Back to the editor",
        },
    );
    view! {
        <Title text=move || { let (p, e) = key(); format!("{title}{p}/{e} · Env") }/>
        <div class="mx-auto max-w-5xl space-y-5 px-4 py-6 sm:px-6 lg:px-8">
            <a href=back_href class="back-link">
                <Icon icon=I::ArrowLeft class="h-4 w-4"/>
                {back_label}
            </a>
            {move || { let (project, env) = key(); view! { <EnvTabs project current=Some(env)/> } }}
            <Suspense fallback=|| view! { <div class="card h-64 animate-pulse"></div> }>
                {move || Suspend::new(async move {
                    let (project, env) = key();
                    match set.await {
                        Ok(loaded) => render(project, env, loaded),
                        Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
