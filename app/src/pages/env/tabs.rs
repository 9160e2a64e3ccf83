//! One tab per env of a project (`/env/:project` and the pages of each env), and a tab
//! to start a new one.
use crate::components::{Icon, TabBar, TabLink, I};
use crate::server_fns::list_env_sets;
use leptos::prelude::*;

#[component]
pub fn EnvTabs(project: String, current: Option<String>) -> impl IntoView {
    let sets = Resource::new(|| (), |_| list_env_sets());
    let tabs = move || {
        let mut envs: Vec<String> = sets
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.project == project)
            .map(|s| s.env)
            .collect();
        // An env opened but not saved yet is a tab too, while it is open.
        if let Some(c) = current.as_ref().filter(|c| !envs.contains(c)) {
            envs.push(c.clone());
        }
        let (project, current) = (project.clone(), current.clone());
        let new_env = format!("/env/{project}?new=");
        let is_listing = current.is_none();
        view! {
            <TabBar label="Environments of this project">
                {envs.into_iter().map(move |env| {
                    let active = current.as_deref() == Some(env.as_str());
                    view! {
                        <TabLink href=format!("/env/{project}/{env}") testid=format!("env-tab-{env}") active>
                            <span class="font-mono">{env}</span>
                        </TabLink>
                    }
                }).collect_view()}
                <TabLink href=new_env testid="env-tab-new" active=is_listing>
                    <Icon icon=I::Plus class="h-4 w-4"/>
                    "New env"
                </TabLink>
            </TabBar>
        }
    };
    view! { <Transition fallback=|| ()>{tabs}</Transition> }
}
