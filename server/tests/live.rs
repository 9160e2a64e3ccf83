//! The live path under many watchers: every open event stream gets the same run events
//! in the same order, from writes to a genuine demo run's Smithers DB.
mod common;

use common::*;
use futures::StreamExt;
use std::time::Duration;

const CLIENTS: usize = 1000;
const WRITES: u32 = 12;

/// The `data:` of each `run` event about `run_id`, until one says `last`; each is also
/// sent to `pace`, if given, as it arrives.
async fn run_events(
    resp: reqwest::Response,
    run_id: String,
    last: String,
    pace: Option<tokio::sync::mpsc::UnboundedSender<String>>,
) -> Vec<String> {
    let mut body = resp.bytes_stream();
    let (mut buf, mut seen) = (String::new(), Vec::new());
    while let Some(chunk) = body.next().await {
        buf.push_str(&String::from_utf8_lossy(
            &chunk.expect("the stream goes on"),
        ));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
            let is_run = frame.lines().any(|l| l == "event: run");
            match data {
                Some(data) if is_run && data.contains(&run_id) => {
                    if let Some(pace) = &pace {
                        let _ = pace.send(data.to_string());
                    }
                    seen.push(data.to_string());
                    if data.contains(&last) {
                        return seen;
                    }
                }
                _ => {}
            }
        }
    }
    panic!("the stream ended after {} events", seen.len());
}

/// The test holds 1,000 sockets: more than a soft limit of 1,024 open files leaves room
/// for (the server lifts its own).
fn raise_open_files_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_streams_get_every_event_in_the_same_order() {
    raise_open_files_limit();
    let tmp = tempfile::tempdir().unwrap();
    fast_demo_template(tmp.path(), 150);
    let server = Server::start_with(tmp.path(), &[("FABRIK_MAX_STREAMS_PER_USER", "1100")]);
    let c = server.admin().await;
    let (id, detail) = demo_at_gate(&c, &server).await;
    let total = detail["summary"]["progress"]["total"]
        .as_u64()
        .expect("a node count") as u32;
    let last = format!("\"total\":{}", total + WRITES);

    let mut streams = Vec::new();
    for _ in 0..CLIENTS {
        let resp = c.get(server.url("/api/v1/events")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        streams.push(tokio::spawn(run_events(
            resp,
            id.clone(),
            last.clone(),
            None,
        )));
    }
    // One more stream paces the writes: the next is made once this one has the last as
    // an event of its own (the API may read a write before the watcher streams it, and
    // the server rightly folds writes made faster than it reads them into one event).
    let (pace_tx, mut pace) = tokio::sync::mpsc::unbounded_channel();
    let resp = c.get(server.url("/api/v1/events")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    tokio::spawn(run_events(resp, id.clone(), last.clone(), Some(pace_tx)));
    // Each new finished node is one more in the run's progress: an event per write.
    let db = rusqlite::Connection::open(run_db(&server, &id)).unwrap();
    for k in 1..=WRITES {
        db.execute(
            "INSERT INTO _smithers_nodes (run_id, node_id, iteration, state, updated_at_ms, output_table) \
             VALUES (?1, ?2, 0, 'finished', ?3, 'out')",
            rusqlite::params![id, format!("extra-{k}"), 1_900_000_000_000i64 + k as i64],
        )
        .unwrap();
        let want = format!("\"total\":{}", total + k);
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(event) = pace.recv().await {
                if event.contains(&want) {
                    return;
                }
            }
            panic!("the pacing stream ended");
        })
        .await
        .unwrap_or_else(|_| panic!("write {k} reaches an event stream"));
    }

    let mut sequences = Vec::new();
    for s in streams {
        let seen = tokio::time::timeout(Duration::from_secs(60), s)
            .await
            .expect("every stream gets the last write")
            .unwrap();
        sequences.push(seen);
    }
    let first = &sequences[0];
    for k in 1..=WRITES {
        let total = format!("\"total\":{}", total + k);
        assert!(
            first.iter().any(|e| e.contains(&total)),
            "write {k} was streamed"
        );
    }
    assert!(
        sequences.iter().all(|s| s == first),
        "every stream got the same {} events in the same order",
        first.len()
    );
}
