//! `fabrik env ls|pull|push|set|diff|validate`: env sets as `.env` files, read and
//! checked with the same rules as the server's.
use super::Session;
use crate::client::segment;
use crate::error::{CliError, Result};
use crate::output::{self, Cell, Table, Tone};
use domain::env::{diff, parse, EnvSetSummary, EnvSetView, EnvVars};
use serde_json::{json, Value};
use std::path::Path;

fn set_path(project: &str, env: &str) -> String {
    format!("/env/{}/{}", segment(project), segment(env))
}

pub async fn list(s: &Session) -> Result<i32> {
    let sets: Value = s.client.get("/env").await?;
    output::print(s.format, &sets, |v| {
        let sets: Vec<EnvSetSummary> = crate::client::typed(&v["env_sets"])?;
        Ok(Table {
            headers: vec!["project", "env", "keys", "version", "missing", "updated by"],
            rows: sets
                .into_iter()
                .map(|set| {
                    let missing = match set.missing_required.is_empty() {
                        true => Cell::toned("-", Tone::Dim),
                        false => Cell::toned(set.missing_required.join(","), Tone::Bad),
                    };
                    vec![
                        set.project.into(),
                        set.env.into(),
                        set.keys.to_string().into(),
                        set.version.to_string().into(),
                        missing,
                        set.updated_by.into(),
                    ]
                })
                .collect(),
        })
    })?;
    Ok(0)
}

/// The set as a `.env` file: to `file`, or to standard output.
pub async fn pull(s: &Session, project: &str, env: &str, file: Option<&Path>) -> Result<i32> {
    let text = s
        .client
        .text(&format!("{}/dotenv", set_path(project, env)))
        .await?;
    match file {
        Some(path) => {
            std::fs::write(path, &text)?;
            eprintln!("Wrote {project}/{env} to {}.", path.display());
        }
        None => print!("{text}"),
    }
    Ok(0)
}

/// A `.env` file read as the server reads one; every bad line named.
fn read_file(file: &Path) -> Result<EnvVars> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
    let parsed = parse(&text).map_err(|problems| {
        CliError::Usage(format!(
            "{} is not a .env file this server takes:\n{}",
            file.display(),
            domain::env::describe(&problems)
        ))
    })?;
    for warning in &parsed.warnings {
        eprintln!("{}: {warning}", file.display());
    }
    Ok(parsed.vars)
}

/// The file becomes the whole set (keys not in it go), as of the version read first:
/// someone else's save in between is refused, not overwritten.
pub async fn push(s: &Session, project: &str, env: &str, file: &Path) -> Result<i32> {
    let vars = read_file(file)?;
    let current = current(s, project, env).await?;
    let before = current
        .as_ref()
        .and_then(|c| c.revealed_vars())
        .unwrap_or_default();
    let body = json!({"vars": vars, "version": current.as_ref().map(|c| c.version)});
    let saved: Value = s.client.put(&set_path(project, env), &body).await?;
    let change = diff(&before, &vars);
    output::print(s.format, &saved, |v| {
        let set: EnvSetView = crate::client::typed(v)?;
        Ok(Table {
            headers: vec!["set", "version", "change"],
            rows: vec![vec![
                format!("{project}/{env}").into(),
                set.version.to_string().into(),
                change.summary().into(),
            ]],
        })
    })?;
    Ok(0)
}

/// The set revealed, or none yet.
async fn current(s: &Session, project: &str, env: &str) -> Result<Option<EnvSetView>> {
    match s
        .client
        .get::<EnvSetView>(&format!("{}?reveal=true", set_path(project, env)))
        .await
    {
        Ok(set) => Ok(Some(set)),
        Err(CliError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `KEY=VALUE` pairs, each set on its own; the other keys stay as they are.
pub async fn set(s: &Session, project: &str, env: &str, pairs: &[String]) -> Result<i32> {
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::Usage(format!(
                "'{pair}' is not KEY=VALUE (e.g. LOG_LEVEL=debug)."
            )));
        };
        let path = format!("{}/keys/{}", set_path(project, env), segment(key));
        let _: Value = s.client.put(&path, &json!({"value": value})).await?;
        eprintln!("Set {key} in {project}/{env}.");
    }
    Ok(0)
}

/// What pushing `file` would change: keys added, modified, deleted (never values).
pub async fn show_diff(s: &Session, project: &str, env: &str, file: &Path) -> Result<i32> {
    let vars = read_file(file)?;
    let before = current(s, project, env)
        .await?
        .and_then(|c| c.revealed_vars())
        .unwrap_or_default();
    let change = diff(&before, &vars);
    output::print(s.format, &change, |d| {
        let rows = [
            ("+", &d.added, Tone::Good),
            ("~", &d.modified, Tone::Warn),
            ("-", &d.deleted, Tone::Bad),
        ]
        .into_iter()
        .flat_map(|(mark, keys, tone)| {
            keys.iter()
                .map(move |k| vec![Cell::toned(mark, tone), k.clone().into()])
        })
        .collect();
        Ok(Table {
            headers: vec!["", "key"],
            rows,
        })
    })?;
    Ok(
        if change.added.is_empty() && change.modified.is_empty() && change.deleted.is_empty() {
            0
        } else {
            1
        },
    )
}

/// Whether the set has every key its project requires (exit 1 when not).
pub async fn validate(s: &Session, project: &str, env: &str) -> Result<i32> {
    let answer: Value = s
        .client
        .post(&format!("{}/validate", set_path(project, env)), &json!({}))
        .await?;
    let ok = answer["ok"] == true;
    output::print(s.format, &answer, |v| {
        let missing: Vec<String> = crate::client::typed(&v["missing_required"])?;
        Ok(Table {
            headers: vec!["set", "result"],
            rows: vec![vec![
                format!("{project}/{env}").into(),
                match missing.is_empty() {
                    true => Cell::toned("ok", Tone::Good),
                    false => Cell::toned(format!("missing {}", missing.join(", ")), Tone::Bad),
                },
            ]],
        })
    })?;
    Ok(if ok { 0 } else { 1 })
}
