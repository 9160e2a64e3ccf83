//! `/login`: a plain HTML form posted to `/auth/login`, so signing in works before (and
//! without) the WASM. The server answers with a redirect: to `next` on success, back
//! here with `?error=<code>` on failure, and here with `?signed_out=1` after logout.
use crate::components::icons::Logo;
use crate::components::theme::ThemeToggle;
use crate::components::{Icon, I};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What a failure code from the server means for the person signing in. Unknown
/// codes get a neutral message; none of them says which of name or password was wrong.
pub fn login_error_message(code: &str) -> &'static str {
    match code {
        "rate_limited" => "Too many attempts. Wait a minute and try again.",
        "invalid" => "Wrong username or password.",
        _ => "Could not sign you in. Try again.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with_untracked(|q| q.get(k)).filter(|v| !v.is_empty());
    let error = param("error");
    let signed_out = param("signed_out").is_some();
    let next = param("next").unwrap_or_default();
    // A failed attempt comes back with the name typed, so only the password is retyped.
    let username = param("user").unwrap_or_default();
    let already = use_session().user;
    let continue_to = domain::auth::safe_next(Some(next.as_str()).filter(|n| !n.is_empty()));

    view! {
        <Title text="Sign in"/>
        <div class="relative flex min-h-dvh flex-col items-center justify-center px-4 py-10 sm:py-16">
            <div class="absolute top-3 right-3 sm:top-4 sm:right-4">
                <ThemeToggle/>
            </div>
            <div class="w-full max-w-sm">
                <div class="flex flex-col items-center text-center">
                    <Logo class="h-12 w-12"/>
                    <h1 class="mt-4 text-xl font-semibold tracking-tight text-slate-900 dark:text-white">
                        "Fabrik Mission Control"
                    </h1>
                    <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">"Sign in to watch, steer and approve runs."</p>
                </div>

                <div class="card mt-8 p-5 sm:p-6">
                    {signed_out.then(|| view! {
                        <div
                            role="status"
                            data-testid="login-signed-out"
                            class="mb-5 flex items-center gap-2.5 rounded-lg border border-emerald-200 bg-emerald-50 px-3 py-2.5 text-sm text-emerald-800 dark:border-emerald-500/30 dark:bg-emerald-500/10 dark:text-emerald-200"
                        >
                            <Icon icon=I::CheckCircle class="h-4 w-4 shrink-0 text-emerald-500"/>
                            "You are signed out."
                        </div>
                    })}
                    {error.map(|code| view! {
                        <div
                            role="alert"
                            data-testid="login-error"
                            data-code=code.clone()
                            class="mb-5 flex gap-2.5 rounded-lg border border-red-200 bg-red-50 px-3 py-2.5 text-sm text-red-800 dark:border-red-500/30 dark:bg-red-500/10 dark:text-red-200"
                        >
                            <Icon icon=I::XCircle class="mt-px h-4 w-4 shrink-0 text-red-500"/>
                            <span>{login_error_message(&code)}</span>
                        </div>
                    })}
                    {already.map(|u| view! {
                        <div
                            data-testid="login-already"
                            class="mb-5 rounded-lg border border-slate-200 bg-slate-50 px-3 py-2.5 text-sm text-slate-700 dark:border-slate-700 dark:bg-slate-800/50 dark:text-slate-300"
                        >
                            "You are signed in as "
                            <span class="font-semibold">{u.username}</span>
                            ". "
                            <a href=continue_to.clone() rel="external" class="link font-medium">"Continue"</a>
                            " or sign in as someone else."
                        </div>
                    })}
                    <form method="post" action="/auth/login" class="space-y-4" data-testid="login-form">
                        <input type="hidden" name="next" value=next/>
                        <label class="block">
                            <span class="label">"Username"</span>
                            <input
                                type="text"
                                name="username"
                                value=username
                                data-testid="login-username"
                                class="input mt-1"
                                autocomplete="username"
                                autocapitalize="none"
                                spellcheck="false"
                                required
                                autofocus
                            />
                        </label>
                        <label class="block">
                            <span class="label">"Password"</span>
                            <input
                                type="password"
                                name="password"
                                data-testid="login-password"
                                class="input mt-1"
                                autocomplete="current-password"
                                required
                            />
                        </label>
                        <button type="submit" data-testid="login-submit" class="btn btn-primary w-full justify-center">
                            <Icon icon=I::Lock class="h-4 w-4"/>
                            "Sign in"
                        </button>
                    </form>
                </div>
                <p class="mt-6 text-center text-xs text-slate-500 dark:text-slate-400">
                    "No account? Ask an admin of this Fabrik server to add you."
                </p>
            </div>
        </div>
    }
}
