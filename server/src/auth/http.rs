//! The HTTP side of auth: a default-deny guard in front of every route, the login and
//! logout form posts, and the JSON endpoints for tokens, users and the audit log.
use super::{Auth, SESSION_ABSOLUTE};
use crate::api::json_body;
use crate::error::error_response;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use axum::{Extension, Form, Json, Router};
use domain::auth::{safe_next, NewUser, Principal, UserChange};
use domain::filter::encode_component;
use domain::service::{Actor, AdminService};
use serde::Deserialize;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "fabrik_session";

/// The client's address as the guard worked it out (through trusted proxies).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Paths anyone may reach: the login page and its form post, health, static files,
/// and token issuing (which checks a password itself).
pub fn is_public(method: &Method, path: &str) -> bool {
    matches!(
        path,
        "/login" | "/healthz" | "/favicon.svg" | "/manifest.webmanifest" | "/sw.js"
    ) || path.starts_with("/pkg/")
        // Checks the metrics token or an admin itself.
        || (method == Method::GET && path == "/metrics")
        || path.starts_with("/icons/")
        || (method == Method::POST
            && matches!(
                path,
                "/auth/login" | "/api/v1/auth/token" | "/api/v1/push/approve"
            ))
}

/// Runs before every route: refuses cross-site state changes, works out who is asking,
/// and turns away anyone unknown from everything but the public paths.
pub async fn guard(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    if is_cross_site_change(req.method(), req.headers()) {
        return error_response(&domain::Error::new(
            domain::ErrorCode::Forbidden,
            "Refused a state-changing request from another site. Use Fabrik from its own pages, or call the API with a token.",
        ));
    }
    let user = identify(&state.auth, req.headers()).await;
    let client = state.proxies.client(addr.ip(), req.headers());
    req.extensions_mut().insert(ClientAddr(client));
    match user {
        Some(user) => {
            let actor = Actor {
                name: user.username.clone(),
                role: user.role,
                from: Some(client.to_string()),
            };
            req.extensions_mut().insert(Principal {
                username: user.username,
                role: user.role,
            });
            req.extensions_mut().insert(actor);
        }
        None if !is_public(req.method(), req.uri().path()) => return unauthenticated(&req),
        None => {}
    }
    next.run(req).await
}

/// `Sec-Fetch-Site` (modern browsers) or else `Origin` must say the request came from
/// this site for anything but reads. Clients without either (curl, the CLI) carry no
/// ambient cookies an attacker could ride on.
fn is_cross_site_change(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let host = host.to_str().unwrap_or("");
            origin.split("://").nth(1) != Some(host)
        }
        (Some(_), None) => true,
        _ => false,
    }
}

async fn identify(auth: &Auth, headers: &HeaderMap) -> Option<domain::auth::UserView> {
    if let Some(token) = bearer(headers) {
        return auth.token_user(token).await.ok().flatten();
    }
    let session = session_cookie(headers)?;
    auth.session_user(session).await.ok().flatten()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("fabrik_session="))
        .filter(|v| !v.is_empty())
}

fn unauthenticated(req: &Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/auth/") {
        return error_response(&domain::Error::new(
            domain::ErrorCode::Unauthorized,
            "Sign in first: send the session cookie from /login, or 'Authorization: Bearer <token>' (get one with POST /api/v1/auth/token).",
        ));
    }
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Redirect::to(&format!("/login?next={}", encode_component(target))).into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(issue_token))
        .route("/auth/me", get(me))
        .route("/auth/tokens", get(list_tokens).post(create_token))
        .route("/auth/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{name}", patch(change_user))
        .route("/audit", get(audit))
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let ip = client.to_string();
    let outcome = state
        .auth
        .login(
            form.username.trim(),
            &form.password,
            &ip,
            session_cookie(&headers),
        )
        .await;
    match outcome {
        Ok(Ok(secret)) => {
            let mut response = Redirect::to(&next).into_response();
            set_cookie(
                &mut response,
                &session_set_cookie(&secret, &headers, state.secure_cookies),
            );
            response
        }
        Ok(Err(e)) => Redirect::to(&format!(
            "/login?error={}&next={}&user={}",
            e.code(),
            encode_component(&next),
            encode_component(form.username.trim())
        ))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn logout(
    State(state): State<AppState>,
    actor: Option<Extension<Actor>>,
    headers: HeaderMap,
) -> Response {
    if let (Some(session), Some(Extension(actor))) = (session_cookie(&headers), actor) {
        if let Err(e) = state.auth.logout(session, &actor).await {
            return e.into_response();
        }
    }
    let mut response = Redirect::to("/login?signed_out=1").into_response();
    set_cookie(
        &mut response,
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

fn session_set_cookie(secret: &str, headers: &HeaderMap, always_secure: bool) -> String {
    let behind_tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_ABSOLUTE.as_secs(),
        if behind_tls || always_secure {
            "; Secure"
        } else {
            ""
        }
    )
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    username: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

async fn issue_token(
    State(state): State<AppState>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    bytes: Bytes,
) -> Result<Response, Response> {
    let req: TokenRequest = json_body(&bytes).map_err(|e| error_response(&e))?;
    let ip = client.to_string();
    let user = state
        .auth
        .check_password(req.username.trim(), &req.password, &ip)
        .await
        .map_err(|e| error_response(&e.public()))?;
    let actor = Actor {
        name: user.username,
        role: user.role,
        from: Some(ip),
    };
    let created = state
        .auth
        .create_token(&actor, req.name.as_deref().unwrap_or("api"))
        .await
        .map_err(|e| error_response(&e))?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "token": created.token, "id": created.info.id })),
    )
        .into_response())
}

async fn me(Extension(p): Extension<Principal>) -> Json<Principal> {
    Json(p)
}

fn reply<T: serde::Serialize>(r: domain::Result<T>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error_response(&e),
    }
}

async fn list_tokens(State(s): State<AppState>, Extension(a): Extension<Actor>) -> Response {
    reply(s.auth.list_tokens(&a).await)
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

async fn create_token(
    State(s): State<AppState>,
    Extension(a): Extension<Actor>,
    bytes: Bytes,
) -> Response {
    match json_body::<NewToken>(&bytes) {
        Ok(t) => match s.auth.create_token(&a, &t.name).await {
            Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
            Err(e) => error_response(&e),
        },
        Err(e) => error_response(&e),
    }
}

async fn revoke_token(
    State(s): State<AppState>,
    Extension(a): Extension<Actor>,
    Path(id): Path<i64>,
) -> Response {
    match s.auth.revoke_token(&a, id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

async fn list_users(State(s): State<AppState>, Extension(a): Extension<Actor>) -> Response {
    reply(s.auth.list_users(&a).await)
}

async fn create_user(
    State(s): State<AppState>,
    Extension(a): Extension<Actor>,
    bytes: Bytes,
) -> Response {
    match json_body::<NewUser>(&bytes) {
        Ok(u) => match s.auth.create_user(&a, u).await {
            Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
            Err(e) => error_response(&e),
        },
        Err(e) => error_response(&e),
    }
}

async fn change_user(
    State(s): State<AppState>,
    Extension(a): Extension<Actor>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Response {
    match json_body::<UserChange>(&bytes) {
        Ok(c) => reply(s.auth.change_user(&a, &name, c).await),
        Err(e) => error_response(&e),
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    before: Option<i64>,
}

async fn audit(
    State(s): State<AppState>,
    Extension(a): Extension<Actor>,
    Query(q): Query<AuditQuery>,
) -> Response {
    reply(s.auth.audit_log(&a, q.limit.unwrap_or(100), q.before).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_changes_are_spotted() {
        let post = Method::POST;
        assert!(is_cross_site_change(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(is_cross_site_change(
            &post,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(!is_cross_site_change(
            &post,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(is_cross_site_change(
            &post,
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "fabrik.local:3000")
            ])
        ));
        assert!(!is_cross_site_change(
            &post,
            &headers(&[
                ("origin", "http://fabrik.local:3000"),
                ("host", "fabrik.local:3000")
            ])
        ));
        assert!(
            !is_cross_site_change(&post, &headers(&[])),
            "curl and the CLI"
        );
        assert!(!is_cross_site_change(
            &Method::GET,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "theme=dark; fabrik_session=abc123; x=y")]);
        assert_eq!(session_cookie(&h), Some("abc123"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "fabrik_session=")])),
            None
        );
    }

    #[test]
    fn public_paths_are_few() {
        assert!(is_public(&Method::GET, "/login"));
        assert!(is_public(&Method::GET, "/pkg/fabrik.wasm"));
        assert!(is_public(&Method::GET, "/sw.js"));
        assert!(is_public(&Method::POST, "/api/v1/auth/token"));
        assert!(!is_public(&Method::GET, "/api/v1/auth/token"));
        assert!(!is_public(&Method::GET, "/runs"));
        assert!(!is_public(&Method::GET, "/api/v1/runs"));
        assert!(!is_public(&Method::POST, "/api/list_runs"));
    }
}
