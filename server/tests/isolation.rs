//! What a run's agent can reach, tried as an attacker would: the server's environment,
//! the store, paths outside the workflows, options smuggled in through values.
mod common;

use common::*;
use serde_json::json;

const SENTINEL: &str = "server-only-secret-7f3a";

/// A template whose run prints its environment and tries to open the store for writing.
fn snoop_template(data_dir: &std::path::Path) {
    let store = data_dir.join("fabrik.db");
    let script = format!(
        "env; if : >> '{}'; then echo STORE-OPENED; else echo STORE-REFUSED; fi",
        store.display()
    );
    shell_template(data_dir, "snoop", &script, &[("FROM_TEMPLATE", "yes")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_sees_no_server_variable_and_cannot_write_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    snoop_template(tmp.path());
    let server = Server::start_with(tmp.path(), &[("FABRIK_TEST_SENTINEL", SENTINEL)]);
    let c = server.admin().await;
    let (code, body) = post(
        &c,
        &server.url("/api/v1/runs"),
        json!({"template": "snoop"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    let done = wait_exited(&c, &server, &id).await;
    let log = run_log(&c, &server, &id).await;
    assert!(log.contains(&format!("FABRIK_RUN_ID={id}")), "{log}");
    assert!(log.contains("FROM_TEMPLATE=yes"), "{log}");
    assert!(!log.contains(SENTINEL), "a server variable leaked: {log}");
    assert!(!log.contains(ADMIN_PASSWORD), "the admin password leaked");
    assert!(!log.contains("FABRIK_ADMIN_PASSWORD"), "{log}");

    let protection = done["execution"]["protection"]
        .as_str()
        .unwrap()
        .to_string();
    let confined = protection.contains("(Landlock)") || protection.contains("unprivileged user");
    if confined {
        assert!(log.contains("STORE-REFUSED"), "{protection}: {log}");
    } else {
        eprintln!("NOTE: no confinement here ({protection}); store write not asserted");
    }
    // The store is the server's alone, and intact.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tmp.path().join("fabrik.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "store mode {mode:o}");
    let (code, _) = get(&c, &server.url("/api/v1/runs")).await;
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn traversal_and_option_injection_are_refused_and_store_nothing() {
    let server = Server::start();
    let c = server.admin().await;
    let refused = |body: serde_json::Value| {
        let (c, url) = (c.clone(), server.url("/api/v1/runs"));
        async move {
            let (code, reply) = post(&c, &url, body.clone()).await;
            assert_eq!(code, 400, "{body} → {reply}");
            reply["error"]["message"].as_str().unwrap().to_string()
        }
    };
    for workflow in [
        "/etc/passwd",
        "../../../../etc/passwd",
        "workflows/../../../etc/passwd",
        "-e",
        "templates/demo.toml",
    ] {
        refused(json!({"template": "demo", "workflow": workflow})).await;
    }
    for spec in ["--inspect-brk=0.0.0.0:9229", "-e"] {
        let message = refused(json!({"template": "demo", "spec": spec})).await;
        assert!(message.contains("starts with '-'"), "{message}");
    }
    // Whether a file exists outside the workflows is not revealed.
    let exists = refused(json!({"template": "demo", "workflow": "templates/demo.toml"})).await;
    let missing = refused(json!({"template": "demo", "workflow": "templates/nope.toml"})).await;
    assert_eq!(
        exists.replace("templates/demo.toml", "X"),
        missing.replace("templates/nope.toml", "X")
    );
    let (_, page) = get(&c, &server.url("/api/v1/runs")).await;
    assert_eq!(page["runs"].as_array().unwrap().len(), 0, "nothing stored");
    // The allowed form still works.
    let (code, body) = post(
        &c,
        &server.url("/api/v1/runs"),
        json!({"template": "demo", "workflow": "workflows/demo/workflow.tsx", "spec": "specs/x.json"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
}
