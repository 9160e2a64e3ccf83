//! fabrik's 10 interview questions as wizard steps: what each asks, the fields it
//! fills, and the rules a step must pass before Next. The browser runs these while
//! the person types; the server runs them again on save.
use super::{FieldProblem, Spec, SpecStatus};

/// One question of the interview.
pub struct Step {
    pub number: usize,
    pub title: &'static str,
    pub guidance: &'static str,
    check: fn(&Spec, &mut Vec<FieldProblem>),
}

impl Step {
    /// Every problem of this step's fields.
    pub fn problems(&self, spec: &Spec) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        (self.check)(spec, &mut out);
        out
    }
}

pub const STEPS: [Step; 10] = [
    Step { number: 1, title: "Identity", guidance: "A short kebab-case id, e.g. weekly-summary. It names files, branches and commit trailers, so keep it stable.", check: identity },
    Step { number: 2, title: "Title", guidance: "One sentence in the active voice saying what the work achieves, without technology names.", check: title },
    Step { number: 3, title: "Status", guidance: "A new spec starts as draft. It becomes ready only when its todo is approved.", check: status },
    Step { number: 4, title: "Goals", guidance: "3 to 7 outcomes, each starting with a verb and measurable: \"Show every run's progress within 1 s\".", check: goals },
    Step { number: 5, title: "Non-goals", guidance: "What this work will not do, so nobody builds it by accident.", check: non_goals },
    Step { number: 6, title: "API", guidance: "Endpoints, commands or interfaces others will call, one per item, e.g. \"GET /api/v1/runs lists runs\". Leave empty if there are none.", check: api },
    Step { number: 7, title: "Behaviour", guidance: "How it behaves, one rule per item; Given / When / Then reads best.", check: behavior },
    Step { number: 8, title: "Observability", guidance: "Metrics, logs, alerts and health checks that show it works in production.", check: obs },
    Step { number: 9, title: "Acceptance", guidance: "Criteria a reviewer can check, each with a number or an observable result.", check: accept },
    Step { number: 10, title: "Assumptions", guidance: "What you take as given; a reviewer will challenge these.", check: assume },
];

/// Every rule of every step: what the server checks before storing a spec.
pub fn check_spec(spec: &Spec) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    for step in &STEPS {
        (step.check)(spec, &mut out);
    }
    out
}

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 63 characters (a Kubernetes label value).
pub fn is_kebab_id(id: &str) -> bool {
    id.len() <= 63
        && !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn identity(spec: &Spec, out: &mut Vec<FieldProblem>) {
    if spec.id.is_empty() {
        out.push(FieldProblem::new("id", "is required, e.g. weekly-summary"));
    } else if !is_kebab_id(&spec.id) {
        out.push(FieldProblem::new(
            "id",
            "use kebab-case: lowercase letters and digits joined by single dashes, at most 63 characters (e.g. weekly-summary)",
        ));
    }
}

fn title(spec: &Spec, out: &mut Vec<FieldProblem>) {
    let t = spec.title.trim();
    if t.is_empty() {
        out.push(FieldProblem::new(
            "title",
            "is required: one sentence saying what the work achieves",
        ));
    } else if t.chars().count() > 120 {
        out.push(FieldProblem::new(
            "title",
            "keep it to one sentence of at most 120 characters",
        ));
    } else if t.contains('\n') || has_second_sentence(t) {
        out.push(FieldProblem::new(
            "title",
            "one sentence only; move the details to goals",
        ));
    }
}

fn has_second_sentence(text: &str) -> bool {
    let text = text.trim_end_matches(['.', '!', '?']);
    text.match_indices(['.', '!', '?']).any(|(i, _)| {
        let rest = &text[i + 1..];
        rest.starts_with(' ') && rest.trim_start().starts_with(|c: char| c.is_uppercase())
    })
}

fn status(spec: &Spec, out: &mut Vec<FieldProblem>) {
    if SpecStatus::parse(&spec.status).is_none() {
        let known: Vec<&str> = SpecStatus::ALL.iter().map(|s| s.as_str()).collect();
        out.push(FieldProblem::new(
            "status",
            format!("'{}' is not one of {}", spec.status, known.join(", ")),
        ));
    }
    if spec.version.trim().is_empty() {
        out.push(FieldProblem::new("version", "is required, e.g. 1.0.0"));
    }
    if !is_date(&spec.last_updated) {
        out.push(FieldProblem::new(
            "lastUpdated",
            "must be a date as YYYY-MM-DD",
        ));
    }
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let numbers: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    match (parts.as_slice(), numbers.as_slice()) {
        ([y, m, d], [_, month, day]) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (1..=12).contains(month) && (1..=31).contains(day)
        }
        _ => false,
    }
}

/// Words a goal may not start with: it should start with what will be done.
const NOT_VERBS: [&str; 24] = [
    "a", "an", "the", "this", "that", "these", "it", "we", "our", "users", "user", "there",
    "should", "must", "will", "can", "to", "be", "is", "are", "when", "if", "for", "all",
];

fn goals(spec: &Spec, out: &mut Vec<FieldProblem>) {
    let given = spec.goals.len();
    if !(3..=7).contains(&given) {
        out.push(FieldProblem::new(
            "goals",
            format!("{given} given, 3–7 required"),
        ));
    }
    items(&spec.goals, "goals", out);
    for (i, goal) in spec.goals.iter().enumerate() {
        let first = goal.split_whitespace().next().unwrap_or("").to_lowercase();
        if !first.is_empty() && NOT_VERBS.contains(&first.as_str()) {
            out.push(FieldProblem::new(
                &format!("goals[{i}]"),
                format!("start with a verb (e.g. \"Show …\", \"Reduce …\"), not '{first}'"),
            ));
        }
    }
}

fn non_goals(spec: &Spec, out: &mut Vec<FieldProblem>) {
    at_least_one(
        &spec.non_goals,
        "nonGoals",
        "name one thing this work will not do",
        out,
    );
    items(&spec.non_goals, "nonGoals", out);
}

fn api(spec: &Spec, out: &mut Vec<FieldProblem>) {
    items(&spec.req.api, "req.api", out);
}

fn behavior(spec: &Spec, out: &mut Vec<FieldProblem>) {
    at_least_one(
        &spec.req.behavior,
        "req.behavior",
        "describe at least one behaviour",
        out,
    );
    items(&spec.req.behavior, "req.behavior", out);
}

fn obs(spec: &Spec, out: &mut Vec<FieldProblem>) {
    at_least_one(
        &spec.req.obs,
        "req.obs",
        "name at least one metric, log, alert or health check",
        out,
    );
    items(&spec.req.obs, "req.obs", out);
}

/// Words that make a criterion impossible to check on their own.
const VAGUE: [&str; 9] = [
    "fast",
    "quick",
    "easy",
    "intuitive",
    "user-friendly",
    "robust",
    "nice",
    "good",
    "better",
];

fn accept(spec: &Spec, out: &mut Vec<FieldProblem>) {
    at_least_one(
        &spec.accept,
        "accept",
        "add at least one criterion a reviewer can check",
        out,
    );
    items(&spec.accept, "accept", out);
    for (i, criterion) in spec.accept.iter().enumerate() {
        let has_number = criterion.chars().any(|c| c.is_ascii_digit());
        let vague = criterion
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .map(str::to_lowercase)
            .find(|w| VAGUE.contains(&w.as_str()));
        if let (Some(word), false) = (vague, has_number) {
            out.push(FieldProblem::new(
                &format!("accept[{i}]"),
                format!("'{word}' can't be checked; say what a reviewer will see, e.g. a number or a result"),
            ));
        }
    }
}

fn assume(spec: &Spec, out: &mut Vec<FieldProblem>) {
    at_least_one(
        &spec.assume,
        "assume",
        "write down at least one assumption",
        out,
    );
    items(&spec.assume, "assume", out);
}

fn at_least_one(list: &[String], field: &str, fix: &str, out: &mut Vec<FieldProblem>) {
    if list.is_empty() {
        out.push(FieldProblem::new(field, format!("0 given: {fix}")));
    }
}

/// Items are non-empty and not repeated.
fn items(list: &[String], field: &str, out: &mut Vec<FieldProblem>) {
    for (i, item) in list.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if item.trim().is_empty() {
            out.push(FieldProblem::new(&at, "is empty: fill it in or remove it"));
        } else if list[..i]
            .iter()
            .any(|earlier| earlier.trim() == item.trim())
        {
            out.push(FieldProblem::new(&at, "repeats an item above"));
        }
    }
}
