//! `/settings/notifications`: this browser and your other devices (everyone), and the
//! alert channels with the site's settings (admins).
mod browser;
mod channels;

use crate::session::use_session;
use domain::auth::Action;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let admin = use_session().can(Action::ManageUsers);
    view! {
        <Title text="Notifications"/>
        <browser::ThisBrowser/>
        <browser::Devices/>
        {admin.then(|| view! {
            <channels::SiteSettings/>
            <channels::Channels/>
        })}
    }
}
