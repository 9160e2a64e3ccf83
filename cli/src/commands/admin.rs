//! `fabrik credentials list`, `fabrik backup` and `fabrik doctor`.
use super::Session;
use crate::client::typed;
use crate::error::Result;
use crate::output::{self, Cell, Table, Tone};
use domain::backup::BackupView;
use domain::fleet::CredentialsView;
use serde_json::Value;

pub async fn credentials(s: &Session) -> Result<i32> {
    let view: Value = s.client.get("/admin/credentials").await?;
    print_credentials(s, &view)
}

pub async fn rotate(s: &Session, provider: &str) -> Result<i32> {
    let path = format!(
        "/admin/credentials/{}/rotate",
        crate::client::segment(provider)
    );
    let view: Value = s.client.post(&path, &serde_json::json!({})).await?;
    print_credentials(s, &view)
}

fn print_credentials(s: &Session, view: &Value) -> Result<i32> {
    output::print(s.format, view, |v| {
        let view: CredentialsView = typed(v)?;
        if let Some(note) = &view.note {
            eprintln!("{note}");
        }
        Ok(Table {
            headers: vec![
                "provider",
                "keys",
                "names",
                "runs get",
                "rate limit",
                "rotated",
            ],
            rows: view
                .providers
                .into_iter()
                .map(|p| {
                    let limit: Cell = match (p.rate_limit.limited, p.rate_limit.events_24h) {
                        (true, n) => Cell::toned(format!("limited ({n} in 24h)"), Tone::Bad),
                        (false, 0) => Cell::toned("ok", Tone::Good),
                        (false, n) => format!("ok ({n} in 24h)").into(),
                    };
                    let rotated = p
                        .rotation
                        .as_ref()
                        .map(|r| format!("{} by {}", domain::time::rfc3339(r.at_ms), r.by))
                        .unwrap_or_else(|| "never".into());
                    vec![
                        p.provider.into(),
                        p.keys.to_string().into(),
                        p.names.join(" ").into(),
                        p.rotation
                            .map(|r| r.active)
                            .unwrap_or_else(|| "as named".into())
                            .into(),
                        limit,
                        rotated.into(),
                    ]
                })
                .collect(),
        })
    })?;
    Ok(0)
}

/// Backs up now and says where it went and how to restore it.
pub async fn backup(s: &Session) -> Result<i32> {
    let made: Value = s
        .client
        .post("/admin/backups", &serde_json::json!({}))
        .await?;
    output::print(s.format, &made, |v| {
        let b: BackupView = typed(v)?;
        Ok(backup_table(vec![b]))
    })?;
    Ok(0)
}

pub async fn backups(s: &Session) -> Result<i32> {
    let list: Value = s.client.get("/admin/backups").await?;
    output::print(s.format, &list, |v| {
        let list: Vec<BackupView> = typed(v)?;
        Ok(backup_table(list))
    })?;
    Ok(0)
}

fn backup_table(list: Vec<BackupView>) -> Table {
    Table {
        headers: vec!["started", "state", "runs", "size", "by", "restore with"],
        rows: list
            .into_iter()
            .map(|b| {
                let state = match (&b.error, b.finished_at_ms) {
                    (Some(e), _) => Cell::toned(format!("failed: {e}"), Tone::Bad),
                    (None, None) => Cell::toned("running", Tone::Warn),
                    (None, Some(_)) => Cell::toned("ok", Tone::Good),
                };
                vec![
                    domain::time::rfc3339(b.started_at_ms).into(),
                    state,
                    b.runs.to_string().into(),
                    domain::units::bytes(b.bytes).into(),
                    b.by.clone().into(),
                    b.restore_command().unwrap_or_default().into(),
                ]
            })
            .collect(),
    }
}

/// One check: what was looked at, whether it is fine, and what to do if not.
struct Check {
    what: &'static str,
    ok: bool,
    detail: String,
}

/// Server reachable, token accepted, backend, and (for admins) the cluster's nodes;
/// exit 1 when any check fails.
pub async fn doctor(s: &Session) -> Result<i32> {
    let mut checks = Vec::new();
    match s.client.health().await {
        Ok(health) => checks.push(Check {
            what: "server",
            ok: true,
            detail: format!(
                "{} answers (backend {})",
                s.client.server(),
                health["backend"].as_str().unwrap_or("?")
            ),
        }),
        Err(e) => {
            checks.push(Check {
                what: "server",
                ok: false,
                detail: e.to_string(),
            });
            return report(checks);
        }
    }
    let me = s.client.get::<Value>("/auth/me").await;
    let admin = matches!(&me, Ok(me) if me["role"] == "admin");
    checks.push(match me {
        Ok(me) => Check {
            what: "sign-in",
            ok: true,
            detail: format!(
                "{} ({})",
                me["username"].as_str().unwrap_or("?"),
                me["role"].as_str().unwrap_or("?")
            ),
        },
        Err(e) => Check {
            what: "sign-in",
            ok: false,
            detail: e.to_string(),
        },
    });
    if admin {
        checks.push(match s.client.get::<Value>("/admin/cluster").await {
            Ok(fleet) => {
                let machines = fleet["machines"].as_array().cloned().unwrap_or_default();
                let not_ready: Vec<String> = machines
                    .iter()
                    .filter(|m| m["ready"] != true)
                    .map(|m| m["name"].as_str().unwrap_or("?").to_string())
                    .collect();
                Check {
                    what: "machines",
                    ok: not_ready.is_empty(),
                    detail: match not_ready.is_empty() {
                        true => format!("{} ready", machines.len()),
                        false => format!(
                            "not ready: {} (kubectl describe node …)",
                            not_ready.join(", ")
                        ),
                    },
                }
            }
            Err(e) => Check {
                what: "machines",
                ok: false,
                detail: e.to_string(),
            },
        });
    }
    report(checks)
}

fn report(checks: Vec<Check>) -> Result<i32> {
    let failed = checks.iter().any(|c| !c.ok);
    let table = Table {
        headers: vec!["check", "", "detail"],
        rows: checks
            .into_iter()
            .map(|c| {
                let mark = match c.ok {
                    true => Cell::toned("ok", Tone::Good),
                    false => Cell::toned("FAIL", Tone::Bad),
                };
                vec![c.what.into(), mark, c.detail.into()]
            })
            .collect(),
    };
    print!("{}", table.render(output::colour()));
    Ok(if failed { 1 } else { 0 })
}
