//! `fabrik runs show` through the daemon vs straight to the server: the whole command
//! (process start included), median of 40, as a ratio measured in the same run. Needs
//! the server binary beside this one's target (`cargo build -p fabrik-server`).
//! `cargo bench -p fabrik-cli --bench daemon`.
#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::time::{Duration, Instant};

fn median_show(server: &Server, run: &str) -> Duration {
    let mut times: Vec<Duration> = (0..40)
        .map(|_| {
            let start = Instant::now();
            let out = fabrik(server, &["runs", "show", run, "-o", "json"], None);
            assert!(out.status.success());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let server = start();
    sign_in(&server);
    let api = Api::new(&server.base).await;
    let run = demo_at_gate(&api).await;
    let direct = median_show(&server, &run);
    assert!(fabrik(&server, &["daemon", "start"], None).status.success());
    let _ = fabrik(&server, &["runs", "show", &run], None); // fills the cache
    let via_daemon = median_show(&server, &run);
    let _ = fabrik(&server, &["daemon", "stop"], None);
    println!("# fabrik runs show: via the daemon vs straight to the server (median of 40)\n");
    println!("| direct | via the daemon | daemon / direct |\n|---|---|---|");
    println!(
        "| {:.1} ms | {:.1} ms | {:.2}× |",
        direct.as_secs_f64() * 1000.0,
        via_daemon.as_secs_f64() * 1000.0,
        via_daemon.as_secs_f64() / direct.as_secs_f64()
    );
}
