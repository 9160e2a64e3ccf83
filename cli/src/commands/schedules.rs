//! `fabrik schedule list|create|delete|suspend|resume|trigger` (and `fabrik run
//! --cron`, which creates one).
use super::Session;
use crate::client::segment;
use crate::client::typed;
use crate::error::Result;
use crate::output::{self, Cell, Table, Tone};
use domain::schedule::{FireOutcome, NewSchedule, ScheduleView};
use serde_json::{json, Value};

fn table(views: &[ScheduleView]) -> Table {
    Table {
        headers: vec!["name", "cron", "zone", "policy", "next", "last"],
        rows: views
            .iter()
            .map(|v| {
                let next = match (v.suspended, &v.next_fire_local) {
                    (true, _) => Cell::toned("suspended", Tone::Warn),
                    (false, Some(at)) => at.clone().into(),
                    (false, None) => Cell::toned("-", Tone::Dim),
                };
                let last = match v.history.first().map(|f| &f.outcome) {
                    Some(FireOutcome::Started { run_id }) => {
                        Cell::toned(format!("started {run_id}"), Tone::Good)
                    }
                    Some(FireOutcome::Failed { error }) => {
                        Cell::toned(format!("failed: {error}"), Tone::Bad)
                    }
                    Some(other) => Cell::toned(format!("{other:?}").to_lowercase(), Tone::Warn),
                    None => Cell::toned("-", Tone::Dim),
                };
                vec![
                    v.name.clone().into(),
                    v.cron.clone().into(),
                    v.timezone.clone().into(),
                    format!("{:?}", v.concurrency).into(),
                    next,
                    last,
                ]
            })
            .collect(),
    }
}

pub async fn list(s: &Session) -> Result<i32> {
    let all: Value = s.client.get("/schedules").await?;
    output::print(s.format, &all, |v| {
        Ok(table(&typed::<Vec<ScheduleView>>(&v["schedules"])?))
    })?;
    Ok(0)
}

pub async fn create(s: &Session, schedule: NewSchedule) -> Result<i32> {
    let view: Value = s.client.post("/schedules", &schedule).await?;
    output::print(s.format, &view, |v| Ok(table(&[typed::<ScheduleView>(v)?])))?;
    Ok(0)
}

pub async fn delete(s: &Session, name: &str) -> Result<i32> {
    s.client
        .delete(&format!("/schedules/{}", segment(name)))
        .await?;
    eprintln!("Deleted schedule {name}; its runs so far stay.");
    Ok(0)
}

/// `suspend`, `resume` or `trigger`.
pub async fn act(s: &Session, name: &str, action: &str) -> Result<i32> {
    let path = format!("/schedules/{}/{action}", segment(name));
    let view: Value = s.client.post(&path, &json!({})).await?;
    output::print(s.format, &view, |v| Ok(table(&[typed::<ScheduleView>(v)?])))?;
    Ok(0)
}
