//! `/settings/users` (admins): every user with role, status and last login; change a
//! role, disable/enable, reset a password, add a user.
use super::{your_role, AdminOnly};
use crate::components::toast::use_toasts;
use crate::components::{ErrorBanner, Icon, RelativeTime, RoleBadge, I};
use crate::error::AppError;
use crate::server_fns::{change_user, create_user, list_users, UserList};
use crate::session::use_session;
use domain::auth::{
    validate_password, validate_username, Action, NewUser, Role, UserChange, UserView,
    MIN_PASSWORD_CHARS,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let session = use_session();
    if !session.can(Action::ManageUsers) {
        return view! {
            <Title text="Users"/>
            <AdminOnly
                title="Only admins can manage users"
                message=format!("{} Ask an admin to add people, change roles or reset passwords.", your_role())
            />
        }
        .into_any();
    }
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Users"/>
        <Suspense fallback=|| view! { <div class="card h-72 animate-pulse"></div> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! { <UsersView list/> }.into_any(),
                    Err(e) if e.code == domain::ErrorCode::Forbidden => view! {
                        <AdminOnly title="Only admins can manage users" message=e.message/>
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorBanner error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn UsersView(list: UserList) -> impl IntoView {
    let now_ms = list.now_ms;
    let users = RwSignal::new(list.users);
    let me = use_session().username().unwrap_or_default().to_string();
    let on_added = Callback::new(move |u: UserView| users.update(|l| l.push(u)));
    view! {
        <section class="card overflow-hidden" data-testid="users">
            <div class="flex items-center gap-2 border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <Icon icon=I::Users class="h-4 w-4 text-slate-400"/>
                <h2 class="text-sm font-semibold">"Users"</h2>
                <span class="ml-auto text-xs text-slate-500 dark:text-slate-400" data-testid="user-count">
                    {move || match users.with(Vec::len) {
                        1 => "1 user".to_string(),
                        n => format!("{n} users"),
                    }}
                </span>
            </div>
            <table class="stack-table w-full text-sm" data-testid="users-table">
                <thead class="table-head">
                    <tr>
                        <th scope="col" class="px-4 py-2.5 sm:pl-6">"User"</th>
                        <th scope="col" class="px-3 py-2.5">"Role"</th>
                        <th scope="col" class="px-3 py-2.5">"Status"</th>
                        <th scope="col" class="px-3 py-2.5">"Created"</th>
                        <th scope="col" class="px-3 py-2.5">"Last login"</th>
                        <th scope="col" class="px-4 py-2.5 sm:pr-6"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    <For
                        each=move || users.get()
                        key=|u| u.username.clone()
                        children=move |u| {
                            let is_me = u.username == me;
                            view! { <UserRow user=u now_ms is_me/> }
                        }
                    />
                </tbody>
            </table>
        </section>
        <AddUser on_added/>
        <p class="text-xs text-slate-500 dark:text-slate-400">
            <span class="font-medium">"Roles: "</span>
            "viewers see runs; operators also dispatch, cancel, resume and decide gates; admins also manage users and read the audit log."
        </p>
    }
}

#[component]
fn UserRow(user: UserView, now_ms: i64, is_me: bool) -> impl IntoView {
    let toasts = use_toasts();
    let name = user.username.clone();
    let row = RwSignal::new(user);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let resetting = RwSignal::new(false);

    // Sends one change; on success the row shows the server's answer, on failure the
    // row shows what it was (so a refused role change puts the select back) and why.
    let apply = {
        let name = name.clone();
        move |change: UserChange, done: &'static str| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let name = name.clone();
            spawn_local(async move {
                let result = change_user(name.clone(), change).await;
                busy.try_set(false);
                match result {
                    Ok(u) => {
                        let message = match done {
                            "role" => format!("{} is now {}.", u.username, u.role.as_str()),
                            "disabled" if u.disabled => {
                                format!("{} is disabled and can no longer sign in.", u.username)
                            }
                            "disabled" => format!("{} is enabled again.", u.username),
                            _ => format!("{} updated.", u.username),
                        };
                        row.try_set(u);
                        toasts.success(message);
                    }
                    Err(e) => {
                        row.try_update(|_| {});
                        error.try_set(Some(e));
                    }
                }
            });
        }
    };
    let apply_role = apply.clone();
    let apply_toggle = apply;

    let on_role = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        match Role::parse(&value) {
            Ok(role) if Some(role) != row.with_untracked(|u| Some(u.role)) => apply_role(
                UserChange {
                    role: Some(role),
                    ..Default::default()
                },
                "role",
            ),
            Ok(_) => {}
            Err(e) => error.set(Some(e.into())),
        }
    };
    let on_toggle = move |_| {
        let disabled = row.with_untracked(|u| u.disabled);
        apply_toggle(
            UserChange {
                disabled: Some(!disabled),
                ..Default::default()
            },
            "disabled",
        )
    };

    let testid = |what: &str| format!("user-{what}-{}", name);
    let reset_name = name.clone();
    view! {
        <tr
            data-testid=format!("user-row-{name}")
            data-role=move || row.with(|u| u.role.as_str())
            data-disabled=move || row.with(|u| u.disabled.to_string())
            class=move || if row.with(|u| u.disabled) { "bg-slate-50/70 dark:bg-slate-950/30" } else { "" }
        >
            <td class="c-head px-4 py-3 sm:pl-6">
                <div class="flex min-w-0 items-center gap-2.5">
                    <span aria-hidden="true" class="flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-slate-100 text-xs font-semibold text-slate-600 dark:bg-slate-800 dark:text-slate-300">
                        {name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()}
                    </span>
                    <span class="min-w-0 break-all font-medium">{name.clone()}</span>
                    {is_me.then(|| view! {
                        <span class="rounded bg-indigo-50 px-1.5 py-px text-[11px] font-medium text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300">"you"</span>
                    })}
                </div>
            </td>
            <td class="px-3 py-3" data-label="Role">
                <select
                    data-testid=testid("role")
                    aria-label=format!("Role of {name}")
                    class="input w-32 py-1"
                    prop:value=move || row.with(|u| u.role.as_str())
                    on:change=on_role
                    disabled=move || busy.get()
                >
                    {Role::ALL
                        .into_iter()
                        .map(|r| view! {
                            <option value=r.as_str() selected=move || row.with(|u| u.role == r)>{r.as_str()}</option>
                        })
                        .collect_view()}
                </select>
            </td>
            <td class="px-3 py-3" data-label="Status">
                {move || if row.with(|u| u.disabled) {
                    view! {
                        <span data-testid=format!("user-status-{}", row.with_untracked(|u| u.username.clone())) data-status="disabled" class="inline-flex items-center gap-1.5 rounded-full bg-zinc-100 px-2 py-0.5 text-xs font-medium text-zinc-600 ring-1 ring-inset ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-600">
                            <span class="h-1.5 w-1.5 rounded-full bg-zinc-400"></span>
                            "disabled"
                        </span>
                    }
                    .into_any()
                } else {
                    view! {
                        <span data-testid=format!("user-status-{}", row.with_untracked(|u| u.username.clone())) data-status="active" class="inline-flex items-center gap-1.5 rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700 ring-1 ring-inset ring-emerald-200 dark:bg-emerald-500/10 dark:text-emerald-300 dark:ring-emerald-500/30">
                            <span class="h-1.5 w-1.5 rounded-full bg-emerald-500"></span>
                            "active"
                        </span>
                    }
                    .into_any()
                }}
            </td>
            <td class="whitespace-nowrap px-3 py-3 text-slate-600 dark:text-slate-300" data-label="Created">
                <RelativeTime at_ms=row.with_untracked(|u| u.created_at_ms) server_now=now_ms/>
            </td>
            <td class="whitespace-nowrap px-3 py-3 text-slate-600 dark:text-slate-300" data-label="Last login">
                {move || match row.with(|u| u.last_login_ms) {
                    Some(at) => view! { <RelativeTime at_ms=at server_now=now_ms/> }.into_any(),
                    None => view! { <span class="text-slate-400">"never"</span> }.into_any(),
                }}
            </td>
            <td class="c-actions px-4 py-3 sm:pr-6">
                <div class="flex flex-wrap justify-end gap-2">
                    <button
                        type="button"
                        data-testid=testid("reset")
                        class="btn btn-secondary py-1.5"
                        aria-expanded=move || resetting.get().to_string()
                        on:click=move |_| resetting.update(|r| *r = !*r)
                    >
                        "Reset password"
                    </button>
                    <button
                        type="button"
                        data-testid=testid("toggle")
                        class=move || if row.with(|u| u.disabled) { "btn btn-secondary py-1.5" } else { "btn btn-danger-outline py-1.5" }
                        disabled=move || busy.get()
                        on:click=on_toggle
                    >
                        {move || if row.with(|u| u.disabled) { "Enable" } else { "Disable" }}
                    </button>
                </div>
            </td>
        </tr>
        {move || error.get().map(|e| view! {
            <tr class="row-extra">
                <td colspan="6" class="px-4 pb-3 sm:px-6">
                    <ErrorBanner error=e testid="form-error"/>
                </td>
            </tr>
        })}
        {
            let reset_name = reset_name.clone();
            move || resetting.get().then(|| view! {
                <tr class="row-extra">
                    <td colspan="6" class="px-4 pb-4 sm:px-6">
                        <ResetPassword
                            username=reset_name.clone()
                            on_close=Callback::new(move |_| resetting.set(false))
                        />
                    </td>
                </tr>
            })
        }
    }
}

/// The inline "new password + confirm" form under a user's row.
#[component]
fn ResetPassword(username: String, on_close: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let name = username.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (p, c) = (password.get_untracked(), confirm.get_untracked());
        if let Err(e) = validate_password(&p) {
            error.set(Some(e.into()));
            return;
        }
        if p != c {
            error.set(Some(AppError::new(
                domain::ErrorCode::BadRequest,
                "The two passwords differ. Type the same new password twice.",
            )));
            return;
        }
        error.set(None);
        busy.set(true);
        let name = name.clone();
        spawn_local(async move {
            let change = UserChange {
                password: Some(p),
                ..Default::default()
            };
            let result = change_user(name.clone(), change).await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    toasts.success(format!(
                        "Password of {name} changed. Tell them the new one through a safe channel."
                    ));
                    on_close.run(());
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let id = |what: &str| format!("user-reset-{what}-{username}");
    view! {
        <form
            on:submit=on_submit
            data-testid=id("form")
            class="rounded-lg border border-slate-200 bg-slate-50 p-3 sm:p-4 dark:border-slate-700 dark:bg-slate-950/40"
        >
            <p class="text-sm font-medium">
                "New password for "
                <span class="font-semibold">{username.clone()}</span>
            </p>
            <div class="mt-3 grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end">
                <label class="block">
                    <span class="label">"New password"</span>
                    <input
                        type="password"
                        data-testid=id("password")
                        class="input mt-1"
                        autocomplete="new-password"
                        minlength=MIN_PASSWORD_CHARS.to_string()
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                        disabled=move || busy.get()
                    />
                </label>
                <label class="block">
                    <span class="label">"Confirm"</span>
                    <input
                        type="password"
                        data-testid=id("confirm")
                        class="input mt-1"
                        autocomplete="new-password"
                        prop:value=move || confirm.get()
                        on:input=move |ev| confirm.set(event_target_value(&ev))
                        disabled=move || busy.get()
                    />
                </label>
                <div class="flex gap-2">
                    <button type="button" data-testid=id("cancel") class="btn btn-ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" data-testid=id("submit") class="btn btn-primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Saving…" } else { "Set password" }}
                    </button>
                </div>
            </div>
            <p class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
            {move || error.get().map(|e| view! { <div class="mt-3"><ErrorBanner error=e testid="form-error"/></div> })}
        </form>
    }
}

/// "Add user": name, first password, role.
#[component]
fn AddUser(on_added: Callback<UserView>) -> impl IntoView {
    let toasts = use_toasts();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let user = NewUser {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            role: role.get_untracked(),
        };
        if let Err(e) =
            validate_username(&user.username).and_then(|_| validate_password(&user.password))
        {
            error.set(Some(e.into()));
            return;
        }
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = create_user(user).await;
            busy.try_set(false);
            match result {
                Ok(u) => {
                    toasts.success(format!("Added {} as {}.", u.username, u.role.as_str()));
                    username.try_set(String::new());
                    password.try_set(String::new());
                    on_added.run(u);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <section class="card overflow-hidden" data-testid="add-user">
            <div class="border-b border-slate-200 px-4 py-3 sm:px-6 dark:border-slate-800">
                <h2 class="flex items-center gap-2 text-sm font-semibold">
                    <Icon icon=I::Plus class="h-4 w-4 text-slate-400"/>
                    "Add a user"
                </h2>
                <p class="mt-0.5 text-sm text-slate-500 dark:text-slate-400">
                    "Give them the first password through a safe channel; they sign in at /login."
                </p>
            </div>
            <form on:submit=on_submit class="space-y-4 p-4 sm:p-6">
                <div class="grid gap-3 sm:grid-cols-2 lg:grid-cols-[1fr_1fr_9rem_auto] lg:items-end">
                    <label class="block">
                        <span class="label">"Username"</span>
                        <input
                            type="text"
                            name="username"
                            data-testid="new-user-name"
                            class="input mt-1"
                            autocomplete="off"
                            autocapitalize="none"
                            spellcheck="false"
                            placeholder="e.g. alice"
                            prop:value=move || username.get()
                            on:input=move |ev| username.set(event_target_value(&ev))
                            disabled=move || busy.get()
                        />
                    </label>
                    <label class="block">
                        <span class="label">"Password"</span>
                        <input
                            type="password"
                            name="password"
                            data-testid="new-user-password"
                            class="input mt-1"
                            autocomplete="new-password"
                            placeholder=format!("at least {MIN_PASSWORD_CHARS} characters")
                            prop:value=move || password.get()
                            on:input=move |ev| password.set(event_target_value(&ev))
                            disabled=move || busy.get()
                        />
                    </label>
                    <label class="block">
                        <span class="label">"Role"</span>
                        <select
                            name="role"
                            data-testid="new-user-role"
                            class="input mt-1"
                            prop:value=move || role.get().as_str()
                            on:change=move |ev| {
                                if let Ok(r) = Role::parse(&event_target_value(&ev)) {
                                    role.set(r);
                                }
                            }
                            disabled=move || busy.get()
                        >
                            {Role::ALL
                                .into_iter()
                                .map(|r| view! {
                                    <option value=r.as_str() selected=move || role.get() == r>{r.as_str()}</option>
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <button
                        type="submit"
                        data-testid="new-user-submit"
                        class="btn btn-primary justify-center sm:col-span-2 lg:col-span-1"
                        disabled=move || busy.get()
                    >
                        <Icon icon=I::Plus class="h-4 w-4"/>
                        {move || if busy.get() { "Adding…" } else { "Add user" }}
                    </button>
                </div>
                <div class="flex items-center gap-2 text-xs text-slate-500 dark:text-slate-400">
                    "New role:"
                    {move || view! { <RoleBadge role=role.get()/> }}
                    {move || match role.get() {
                        Role::Admin => "everything, including users and the audit log.",
                        Role::Operator => "sees runs, dispatches, cancels, resumes and decides gates.",
                        Role::Viewer => "sees runs, nothing more.",
                    }}
                </div>
                {move || error.get().map(|e| view! { <ErrorBanner error=e testid="form-error"/> })}
            </form>
        </section>
    }
}
