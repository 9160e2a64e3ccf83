//! Server-rendered pages: the runs page is served from a cache while nothing changed
//! (never a page from before a write, nor one user's page to another), and renders cut
//! short leave nothing behind.
mod common;

use common::*;
use std::time::Duration;

async fn page(c: &reqwest::Client, server: &Server, path: &str) -> String {
    let res = c.get(server.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runs_page_shows_every_write_at_once_and_each_user_their_own() {
    let server = Server::start();
    let admin = server.admin().await;
    let before = page(&admin, &server, "/runs").await;
    assert_eq!(
        before,
        page(&admin, &server, "/runs").await,
        "the same view twice"
    );

    // A dispatch right after a served page: the next page has the run.
    let run_id = dispatch_demo(&admin, &server).await;
    assert!(!before.contains(&run_id));
    let after = page(&admin, &server, "/runs").await;
    assert!(
        after.contains(&run_id),
        "the page after the dispatch lists it"
    );

    // Another view of the same page is its own entry.
    let filtered = page(&admin, &server, "/runs?status=cancelled").await;
    assert!(!filtered.contains(&run_id), "the filter applies");

    // A viewer asking for the same view gets a viewer's page, not the admin's.
    add_user(&admin, &server, "vera", "veras-password-1", "viewer").await;
    let vera = server.client_for("vera", "veras-password-1").await;
    let admins = page(&admin, &server, "/runs").await;
    let veras = page(&vera, &server, "/runs").await;
    assert!(
        !admins.contains(r#"data-denied="true""#),
        "admins may dispatch"
    );
    assert!(veras.contains(r#"data-denied="true""#), "viewers may not");

    // Signed out, the cached page is not served.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = anonymous.get(server.url("/runs")).send().await.unwrap();
    assert_ne!(res.status(), 200);
}

/// Pages whose requests are dropped mid-render (clients that give up, `wrk` stopping):
/// the render's reactive owner goes while its data loads, and nothing may still read
/// from it.
#[tokio::test(flavor = "multi_thread")]
async fn renders_cancelled_mid_way_leave_no_task_reading_a_disposed_page() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = Server::start_logging_with(dir.path(), &log, &[("RUST_LOG", "warn")]);
    seed_finished_runs(&dir.path().join("fabrik.db"), 300);
    let token = token_for(&server, "admin", ADMIN_PASSWORD).await;
    let client = reqwest::Client::new();
    let pages = ["/runs", "/runs/board", "/runs/activity", "/specs", "/env"];
    let requests = (0..400u64).map(|n| {
        let (client, token) = (client.clone(), token.clone());
        // A new query each time, so no page comes from the cache; deadlines from 0 to
        // 1.5 s, so renders are dropped at every stage.
        let url = server.url(&format!("{}?n={n}", pages[n as usize % pages.len()]));
        async move {
            let send = client.get(url).bearer_auth(token).send();
            let page = async move {
                let res = send.await?;
                let status = res.status();
                res.text().await.map(|t| (status, t.len()))
            };
            tokio::time::timeout(Duration::from_millis(n * 7 % 1500), page)
                .await
                .ok()
        }
    });
    let answers = futures::future::join_all(requests).await;
    let finished: Vec<_> = answers.iter().flatten().flatten().collect();
    assert!(finished.len() < answers.len(), "some requests were dropped");
    assert!(
        finished.iter().all(|(status, _)| *status == 200),
        "every page that finished rendered: {finished:?}"
    );

    // Whatever a dropped render left running has finished by the time a page renders
    // after it.
    let res = client
        .get(server.url("/runs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        !logged.contains("panicked"),
        "a dropped render left a panic behind:\n{}",
        &logged[..logged.len().min(4000)]
    );
}

/// Finished runs straight into the store, enough for a page of rows on every view.
fn seed_finished_runs(db: &std::path::Path, n: usize) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    for i in 0..n {
        conn.execute(
            "INSERT INTO runs (run_id, template, spec, backend, created_at_ms, exec_state, exit_code, \
             workspace, db_path, log_path, status, phase, progress_finished, progress_total, updated_at_ms) \
             VALUES (?1, 'demo', 'specs/demo.json', 'local', ?2, 'exited', 0, '/w', '/w/db', '/w/log', 'finished', 'done', 3, 3, ?2)",
            rusqlite::params![format!("01LOAD{i:020}"), 1_700_000_000_000i64 + i as i64 * 1000],
        )
        .unwrap();
    }
}
