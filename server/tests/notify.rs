//! Notifications end to end: a real server, a real demo run reaching its gate, and
//! every channel played by a local receiver; Web Push payloads decrypted by an
//! independent RFC 8291 implementation (PyPI http-ece).
mod common;

use common::receiver::{Answer, Receiver, Recorded};
use common::*;
use fabrik_server::notify::push::Vapid;
use fabrik_server::store::{Store, StoredSubscription, TokenUse};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn python() -> PathBuf {
    let py = repo_root().join(".tools/py/bin/python");
    assert!(
        py.exists(),
        "run scripts/setup.sh: it installs the Python test helpers in .tools/py"
    );
    py
}

fn helper(args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(repo_root().join("server/tests/helpers/webpush.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "webpush.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A browser-like subscriber: keys only it can decrypt with.
struct Browser {
    keys: Value,
    keys_file: tempfile::NamedTempFile,
}

impl Browser {
    fn new() -> Browser {
        let keys = helper(&["keygen"]);
        let keys_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(keys_file.path(), keys.to_string()).unwrap();
        Browser { keys, keys_file }
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "keys": {"p256dh": self.keys["p256dh"], "auth": self.keys["auth"]}})
    }

    /// The push as the browser would read it, and the checked VAPID claims.
    fn open(&self, push: &Recorded, audience: &str) -> Value {
        let body = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(body.path(), &push.body).unwrap();
        let keys = self.keys_file.path().to_str().unwrap();
        helper(&[
            "decrypt",
            keys,
            body.path().to_str().unwrap(),
            &push.header("authorization"),
            audience,
        ])
    }
}

#[tokio::test]
async fn push_payloads_decrypt_with_an_independent_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let vapid = Vapid::open(
        &dir.path().join("vapid.key"),
        "mailto:ops@example.com".into(),
    )
    .unwrap();
    let browser = Browser::new();
    let sub = StoredSubscription {
        id: 1,
        username: "ada".into(),
        endpoint: "https://push.example.com/send/abc".into(),
        p256dh: browser.keys["p256dh"].as_str().unwrap().into(),
        auth: browser.keys["auth"].as_str().unwrap().into(),
    };
    let payload = json!({"title": "Run 123 is waiting", "body": "ünïcode ✓"}).to_string();
    let request = vapid
        .request(&sub, payload.as_bytes(), Some("gate-123"))
        .unwrap();
    assert_eq!(request.headers()["content-encoding"], "aes128gcm");
    assert!(
        request.headers()["ttl"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(request.headers()["topic"].len(), 32);
    assert_ne!(request.body(), payload.as_bytes(), "the body is encrypted");
    let recorded = Recorded {
        method: "POST".into(),
        path: "/send/abc".into(),
        headers: request.headers().clone(),
        body: request.body().clone(),
        status: 201,
    };
    let opened = browser.open(&recorded, "https://push.example.com");
    assert_eq!(
        opened["payload"],
        serde_json::from_str::<Value>(&payload).unwrap()
    );
    assert_eq!(opened["claims"]["sub"], "mailto:ops@example.com");
    assert_eq!(
        opened["vapid_key"],
        vapid.public_key(),
        "signed by the key browsers subscribe with"
    );
}

/// An SMTP sink (aiosmtpd) printing each message it receives.
struct SmtpSink {
    port: u16,
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail.txt");
        let child = Command::new(python())
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Debugging",
                "stdout",
                "-l",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink {
            port,
            child,
            out,
            _dir: dir,
        }
    }

    fn mail(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    async fn wait_for(&self, needle: &str, count: usize) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mail = self.mail();
            if mail.matches(needle).count() >= count {
                return mail;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {count}× '{needle}' in the mail: {mail}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn put(c: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let r = c.put(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn add_user(
    admin: &reqwest::Client,
    server: &Server,
    name: &str,
    role: &str,
) -> reqwest::Client {
    let (code, body) = post(
        admin,
        &server.url("/api/v1/users"),
        json!({"username": name, "password": "a-long-password-1", "role": role}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    server.client_for(name, "a-long-password-1").await
}

async fn subscribe(
    c: &reqwest::Client,
    server: &Server,
    browser: &Browser,
    endpoint: &str,
) -> Value {
    let (code, body) = post(
        c,
        &server.url("/api/v1/push/subscriptions"),
        browser.subscription(endpoint),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    body
}

fn start_notifying(data_dir: &Path) -> Server {
    Server::start_with(
        data_dir,
        &[
            ("FABRIK_ALLOW_HTTP_PUSH", "true"),
            ("FABRIK_NOTIFY_RETRY_MS", "200"),
        ],
    )
}

async fn set_channel(admin: &reqwest::Client, server: &Server, kind: &str, config: Value) {
    let (code, body) = put(
        admin,
        &server.url(&format!("/api/v1/notifications/channels/{kind}")),
        json!({"enabled": true, "config": config}),
    )
    .await;
    assert_eq!(code, 200, "{kind}: {body}");
}

fn requests_with(seen: &[Recorded], needle: &str) -> Vec<Recorded> {
    seen.iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains(needle))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_gate_pages_every_channel_and_approve_in_the_push_decides_it() {
    let dir = tempfile::tempdir().unwrap();
    fast_demo_template(dir.path(), 150);
    let server = start_notifying(dir.path());
    let admin = server.admin().await;
    let (push, zulip, pd, am) = (
        Receiver::start(Answer::Status(201)).await,
        Receiver::start(Answer::Status(200)).await,
        Receiver::start(Answer::Status(202)).await,
        Receiver::start(Answer::Status(200)).await,
    );
    let smtp = SmtpSink::start();
    let (code, _) = put(
        &admin,
        &server.url("/api/v1/notifications/settings"),
        json!({"external_url": "https://fabrik.example.com", "escalate_after_minutes": 60}),
    )
    .await;
    assert_eq!(code, 200);
    set_channel(&admin, &server, "zulip", json!({"kind": "zulip", "site": zulip.url, "bot_email": "fabrik-bot@zulip.example.com", "api_key": "ZULIP-KEY", "stream": "runs"})).await;
    set_channel(&admin, &server, "pagerduty", json!({"kind": "pagerduty", "routing_key": "PD-ROUTING-KEY", "events_url": format!("{}/v2/enqueue", pd.url)})).await;
    set_channel(
        &admin,
        &server,
        "alertmanager",
        json!({"kind": "alertmanager", "url": am.url}),
    )
    .await;
    set_channel(&admin, &server, "email", json!({"kind": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "fabrik@example.com", "to": "ops@example.com, lead@example.com"})).await;
    let (_, channels) = get(&admin, &server.url("/api/v1/notifications/channels")).await;
    let listed = channels.to_string();
    assert!(
        !listed.contains("ZULIP-KEY") && !listed.contains("PD-ROUTING-KEY"),
        "secrets masked: {listed}"
    );

    let olga = add_user(&admin, &server, "olga", "operator").await;
    let vic = add_user(&admin, &server, "vic", "viewer").await;
    let (admin_browser, olga_browser, vic_browser) =
        (Browser::new(), Browser::new(), Browser::new());
    subscribe(
        &admin,
        &server,
        &admin_browser,
        &format!("{}/push/admin", push.url),
    )
    .await;
    subscribe(
        &olga,
        &server,
        &olga_browser,
        &format!("{}/push/olga", push.url),
    )
    .await;
    subscribe(
        &vic,
        &server,
        &vic_browser,
        &format!("{}/push/vic", push.url),
    )
    .await;

    let (run_id, _) = demo_at_gate(&admin, &server).await;
    let pushes = push.wait_for(2, WAIT).await;
    let mut paths: Vec<_> = pushes.iter().map(|p| p.path.clone()).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/push/admin", "/push/olga"],
        "everyone who may decide, not the viewer"
    );
    let olga_push = pushes.iter().find(|p| p.path == "/push/olga").unwrap();
    assert_eq!(olga_push.header("content-encoding"), "aes128gcm");
    let opened = olga_browser.open(olga_push, &push.url);
    let payload = &opened["payload"];
    assert_eq!(payload["type"], "gate");
    assert_eq!(payload["run_id"], run_id.as_str());
    assert_eq!(
        payload["url"],
        format!("https://fabrik.example.com/runs/{run_id}/feedback")
    );
    assert!(
        payload["body"].as_str().unwrap().contains("template demo"),
        "{payload}"
    );
    let token = payload["approve"]["token"].as_str().unwrap().to_string();

    // Every channel, in the shape its service documents.
    let z = &zulip.wait_for(1, WAIT).await[0];
    assert_eq!(
        (z.method.as_str(), z.path.as_str()),
        ("POST", "/api/v1/messages")
    );
    let basic = base64_of("fabrik-bot@zulip.example.com:ZULIP-KEY");
    assert_eq!(
        z.header("authorization"),
        format!("Basic {basic}"),
        "the stored key, not the mask"
    );
    let form = z.form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(field("type"), "stream");
    assert_eq!(field("to"), "runs");
    assert!(field("topic").starts_with("run "), "{form:?}");
    assert!(field("content").contains(&run_id), "{form:?}");
    let p = pd.wait_for(1, WAIT).await[0].json();
    assert_eq!(pd.seen()[0].path, "/v2/enqueue");
    assert_eq!(p["routing_key"], "PD-ROUTING-KEY");
    assert_eq!(p["event_action"], "trigger");
    assert_eq!(p["payload"]["severity"], "warning");
    assert_eq!(p["payload"]["source"], "fabrik");
    assert!(p["payload"]["summary"]
        .as_str()
        .unwrap()
        .contains("waiting for approval"));
    assert_eq!(p["payload"]["custom_details"]["run_id"], run_id.as_str());
    assert_eq!(
        p["links"][0]["href"],
        format!("https://fabrik.example.com/runs/{run_id}/feedback")
    );
    let dedup = p["dedup_key"].as_str().unwrap().to_string();
    assert!(dedup.contains(&run_id));
    let a = am.wait_for(1, WAIT).await[0].clone();
    assert_eq!(a.path, "/api/v2/alerts");
    let alerts = a.json();
    assert_eq!(alerts[0]["labels"]["alertname"], "FabrikGateWaiting");
    assert_eq!(alerts[0]["labels"]["run_id"], run_id.as_str());
    assert!(alerts[0]["startsAt"].as_str().unwrap().ends_with('Z'));
    assert!(alerts[0].get("endsAt").is_none());
    let mail = smtp.wait_for("is waiting for approval", 1).await;
    assert!(
        mail.contains("To: ops@example.com, lead@example.com"),
        "{mail}"
    );
    assert!(mail.contains(&run_id), "{mail}");

    // The token: only its user, only its run, once.
    let approve = server.url("/api/v1/push/approve");
    let (code, body) = post(&vic, &approve, json!({"token": token, "run_id": run_id})).await;
    assert_eq!(code, 403, "another signed-in user: {body}");
    let (code, body) = post(&admin, &approve, json!({"token": token, "run_id": run_id})).await;
    assert_eq!(code, 403, "the admin is not olga either: {body}");
    let (code, body) = post(
        &reqwest::Client::new(),
        &approve,
        json!({"token": token, "run_id": "01OTHER"}),
    )
    .await;
    assert_eq!(code, 403, "another run: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("another run"));
    let (code, body) = post(
        &reqwest::Client::new(),
        &approve,
        json!({"token": token, "run_id": run_id}),
    )
    .await;
    assert_eq!(code, 200, "from the notification, with no session: {body}");
    let (code, body) = post(
        &reqwest::Client::new(),
        &approve,
        json!({"token": token, "run_id": run_id}),
    )
    .await;
    assert_eq!(code, 409, "a replay: {body}");
    let detail = wait_for(&admin, &server, &run_id, "the run to go on", |d| {
        status_of(d) != "waiting-approval"
    })
    .await;
    let gate = &detail["smithers"]["gates"][0];
    assert_eq!(gate["decided_by"], "olga", "{gate}");

    // The decision reaches every channel that heard of the gate.
    let resolve = requests_with(&pd.wait_for(2, WAIT).await, "\"resolve\"");
    assert_eq!(resolve.len(), 1);
    assert_eq!(resolve[0].json()["dedup_key"], dedup.as_str());
    let ended = am.wait_for(2, WAIT).await[1].json();
    assert!(ended[0]["endsAt"].as_str().is_some(), "{ended}");
    assert_eq!(
        ended[0]["labels"], alerts[0]["labels"],
        "the same alert, ended"
    );
    let z2 = zulip.wait_for(2, WAIT).await[1].form();
    assert!(
        z2.iter().any(|(k, v)| k == "topic" && *v == field("topic")),
        "same topic: {z2:?}"
    );
    assert!(
        z2.iter().any(|(k, v)| k == "content" && v.contains("olga")),
        "{z2:?}"
    );
    smtp.wait_for("was approved", 1).await;
    let pushes = push.wait_for(4, WAIT).await;
    let follow_up = pushes
        .iter()
        .rev()
        .find(|p| p.path == "/push/olga")
        .unwrap();
    let confirmed = olga_browser.open(follow_up, &push.url);
    assert_eq!(confirmed["payload"]["type"], "decided");
    assert!(
        confirmed["payload"].get("approve").is_none(),
        "a decided gate offers no Approve"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(push.seen().len(), 4, "nothing sent twice");
    assert_eq!(pd.seen().len(), 2);
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn approve_tokens_are_spent_once_under_a_burst_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("fabrik.db")).unwrap();
    let alert = domain::notify::GateAlert::sample(0);
    let now = fabrik_server::clock::now_ms();
    let hash = |t: &str| fabrik_server::service::token_hash(t);
    store
        .issue_approve_token(hash("good"), &alert, "ada".into(), now + 60_000)
        .await
        .unwrap();
    store
        .issue_approve_token(hash("old"), &alert, "ada".into(), now - 1)
        .await
        .unwrap();

    let run = alert.run_id.clone();
    let wrong_run = store
        .spend_approve_token(hash("good"), "other".into(), None, now)
        .await
        .unwrap();
    assert_eq!(wrong_run, TokenUse::WrongRun);
    let wrong_user = store
        .spend_approve_token(hash("good"), run.clone(), Some("bob".into()), now)
        .await
        .unwrap();
    assert_eq!(wrong_user, TokenUse::WrongUser, "refusals don't spend it");
    let burst = (0..32).map(|_| {
        let (store, run, h) = (store.clone(), run.clone(), hash("good"));
        tokio::spawn(async move { store.spend_approve_token(h, run, None, now).await.unwrap() })
    });
    let outcomes: Vec<TokenUse> = futures::future::join_all(burst)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let spent = outcomes
        .iter()
        .filter(|o| matches!(o, TokenUse::Spent { .. }))
        .count();
    assert_eq!(spent, 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, TokenUse::Spent { .. } | TokenUse::Used)));
    let expired = store
        .spend_approve_token(hash("old"), run.clone(), None, now)
        .await
        .unwrap();
    assert_eq!(expired, TokenUse::Expired);
    let unknown = store
        .spend_approve_token(hash("made-up"), run, None, now)
        .await
        .unwrap();
    assert_eq!(unknown, TokenUse::Unknown);
}

async fn outbox(admin: &reqwest::Client, server: &Server) -> Value {
    get(admin, &server.url("/api/v1/notifications/outbox"))
        .await
        .1
}

async fn wait_outbox(
    admin: &reqwest::Client,
    server: &Server,
    what: &str,
    cond: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let o = outbox(admin, server).await;
        if cond(&o) {
            return o;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox never got to {what}: {o}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_channel_down_for_a_while_gets_the_message_once_when_it_is_back() {
    let server = {
        let dir = tempfile::tempdir().unwrap().keep();
        start_notifying(&dir)
    };
    let admin = server.admin().await;
    let pd = Receiver::start(Answer::Status(503)).await;
    set_channel(
        &admin,
        &server,
        "pagerduty",
        json!({"kind": "pagerduty", "routing_key": "K", "events_url": pd.url}),
    )
    .await;
    let (code, _) = post(
        &admin,
        &server.url("/api/v1/notifications/channels/pagerduty/test"),
        json!({}),
    )
    .await;
    assert_eq!(code, 202);
    pd.wait_for(3, WAIT).await;
    let (_, channels) = get(&admin, &server.url("/api/v1/notifications/channels")).await;
    let row = channels["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "pagerduty")
        .unwrap()
        .clone();
    assert!(row["last_error"].as_str().unwrap().contains("503"), "{row}");
    pd.answer(Answer::Status(202));
    wait_outbox(&admin, &server, "sent", |o| o["sent"] == 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen = pd.seen();
    let delivered = seen.iter().filter(|r| r.status == 202).count();
    assert_eq!(
        delivered,
        1,
        "delivered once: {:?}",
        seen.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(seen.len() >= 4 && seen[..seen.len() - 1].iter().all(|r| r.status == 503));
    let o = outbox(&admin, &server).await;
    assert_eq!(
        (o["pending"].as_i64(), o["failed"].as_i64()),
        (Some(0), Some(0)),
        "{o}"
    );
}

#[tokio::test]
async fn a_message_in_flight_when_the_server_is_killed_goes_out_after_restart_and_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_notifying(dir.path());
    let admin = server.admin().await;
    let zulip = Receiver::start(Answer::Status(200)).await;
    let am = Receiver::start(Answer::Hold(Duration::from_secs(60))).await;
    set_channel(&admin, &server, "zulip", json!({"kind": "zulip", "site": zulip.url, "bot_email": "b@x.org", "api_key": "k", "stream": "s"})).await;
    set_channel(
        &admin,
        &server,
        "alertmanager",
        json!({"kind": "alertmanager", "url": am.url}),
    )
    .await;
    post(
        &admin,
        &server.url("/api/v1/notifications/channels/zulip/test"),
        json!({}),
    )
    .await;
    wait_outbox(&admin, &server, "the zulip test sent", |o| o["sent"] == 1).await;
    post(
        &admin,
        &server.url("/api/v1/notifications/channels/alertmanager/test"),
        json!({}),
    )
    .await;
    am.wait_for(1, WAIT).await;
    assert_eq!(outbox(&admin, &server).await["sending"], 1);
    server.kill(); // SIGKILL, mid-delivery

    am.answer(Answer::Status(200));
    let server = start_notifying(dir.path());
    let admin = server.admin().await;
    let seen = am.wait_for(2, WAIT).await;
    assert_eq!(
        seen[1].json()[0]["labels"]["alertname"],
        "FabrikGateWaiting"
    );
    wait_outbox(&admin, &server, "both sent", |o| {
        o["sent"] == 2 && o["sending"] == 0 && o["pending"] == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        zulip.seen().len(),
        1,
        "what was sent before the kill is not sent again"
    );
    assert_eq!(
        am.seen().len(),
        2,
        "the interrupted one once more, then done"
    );
}

#[tokio::test]
async fn a_hanging_smtp_server_holds_up_nothing_else() {
    let server = Server::start();
    let admin = server.admin().await;
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_port = hang.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in hang.incoming() {
            open.push(conn); // accept, never answer
        }
    });
    let zulip = Receiver::start(Answer::Status(200)).await;
    set_channel(&admin, &server, "email", json!({"kind": "email", "host": "127.0.0.1", "port": hang_port, "security": "none", "from": "f@example.com", "to": "t@example.com"})).await;
    set_channel(&admin, &server, "zulip", json!({"kind": "zulip", "site": zulip.url, "bot_email": "b@x.org", "api_key": "k", "stream": "s"})).await;
    post(
        &admin,
        &server.url("/api/v1/notifications/channels/email/test"),
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    post(
        &admin,
        &server.url("/api/v1/notifications/channels/zulip/test"),
        json!({}),
    )
    .await;
    zulip.wait_for(1, Duration::from_secs(3)).await;
    let o = outbox(&admin, &server).await;
    assert_eq!(
        o["sending"], 1,
        "the email is still trying while zulip is done: {o}"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, channels) = get(&admin, &server.url("/api/v1/notifications/channels")).await;
        let email = channels["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "email")
            .unwrap()
            .clone();
        if let Some(err) = email["last_error"].as_str() {
            assert!(
                err.contains("10 s") || err.contains("timed out") || err.contains("SMTP"),
                "{err}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hang was never reported"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn bad_input_gets_a_reason_and_changes_nothing() {
    let server = Server::start();
    let admin = server.admin().await;
    let browser = Browser::new();
    let subs = server.url("/api/v1/push/subscriptions");
    let (code, body) = post(
        &admin,
        &subs,
        browser.subscription("http://push.example.com/x"),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("https://"),
        "{body}"
    );
    let r = admin
        .post(&subs)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut short = browser.subscription("https://push.example.com/x");
    short["keys"]["auth"] = json!("AAAA");
    let (code, body) = post(&admin, &subs, short).await;
    assert_eq!(code, 400, "{body}");
    let (_, devices) = get(&admin, &subs).await;
    assert_eq!(devices["devices"], json!([]), "nothing was saved");

    let own = server.base.clone();
    let (code, body) = put(
        &admin,
        &server.url("/api/v1/notifications/channels/alertmanager"),
        json!({"config": {"kind": "alertmanager", "url": own}}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("this server itself"),
        "{body}"
    );
    let localhost = own.replace("127.0.0.1", "localhost");
    let (code, _) = put(
        &admin,
        &server.url("/api/v1/notifications/channels/alertmanager"),
        json!({"config": {"kind": "alertmanager", "url": localhost}}),
    )
    .await;
    assert_eq!(code, 400, "localhost is this server too");
    let (code, body) = put(
        &admin,
        &server.url("/api/v1/notifications/channels/pagerduty"),
        json!({"config": {"kind": "pagerduty", "routing_key": ""}}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("routing"),
        "{body}"
    );
    let (code, _) = put(
        &admin,
        &server.url("/api/v1/notifications/channels/sms"),
        json!({}),
    )
    .await;
    assert_eq!(code, 404);
    let (code, body) = put(
        &admin,
        &server.url("/api/v1/notifications/settings"),
        json!({"external_url": "fabrik.example.com"}),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    let (_, channels) = get(&admin, &server.url("/api/v1/notifications/channels")).await;
    assert!(
        channels["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["enabled"] == false),
        "{channels}"
    );

    let viewer = add_user(&admin, &server, "vera", "viewer").await;
    let (code, _) = put(
        &viewer,
        &server.url("/api/v1/notifications/channels/alertmanager"),
        json!({"config": {"kind": "alertmanager", "url": "http://am.example.com"}}),
    )
    .await;
    assert_eq!(code, 403);
    let (code, body) = post(&viewer, &server.url("/api/v1/push/test"), json!({})).await;
    assert_eq!(code, 400, "no browser subscribed yet: {body}");
    let (code, _) = post(
        &reqwest::Client::new(),
        &server.url("/api/v1/push/approve"),
        json!({"token": "forged", "run_id": "x"}),
    )
    .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn an_unanswered_gate_escalates_once_on_every_channel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fabrik.db");
    let store = Store::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO users (username, password_hash, role, created_at_ms) VALUES ('ada', 'x', 'operator', 0), ('vic', 'x', 'viewer', 0);
         INSERT INTO push_subscriptions (username, endpoint, p256dh, auth, device, created_at_ms) VALUES ('ada', 'https://p/1', 'k', 'a', 'd', 0), ('vic', 'https://p/2', 'k', 'a', 'd', 0);
         INSERT INTO notify_channels (kind, enabled, config, updated_at_ms) VALUES ('pagerduty', 1, x'00', 0), ('zulip', 1, x'00', 0), ('email', 0, x'00', 0);",
    )
    .unwrap();
    let now = fabrik_server::clock::now_ms();
    let mut alert = domain::notify::GateAlert::sample(now - 2 * 3_600_000);
    alert.run_id = "01RUN".into();
    assert!(store.raise_gate(alert.clone()).await.unwrap().is_some());
    assert!(
        store.raise_gate(alert.clone()).await.unwrap().is_none(),
        "raised once"
    );
    let count = |kind: &str| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT channel FROM outbox WHERE kind_name = ?1 ORDER BY channel")
            .unwrap();
        stmt.query_map([kind], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        count("gate"),
        ["pagerduty", "push", "zulip"],
        "enabled channels and the operator's browser"
    );
    assert_eq!(
        store
            .escalate_gates(now - 3 * 3_600_000, now)
            .await
            .unwrap(),
        0,
        "not yet"
    );
    assert_eq!(store.escalate_gates(now - 3_600_000, now).await.unwrap(), 1);
    assert_eq!(
        store.escalate_gates(now - 3_600_000, now).await.unwrap(),
        0,
        "once"
    );
    assert_eq!(count("escalated"), ["pagerduty", "push", "zulip"]);
    conn.execute(
        "UPDATE outbox SET state = 'sent', attempts = 1 WHERE kind_name = 'gate'",
        [],
    )
    .unwrap();
    let decided = domain::notify::AlertKind::Decided {
        decision: "approved".into(),
        by: Some("ada".into()),
    };
    assert_eq!(
        store
            .settle_gates("01RUN".into(), decided.clone(), now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(count("decided"), ["pagerduty", "push", "zulip"]);
    let unsent: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE state = 'cancelled'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        unsent, 3,
        "escalations not yet tried are dropped; the sent gate messages get a decision"
    );
    assert_eq!(
        store
            .settle_gates("01RUN".into(), decided, now)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn channel_secrets_never_reach_the_log_or_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = Server::start_logging_to(dir.path(), &log);
    let admin = server.admin().await;
    let failing = Receiver::start(Answer::Status(500)).await;
    let secrets = [
        "ZULIP-SECRET-1",
        "PD-SECRET-2",
        "AM-SECRET-3",
        "SMTP-SECRET-4",
    ];
    set_channel(&admin, &server, "zulip", json!({"kind": "zulip", "site": failing.url, "bot_email": "b@x.org", "api_key": secrets[0], "stream": "s"})).await;
    set_channel(
        &admin,
        &server,
        "pagerduty",
        json!({"kind": "pagerduty", "routing_key": secrets[1], "events_url": failing.url}),
    )
    .await;
    set_channel(
        &admin,
        &server,
        "alertmanager",
        json!({"kind": "alertmanager", "url": failing.url, "bearer_token": secrets[2]}),
    )
    .await;
    set_channel(&admin, &server, "email", json!({"kind": "email", "host": "127.0.0.1", "port": 9, "security": "none", "username": "u", "password": secrets[3], "from": "f@x.org", "to": "t@x.org"})).await;
    for kind in ["zulip", "pagerduty", "alertmanager", "email"] {
        post(
            &admin,
            &server.url(&format!("/api/v1/notifications/channels/{kind}/test")),
            json!({}),
        )
        .await;
    }
    failing.wait_for(3, WAIT).await;
    wait_outbox(&admin, &server, "every channel tried", |o| {
        o["sending"] == 0
    })
    .await;
    let (_, channels) = get(&admin, &server.url("/api/v1/notifications/channels")).await;
    let listed = channels.to_string();
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.contains("a notification was not delivered"),
        "the failures were logged"
    );
    for secret in secrets {
        assert!(!listed.contains(secret), "{secret} in the API: {listed}");
        assert!(!written.contains(secret), "{secret} in the log");
    }
    let db = std::fs::read(dir.path().join("fabrik.db")).unwrap();
    let wal = std::fs::read(dir.path().join("fabrik.db-wal")).unwrap_or_default();
    for secret in secrets {
        let needle = secret.as_bytes();
        let found = db.windows(needle.len()).any(|w| w == needle)
            || wal.windows(needle.len()).any(|w| w == needle);
        assert!(!found, "{secret} stored unsealed");
    }
}

#[tokio::test]
async fn a_subscription_the_push_service_says_is_gone_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_notifying(dir.path());
    let admin = server.admin().await;
    let gone = Receiver::start(Answer::Status(410)).await;
    let alive = Receiver::start(Answer::Status(201)).await;
    let (a, b) = (Browser::new(), Browser::new());
    subscribe(&admin, &server, &a, &format!("{}/old", gone.url)).await;
    subscribe(&admin, &server, &b, &format!("{}/new", alive.url)).await;
    let (code, body) = post(&admin, &server.url("/api/v1/push/test"), json!({})).await;
    assert_eq!((code, body["queued"].as_i64()), (202, Some(2)));
    gone.wait_for(1, WAIT).await;
    alive.wait_for(1, WAIT).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, devices) = get(&admin, &server.url("/api/v1/push/subscriptions")).await;
        let endpoints: Vec<String> = devices["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device"].to_string())
            .collect();
        if endpoints.len() == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gone one stays: {devices}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let o = wait_outbox(&admin, &server, "one failed, one sent", |o| {
        o["sent"] == 1 && o["failed"] == 1
    })
    .await;
    assert_eq!(o["pending"], 0, "a gone subscription is not retried: {o}");
    assert_eq!(gone.seen().len(), 1);
}
