//! Sign-in limits under a parallel burst, revocation that ends streams, and request
//! bodies that are too big — against a real server, attacked in parallel.
mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parallel_burst_of_wrong_passwords_gets_at_most_five_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(tmp.path(), &[("FABRIK_TRUSTED_PROXY", "127.0.0.1")]);
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let url = server.url("/api/v1/auth/token");
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .header("x-forwarded-for", "203.0.113.7")
                    .json(&json!({"username": "admin", "password": format!("guess-{i}")}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for a in attempts {
        codes.push(a.await.unwrap());
    }
    let checked = codes.iter().filter(|c| **c == 401).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    assert!(checked <= 5, "{checked} passwords were checked: {codes:?}");
    assert_eq!(checked + limited, 50, "{codes:?}");

    // The attacker's address is limited, even with the right password…
    let from_attacker = reqwest::Client::new()
        .post(server.url("/api/v1/auth/token"))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(from_attacker.status(), 429);
    // …while the admin signs in from their own address.
    let admin = server.admin().await;
    let (_, audit) = get(&admin, &server.url("/api/v1/audit?limit=500")).await;
    let failures: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "auth.login_failed")
        .collect();
    assert_eq!(failures.len(), checked);
    assert!(
        failures.iter().all(|e| e["source"] == "203.0.113.7"),
        "the audit names the real client, not the proxy: {failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_reset_revokes_tokens_and_ends_open_streams() {
    let server = Server::start();
    let admin = server.admin().await;
    let (code, body) = post(
        &admin,
        &server.url("/api/v1/users"),
        json!({"username": "bob", "password": "bob-password-1", "role": "operator"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let bob = server.client_for("bob", "bob-password-1").await;
    let mut stream = bob
        .get(server.url("/api/v1/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()).contains("hello"));

    let reset = admin
        .patch(server.url("/api/v1/users/bob"))
        .json(&json!({"password": "bob-password-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);

    let (code, _) = get(&bob, &server.url("/api/v1/auth/me")).await;
    assert_eq!(code, 401, "the old token is dead");
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.chunk().await {
                Ok(Some(_)) => continue,
                _ => return true,
            }
        }
    })
    .await;
    assert_eq!(ended.ok(), Some(true), "bob's open stream was closed");
    let (code, _) = get(&admin, &server.url("/api/v1/auth/me")).await;
    assert_eq!(code, 200, "other users are untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_are_capped_per_user_with_a_clear_429() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(tmp.path(), &[("FABRIK_MAX_STREAMS_PER_USER", "3")]);
    let admin = server.admin().await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let r = admin
            .get(server.url("/api/v1/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let (code, body) = get(&admin, &server.url("/api/v1/events")).await;
    assert_eq!(code, 429, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("live streams open"));
    drop(open.pop());
    let again = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let r = admin
                .get(server.url("/api/v1/events"))
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(again.is_ok(), "a closed stream frees its place");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_server_function_body_gets_413() {
    let server = Server::start();
    let token = token_for(&server, "admin", ADMIN_PASSWORD).await;
    for path in ["/api/list_runs", "/api/v1/runs"] {
        let status = status_for_announced_body(&server, path, &token, 10 * 1024 * 1024);
        assert_eq!(status, 413, "{path}");
    }
}
