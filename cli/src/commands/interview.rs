//! `fabrik spec interview`: fabrik's 10 questions in the terminal, each answer checked
//! with the web wizard's own rules (the domain's `STEPS`) before the next question,
//! then the spec saved on the server (or written to a file).
use super::Session;
use crate::error::{CliError, Result};
use crate::output::{self, Table};
use domain::spec::{Spec, STEPS};
use serde_json::Value;
use std::io::{BufRead, Write};
use std::path::Path;

/// How a step's answer is read: one line, or items until an empty line.
enum Answer {
    Line(fn(&mut Spec, String)),
    Items(fn(&mut Spec, Vec<String>)),
    /// The status step: a new spec is a draft; Enter keeps it.
    Keep,
}

fn answer_of(step: usize) -> Answer {
    match step {
        1 => Answer::Line(|s, v| s.id = v),
        2 => Answer::Line(|s, v| s.title = v),
        3 => Answer::Keep,
        4 => Answer::Items(|s, v| s.goals = v),
        5 => Answer::Items(|s, v| s.non_goals = v),
        6 => Answer::Items(|s, v| s.req.api = v),
        7 => Answer::Items(|s, v| s.req.behavior = v),
        8 => Answer::Items(|s, v| s.req.obs = v),
        9 => Answer::Items(|s, v| s.accept = v),
        _ => Answer::Items(|s, v| s.assume = v),
    }
}

/// Asks every question on `input`, prompts and problems on standard error; the spec
/// once every step passes.
pub fn ask(input: &mut impl BufRead, today: &str) -> Result<Spec> {
    let mut spec = Spec::new_draft(today);
    let mut err = std::io::stderr();
    for step in &STEPS {
        loop {
            writeln!(
                err,
                "\n{}/10 {}: {}",
                step.number, step.title, step.guidance
            )?;
            match answer_of(step.number) {
                Answer::Line(set) => {
                    write!(err, "> ")?;
                    err.flush()?;
                    set(&mut spec, read_line(input)?);
                }
                Answer::Items(set) => {
                    writeln!(err, "One per line; an empty line ends the list.")?;
                    set(&mut spec, read_items(input)?);
                }
                Answer::Keep => {
                    write!(err, "[{}] > ", spec.status)?;
                    err.flush()?;
                    let line = read_line(input)?;
                    if !line.is_empty() {
                        spec.status = line;
                    }
                }
            }
            let problems = step.problems(&spec);
            if problems.is_empty() {
                break;
            }
            for p in problems {
                writeln!(err, "  ✗ {p}")?;
            }
            writeln!(err, "Answer this question again.")?;
        }
    }
    Ok(spec)
}

fn read_line(input: &mut impl BufRead) -> Result<String> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Err(CliError::Usage(
            "The answers ended before the interview did: nothing was saved.".into(),
        ));
    }
    Ok(line.trim().to_string())
}

fn read_items(input: &mut impl BufRead) -> Result<Vec<String>> {
    let mut items = Vec::new();
    loop {
        eprint!("- ");
        let line = read_line(input)?;
        if line.is_empty() {
            return Ok(items);
        }
        items.push(line);
    }
}

/// The interview, then the spec stored on the server, or written to `file`.
pub async fn interview(s: Option<&Session>, file: Option<&Path>) -> Result<i32> {
    let today = domain::time::rfc3339(now_ms())[..10].to_string();
    let spec = ask(&mut std::io::stdin().lock(), &today)?;
    if let Some(path) = file {
        let text =
            serde_json::to_string_pretty(&spec).map_err(|e| CliError::Failed(e.to_string()))?;
        std::fs::write(path, text + "\n")?;
        eprintln!("Wrote {} to {}.", spec.id, path.display());
        return Ok(0);
    }
    let Some(s) = s else {
        return Err(CliError::Usage(
            "Sign in first, or give --file to write the spec locally.".into(),
        ));
    };
    let view: Value = s.client.post("/specs", &spec).await?;
    output::print(s.format, &view, |_| {
        Ok(Table {
            headers: vec!["spec", "status", "next"],
            rows: vec![vec![
                spec.id.clone().into(),
                spec.status.clone().into(),
                format!("fabrik todo generate {}", spec.id).into(),
            ]],
        })
    })?;
    Ok(0)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_is_checked_with_the_wizards_rules_and_asked_again() {
        let answers = "Weekly Summary\nweekly-summary\nSummarise each week's runs in one page\n\n\
            Publish the summary every Monday by 09:00\nLink every failed run with its reason\nKeep the page under 200 KB\n\n\
            Edit runs\n\n\n\
            Given a finished week When Monday 09:00 comes Then the summary is published\n\n\
            A metric counts summaries published\n\n\
            The summary lists 100% of the week's failed runs\n\n\
            Runs keep their reports for a week\n\n";
        let spec = ask(&mut answers.as_bytes(), "2026-11-26").unwrap();
        assert_eq!(spec.id, "weekly-summary", "the bad id was asked again");
        assert_eq!(spec.goals.len(), 3);
        assert_eq!(spec.status, "draft");
        assert!(
            domain::spec::check_spec(&spec).is_empty(),
            "{:?}",
            domain::spec::check_spec(&spec)
        );
        let cut = "weekly-summary\n";
        let e = ask(&mut cut.as_bytes(), "2026-11-26").unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
