//! `/api/v1/admin/credentials`: rotating a provider's pool changes the key new runs
//! get; a run failing on a rate limit (as Smithers records it) marks its provider
//! limited, once per failure.
mod common;

use common::*;
use serde_json::{json, Value};

fn provider<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == name)
        .unwrap_or_else(|| panic!("no {name}: {view}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn rotating_a_pool_changes_the_key_new_runs_get() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 100);
    std::fs::write(
        tmp.path().join("credentials.env"),
        "ANTHROPIC_API_KEY_1=sk-first\nANTHROPIC_API_KEY_2=sk-second\nGITHUB_TOKEN=ghp-only\n",
    )
    .unwrap();
    shell_template(
        tmp.path(),
        "keyprint",
        "echo key-in-use:$ANTHROPIC_API_KEY.",
        &[],
    );
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let key_of_a_new_run = || async {
        let (code, body) = post(
            &c,
            &server.url("/api/v1/runs"),
            json!({"template": "keyprint"}),
        )
        .await;
        assert_eq!(code, 201, "{body}");
        let id = body["run_id"].as_str().unwrap().to_string();
        wait_exited(&c, &server, &id).await;
        let log = run_log(&c, &server, &id).await;
        // The last: the first is the command line the log starts with.
        log.lines()
            .rev()
            .find_map(|l| l.split("key-in-use:").nth(1))
            .unwrap_or_else(|| panic!("{log}"))
            .trim()
            .trim_end_matches('.')
            .to_string()
    };
    assert_eq!(key_of_a_new_run().await, "", "no rotation, no pick");

    let url = server.url("/api/v1/admin/credentials/anthropic/rotate");
    let (code, view) = post(&c, &url, json!({})).await;
    assert_eq!(code, 200, "{view}");
    let anthropic = provider(&view, "anthropic");
    assert_eq!(anthropic["rotation"]["active"], "ANTHROPIC_API_KEY_2");
    assert_eq!(anthropic["rotation"]["by"], "admin");
    assert!(!view.to_string().contains("sk-"), "never a value");
    assert_eq!(key_of_a_new_run().await, "sk-second");

    let (_, view) = post(&c, &url, json!({})).await;
    assert_eq!(
        provider(&view, "anthropic")["rotation"]["active"],
        "ANTHROPIC_API_KEY_1"
    );
    assert_eq!(
        key_of_a_new_run().await,
        "sk-first",
        "wraps around the pool"
    );

    let (code, body) = post(
        &c,
        &server.url("/api/v1/admin/credentials/github/rotate"),
        json!({}),
    )
    .await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GITHUB_TOKEN_2"),
        "{body}"
    );
    let (code, _) = post(
        &c,
        &server.url("/api/v1/admin/credentials/nope/rotate"),
        json!({}),
    )
    .await;
    assert_eq!(code, 404);
    let (code, _) = post(
        &c,
        &server.url("/api/v1/users"),
        json!({"username": "olga", "password": "olgas-password-1", "role": "operator"}),
    )
    .await;
    assert_eq!(code, 201);
    let operator = server.client_for("olga", "olgas-password-1").await;
    let (code, _) = post(&operator, &url, json!({})).await;
    assert_eq!(code, 403, "only admins rotate");
    let (_, audit) = get(&c, &server.url("/api/v1/audit")).await;
    assert!(audit.to_string().contains("credentials.rotate"), "{audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_failure_in_a_run_marks_its_provider_limited_once() {
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 100);
    std::fs::write(
        tmp.path().join("credentials.env"),
        "ANTHROPIC_API_KEY=sk-x\nOPENAI_API_KEY=sk-y\n",
    )
    .unwrap();
    let server = Server::start_in(tmp.path());
    let c = server.admin().await;
    let (id, _) = demo_at_gate(&c, &server).await;
    let (_, before) = get(&c, &server.url("/api/v1/admin/credentials")).await;
    assert_eq!(
        provider(&before, "anthropic")["rate_limit"]["limited"],
        false
    );

    // A failed attempt as Smithers writes it, in the run's own DB.
    let db = rusqlite::Connection::open(run_db(&server, &id)).unwrap();
    let error = "AI_APICallError: 429 Too Many Requests from https://api.anthropic.com/v1/messages (rate_limit_error)";
    db.execute(
        "INSERT INTO _smithers_events (run_id, seq, timestamp_ms, type, payload_json) \
         SELECT ?1, MAX(seq) + 1, ?2, 'NodeFailed', ?3 FROM _smithers_events WHERE run_id = ?1",
        rusqlite::params![
            id,
            domain_now_ms(),
            json!({"nodeId": "implement", "iteration": 0, "attempt": 1, "error": error})
                .to_string()
        ],
    )
    .unwrap();
    drop(db);

    let mut limited = Value::Null;
    for _ in 0..100 {
        let (_, view) = get(&c, &server.url("/api/v1/admin/credentials")).await;
        limited = provider(&view, "anthropic")["rate_limit"].clone();
        if limited["limited"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(limited["limited"], true, "{limited}");
    assert_eq!(limited["last_run"], id.as_str());
    assert!(limited["last_message"].as_str().unwrap().contains("429"));
    let (_, view) = get(&c, &server.url("/api/v1/admin/credentials")).await;
    assert_eq!(provider(&view, "openai")["rate_limit"]["limited"], false);

    // Re-read many times (the page, the watcher): still one failure.
    for _ in 0..5 {
        get(&c, &server.url(&format!("/api/v1/runs/{id}"))).await;
    }
    let url = server.url(&format!("/api/v1/runs/{id}/feedback"));
    assert_eq!(post(&c, &url, json!({"decision": "approve"})).await.0, 200);
    wait_for(&c, &server, &id, "finish", |d| status_of(d) == "finished").await;
    let (_, view) = get(&c, &server.url("/api/v1/admin/credentials")).await;
    assert_eq!(
        provider(&view, "anthropic")["rate_limit"]["events_24h"],
        1,
        "{view}"
    );
}

fn domain_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
