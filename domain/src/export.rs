//! CSV for the runs list export (the metrics export has its own columns).
use crate::run::RunSummary;
use crate::time::rfc3339;

/// Quotes a field that holds a comma, quote or line break; doubles its quotes. A field
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The runs list as the page filters it, one row per run.
pub fn runs_list_csv(runs: &[RunSummary], now_ms: i64) -> String {
    let mut out = String::from(
        "run_id,status,template,spec,project,env,backend,created_at,started_at,finished_at,duration_seconds,tasks_finished,tasks_total,current_task,needs_feedback,error\n",
    );
    let optional = |v: &Option<String>| v.as_deref().map(csv_field).unwrap_or_default();
    let time = |ms: Option<i64>| ms.map(rfc3339).unwrap_or_default();
    for r in runs {
        let row = [
            csv_field(&r.run_id),
            r.status.as_str().to_string(),
            csv_field(&r.template),
            optional(&r.spec),
            optional(&r.project),
            optional(&r.env),
            csv_field(&r.backend),
            rfc3339(r.created_at_ms),
            time(r.started_at_ms),
            time(r.finished_at_ms),
            r.duration_ms(now_ms)
                .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                .unwrap_or_default(),
            r.progress.finished.to_string(),
            r.progress.total.to_string(),
            optional(&r.task),
            r.needs_feedback.to_string(),
            optional(&r.error),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
