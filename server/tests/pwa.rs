//! The installable app's files: served with the content types and cache headers
//! browsers expect, reachable before sign-in, and a manifest with the icons Chromium
//! asks for.
mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_service_worker_and_manifest_are_served_as_browsers_expect() {
    let server = Server::start();
    let c = reqwest::Client::new();
    let r = c.get(server.url("/sw.js")).send().await.unwrap();
    assert_eq!(r.status(), 200, "public, before sign-in");
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["service-worker-allowed"], "/");
    let sw = r.text().await.unwrap();
    for handler in ["\"push\"", "\"notificationclick\"", "showNotification"] {
        assert!(sw.contains(handler), "{handler}");
    }

    let r = c
        .get(server.url("/manifest.webmanifest"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/manifest+json");
    let manifest: serde_json::Value = r.json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/runs");
    let icons = manifest["icons"].as_array().unwrap();
    for (size, purpose) in [
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    ] {
        let icon = icons
            .iter()
            .find(|i| i["sizes"] == size && i["purpose"] == purpose && i["type"] == "image/png")
            .unwrap_or_else(|| panic!("a {size} {purpose} PNG icon"));
        let path = icon["src"].as_str().unwrap();
        let png = std::fs::read(repo_root().join("public").join(&path[1..])).unwrap();
        let (w, h) = (
            u32::from_be_bytes(png[16..20].try_into().unwrap()),
            u32::from_be_bytes(png[20..24].try_into().unwrap()),
        );
        assert_eq!(
            format!("{w}x{h}"),
            size,
            "{path} is the size the manifest says"
        );
    }
}
