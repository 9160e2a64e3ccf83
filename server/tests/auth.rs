//! Nobody gets in who doesn't belong: every route, sessions, tokens, roles, CSRF.
mod common;

use common::*;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::json;

/// A client that follows no redirects and keeps no cookies, so each answer is seen.
fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn session_from(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("fabrik_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .filter(|v| !v.is_empty())
}

async fn login(
    server: &Server,
    user: &str,
    password: &str,
    next: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = raw().post(server.url("/auth/login")).form(&[
        ("username", user),
        ("password", password),
        ("next", next),
    ]);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("fabrik_session={c}"));
    }
    req.send().await.unwrap()
}

async fn me_with_cookie(server: &Server, session: &str) -> StatusCode {
    raw()
        .get(server.url("/api/v1/auth/me"))
        .header("cookie", format!("fabrik_session={session}"))
        .send()
        .await
        .unwrap()
        .status()
}

fn fill(path: &str) -> String {
    // `{id}`, `{name}`, `:id`, `*any` → a concrete segment.
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') || seg.starts_with(':') || seg.starts_with('*') {
                "01XYZ"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_registered_route_needs_a_session_or_token() {
    let server = Server::start();
    let c = raw();
    let mut checked = 0;

    // Pages: redirected to the login page, with `next` pointing back.
    let pages = leptos_axum::generate_route_list(app::App);
    assert!(pages.len() >= 5, "the page list is found");
    for route in pages {
        let path = fill(route.path());
        let r = c.get(server.url(&path)).send().await.unwrap();
        if path == "/login" {
            assert_eq!(r.status(), 200, "the login page is public");
            continue;
        }
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            location(&r).starts_with("/login?next=%2F"),
            "{path} → {}",
            location(&r)
        );
        checked += 1;
    }
    // Server functions: 401.
    let server_fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(
        server_fns.len() >= 8,
        "server functions are registered: {server_fns:?}"
    );
    for (path, method) in server_fns {
        let r = c
            .request(method.clone(), server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        checked += 1;
    }
    // The JSON API: 401, except issuing a token, which checks a password itself.
    let admin = server.admin().await;
    for (method, path) in fabrik_server::api::ROUTES {
        let url = server.url(&format!("/api/v1{}", fill(path)));
        let method: reqwest::Method = method.parse().unwrap();
        let anonymous = c.request(method.clone(), &url).send().await.unwrap();
        let signed_in = admin.request(method.clone(), &url).send().await.unwrap();
        let status = signed_in.status();
        let reply = if path.ends_with("/events") || path.ends_with("/logs") {
            String::new() // streams; their status is enough
        } else {
            signed_in.text().await.unwrap()
        };
        assert!(
            status != 405 && !reply.contains("No such API endpoint"),
            "{method} {path} is routed (not the API fallback): {status} {reply}"
        );
        if *path == "/auth/token" {
            assert_eq!(anonymous.status(), 400, "no credentials, no token");
        } else if *path == "/push/approve" {
            // The token in the body is the credential; without one, nothing happens.
            assert_eq!(anonymous.status(), 400, "no token, no approval");
        } else {
            assert_eq!(anonymous.status(), 401, "{method} {path}");
            let body: serde_json::Value = anonymous.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        }
        checked += 1;
    }
    // Paths nobody registered are denied too (default deny), and static files are not.
    for path in ["/nope", "/api/v1/nope", "/admin", "/settings/users"] {
        let r = c.get(server.url(path)).send().await.unwrap();
        assert!(
            matches!(r.status().as_u16(), 303 | 401),
            "{path}: {}",
            r.status()
        );
    }
    for path in [
        "/healthz",
        "/login",
        "/pkg/fabrik.css",
        "/manifest.webmanifest",
    ] {
        let r = c.get(server.url(path)).send().await.unwrap();
        assert!(
            r.status() != 401 && r.status() != 303,
            "{path} is public: {}",
            r.status()
        );
    }
    assert!(checked > 25, "{checked} routes checked");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_sets_a_fresh_http_only_session_and_returns_to_next() {
    let server = Server::start();
    let wrong = login(&server, "admin", "wrong-password!", "/runs/01ABC", None).await;
    let nobody = login(&server, "nobody", "wrong-password!", "/runs/01ABC", None).await;
    assert_eq!(wrong.status(), 303);
    assert_eq!(
        location(&wrong),
        "/login?error=invalid&next=%2Fruns%2F01ABC&user=admin"
    );
    assert_eq!(
        location(&wrong).replace("user=admin", "user=nobody"),
        location(&nobody),
        "no hint whether the user exists"
    );
    assert!(session_from(&wrong).is_none());

    let ok = login(
        &server,
        "admin",
        ADMIN_PASSWORD,
        "/runs/01ABC",
        Some("attacker-chosen"),
    )
    .await;
    assert_eq!(location(&ok), "/runs/01ABC");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    let first = session_from(&ok).unwrap();
    assert_ne!(first, "attacker-chosen", "the server picks the id");
    assert_eq!(me_with_cookie(&server, &first).await, 200);

    // Session fixation: logging in again with a live session rotates it.
    let again = login(&server, "admin", ADMIN_PASSWORD, "/runs", Some(&first)).await;
    let second = session_from(&again).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        me_with_cookie(&server, &first).await,
        401,
        "the old session is gone"
    );
    assert_eq!(me_with_cookie(&server, &second).await, 200);

    // Behind TLS the cookie is Secure.
    let tls = raw()
        .post(server.url("/auth/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(tls.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));

    // Logout ends the session.
    let out = raw()
        .post(server.url("/auth/logout"))
        .header("cookie", format!("fabrik_session={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&out), "/login?signed_out=1");
    assert_eq!(me_with_cookie(&server, &second).await, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn next_never_leads_off_site() {
    let server = Server::start();
    for evil in [
        "//evil.example/x",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let r = login(&server, "admin", ADMIN_PASSWORD, evil, None).await;
        assert_eq!(location(&r), "/runs", "{evil}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_sessions_end() {
    let server = Server::start();
    let r = login(&server, "admin", ADMIN_PASSWORD, "/runs", None).await;
    let session = session_from(&r).unwrap();
    assert_eq!(me_with_cookie(&server, &session).await, 200);
    let db = rusqlite::Connection::open(server.data_dir.join("fabrik.db")).unwrap();
    db.execute(
        "UPDATE sessions SET last_seen_ms = last_seen_ms - 13 * 3600 * 1000",
        [],
    )
    .unwrap();
    assert_eq!(
        me_with_cookie(&server, &session).await,
        401,
        "idle too long"
    );

    let r = login(&server, "admin", ADMIN_PASSWORD, "/runs", None).await;
    let session = session_from(&r).unwrap();
    db.execute("UPDATE sessions SET expires_at_ms = 1", [])
        .unwrap();
    assert_eq!(
        me_with_cookie(&server, &session).await,
        401,
        "past the absolute limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_users_and_revoked_tokens_are_shut_out() {
    let server = Server::start();
    let admin = server.admin().await;
    let (code, body) = post(
        &admin,
        &server.url("/api/v1/users"),
        json!({"username": "bob", "password": "bobs-password-1", "role": "operator"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let bob = server.client_for("bob", "bobs-password-1").await;
    let session =
        session_from(&login(&server, "bob", "bobs-password-1", "/runs", None).await).unwrap();
    assert_eq!(
        get(&bob, &server.url("/api/v1/auth/me")).await.1["role"],
        "operator"
    );

    let r = admin
        .patch(server.url("/api/v1/users/bob"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        get(&bob, &server.url("/api/v1/runs")).await.0,
        401,
        "token of a disabled user"
    );
    assert_eq!(
        me_with_cookie(&server, &session).await,
        401,
        "session of a disabled user"
    );
    let r = login(&server, "bob", "bobs-password-1", "/runs", None).await;
    assert_eq!(
        location(&r),
        "/login?error=invalid&next=%2Fruns&user=bob",
        "same answer as a wrong password"
    );

    // Revoked tokens stop working at once.
    let (code, created) = post(
        &admin,
        &server.url("/api/v1/auth/tokens"),
        json!({"name": "ci"}),
    )
    .await;
    assert_eq!(code, 201);
    let token = created["token"].as_str().unwrap();
    let id = created["info"]["id"].as_i64().unwrap();
    let probe = || async {
        raw()
            .get(server.url("/api/v1/runs"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(probe().await, 200);
    let r = admin
        .delete(server.url(&format!("/api/v1/auth/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(probe().await, 401);

    // Admins can't lock themselves out.
    let r = admin
        .patch(server.url("/api/v1/users/admin"))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn viewers_are_refused_every_change() {
    let server = Server::start();
    let admin = server.admin().await;
    add_user(&admin, &server, "vera", "veras-password-1", "viewer").await;
    let run_id = dispatch_demo(&admin, &server).await;
    let vera = server.client_for("vera", "veras-password-1").await;
    assert_eq!(
        get(&vera, &server.url("/api/v1/runs")).await.0,
        200,
        "viewers can look"
    );
    assert_eq!(
        get(&vera, &server.url(&format!("/api/v1/runs/{run_id}")))
            .await
            .0,
        200
    );
    let changes = [
        ("/api/v1/runs".to_string(), json!({"template": "demo"})),
        (format!("/api/v1/runs/{run_id}/cancel"), json!({})),
        (format!("/api/v1/runs/{run_id}/resume"), json!({})),
        (
            format!("/api/v1/runs/{run_id}/feedback"),
            json!({"decision": "approve"}),
        ),
        (
            "/api/v1/users".to_string(),
            json!({"username": "x1", "password": "xxxxxxxxxxxx", "role": "admin"}),
        ),
    ];
    for (path, body) in changes {
        let (code, resp) = post(&vera, &server.url(&path), body).await;
        assert_eq!(code, 403, "{path}: {resp}");
        assert!(
            resp["error"]["message"]
                .as_str()
                .unwrap()
                .contains("viewer"),
            "{resp}"
        );
    }
    assert_eq!(get(&vera, &server.url("/api/v1/users")).await.0, 403);
    assert_eq!(get(&vera, &server.url("/api/v1/audit")).await.0, 403);
    for admin_only in [
        "/api/v1/admin/cluster",
        "/api/v1/admin/credentials",
        "/api/v1/admin/metrics",
        "/api/v1/admin/metrics/runs.csv",
        "/api/v1/admin/prices",
        "/api/v1/admin/backups",
        "/api/v1/admin/overview",
    ] {
        assert_eq!(
            get(&vera, &server.url(admin_only)).await.0,
            403,
            "{admin_only}"
        );
    }
    let (_, page) = get(&admin, &server.url("/api/v1/runs")).await;
    assert_eq!(
        page["runs"].as_array().unwrap().len(),
        1,
        "nothing was dispatched by the viewer"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_site_changes_are_refused() {
    let server = Server::start();
    let session =
        session_from(&login(&server, "admin", ADMIN_PASSWORD, "/runs", None).await).unwrap();
    let cookie = format!("fabrik_session={session}");
    let attempts = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (header, value) in attempts {
        let r = raw()
            .post(server.url("/api/v1/runs"))
            .header("cookie", &cookie)
            .header(header, value)
            .json(&json!({"template": "demo"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
        let login_csrf = raw()
            .post(server.url("/auth/login"))
            .header(header, value)
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(login_csrf.status(), 403, "login CSRF, {header}: {value}");
    }
    let (path, method) = leptos::server_fn::axum::server_fn_paths()
        .find(|(p, _)| p.contains("dispatch"))
        .expect("a dispatch server function");
    let r = raw()
        .request(method, server.url(path))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "server functions too");
    let (_, page) = get(&server.admin().await, &server.url("/api/v1/runs")).await;
    assert_eq!(page["runs"], json!([]), "nothing was dispatched");
    // The same request from the site itself goes through.
    let r = raw()
        .post(server.url("/api/v1/runs"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"template": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "reached the handler");
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_failures_are_rate_limited_and_audited() {
    let server = Server::start();
    for _ in 0..5 {
        let r = login(&server, "admin", "not-the-password", "/runs", None).await;
        assert!(location(&r).contains("error=invalid"));
    }
    let r = login(&server, "admin", ADMIN_PASSWORD, "/runs", None).await;
    assert!(
        location(&r).contains("error=rate_limited"),
        "{}",
        location(&r)
    );
    assert!(session_from(&r).is_none());
    let (code, body) = post(
        &raw(),
        &server.url("/api/v1/auth/token"),
        json!({"username": "admin", "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(code, 429, "{body}");

    // Another user is not locked out by admin's failures.
    let db = rusqlite::Connection::open(server.data_dir.join("fabrik.db")).unwrap();
    let actions: Vec<String> = db
        .prepare("SELECT action FROM audit_log ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "auth.login_failed").count(),
        5,
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "auth.login_limited"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_records_who_did_what_from_where() {
    let server = Server::start();
    let admin = server.admin().await;
    let id = dispatch_demo(&admin, &server).await;
    let (code, _) = post(
        &admin,
        &server.url(&format!("/api/v1/runs/{id}/cancel")),
        json!({}),
    )
    .await;
    assert_eq!(code, 200);
    let (code, log) = get(&admin, &server.url("/api/v1/audit?limit=50")).await;
    assert_eq!(code, 200);
    let entries = log.as_array().unwrap();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).cloned();
    let cancel = find("run.cancel").expect("cancel audited");
    assert_eq!(cancel["actor"], "admin");
    assert_eq!(cancel["target"], id.as_str());
    assert_eq!(cancel["source"], "127.0.0.1");
    assert!(find("run.dispatch").is_some() && find("token.create").is_some());
    assert!(
        entries[0]["id"].as_i64() > entries[entries.len() - 1]["id"].as_i64(),
        "newest first"
    );
}

#[test]
fn the_first_start_prints_a_generated_admin_password_once() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_fabrik-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env_remove("FABRIK_ADMIN_PASSWORD")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let read_until_listening = |child: &mut std::process::Child| {
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for line in out.lines() {
            let line = line.unwrap();
            let done = line.contains("listening on");
            lines.push(line);
            if done {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        lines.join("\n")
    };
    let mut first = start();
    let log = read_until_listening(&mut first);
    let password = log
        .split("with the password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no generated password in the log:\n{log}"));
    assert!(password.len() >= 16, "{password}");
    let mut second = start();
    let log = read_until_listening(&mut second);
    assert!(!log.contains(password), "printed only once");
}
