//! The runs page is served from a cache while nothing changed: it must never show a
//! page from before a write, nor one user's page to another.
mod common;

use common::*;

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
