//! The deterministic todo generator (fabrik's compound-engineering rules): a
//! criticality tier sets the definition of done, logic-heavy specs get `tdd`, and 3–15
//! tasks run foundation → core → integration → observability, each `do`/`verify`
//! taken from the spec's own goals, requirements and acceptance criteria. The same
//! spec always gives the same todo.
use super::{Spec, Task, Todo};

pub const MIN_TASKS: usize = 3;
pub const MAX_TASKS: usize = 15;

/// How much harm a mistake in this work can do; T1 is the most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    T1,
    T2,
    T3,
    T4,
}

/// Words that make a spec T1: mistakes there lose data, money or trust.
const CRITICAL: [&str; 14] = [
    "auth",
    "login",
    "password",
    "secret",
    "credential",
    "token",
    "encrypt",
    "payment",
    "billing",
    "delete",
    "migration",
    "permission",
    "security",
    "backup",
];

pub fn tier(spec: &Spec) -> Tier {
    let text = spec_text(spec).to_lowercase();
    if CRITICAL.iter().any(|w| text.contains(w)) {
        Tier::T1
    } else if !spec.req.api.is_empty() || spec.req.behavior.len() >= 5 {
        Tier::T2
    } else if !spec.req.behavior.is_empty() {
        Tier::T3
    } else {
        Tier::T4
    }
}

/// The definition of done for a tier: more checks where mistakes cost more.
pub fn definition_of_done(tier: Tier) -> Vec<String> {
    let mut dod = vec!["Tests written and passing", "Lint/typecheck clean"];
    if tier <= Tier::T2 {
        dod.push("Metrics, logs and alerts from req.obs in place");
    }
    if tier == Tier::T1 {
        dod.push("Security review passed; failure paths tested");
    }
    if tier == Tier::T4 {
        dod.retain(|d| !d.starts_with("Tests"));
    }
    dod.push("Docs updated");
    dod.into_iter().map(String::from).collect()
}

/// Logic-heavy work is written test first.
pub fn is_logic_heavy(spec: &Spec, tier: Tier) -> bool {
    tier <= Tier::T2 || spec.req.behavior.len() >= 3
}

pub fn generate_todo(spec: &Spec) -> Todo {
    let tier = tier(spec);
    let tdd = is_logic_heavy(spec, tier);
    let mut plan = Plan::default();
    plan.foundation(spec);
    plan.core(spec, tdd);
    plan.integration(spec, tdd);
    plan.observability(spec);
    plan.acceptance(spec);
    Todo {
        v: 1,
        id: spec.id.clone(),
        tdd,
        dod: definition_of_done(tier),
        tasks: plan.into_tasks(&spec.id),
    }
}

#[derive(Default)]
struct Plan {
    steps: Vec<(String, String)>,
}

impl Plan {
    fn push(&mut self, action: String, verify: String) {
        self.steps.push((action, verify));
    }

    fn foundation(&mut self, spec: &Spec) {
        let config = spec
            .cfg
            .as_ref()
            .map(|c| c.env.as_slice())
            .unwrap_or_default();
        let action = match config {
            [] => format!("Lay the foundation for \"{}\": types, module layout and test harness.", spec.title.trim()),
            names => format!(
                "Lay the foundation for \"{}\": types, module layout, test harness and configuration ({}).",
                spec.title.trim(),
                names.join(", ")
            ),
        };
        self.push(
            action,
            "The project builds and an empty test suite runs.".into(),
        );
    }

    /// One task per behaviour, grouped when there are more than fit.
    fn core(&mut self, spec: &Spec, tdd: bool) {
        let source = if spec.req.behavior.is_empty() {
            &spec.goals
        } else {
            &spec.req.behavior
        };
        for group in groups(source, 6) {
            let what = group.join("; ");
            let verify = if tdd {
                format!("Tests for: {what} — written first, failing before and passing after.")
            } else {
                format!("Tests show: {what}")
            };
            self.push(format!("Implement: {what}"), verify);
        }
    }

    fn integration(&mut self, spec: &Spec, tdd: bool) {
        for group in groups(&spec.req.api, 3) {
            let what = group.join("; ");
            let how = if tdd {
                "Request tests, written first, pass"
            } else {
                "Request tests pass"
            };
            self.push(format!("Expose: {what}"), format!("{how} for: {what}"));
        }
    }

    fn observability(&mut self, spec: &Spec) {
        if spec.req.obs.is_empty() {
            return;
        }
        let what = spec.req.obs.join("; ");
        self.push(
            format!("Add observability: {what}"),
            format!("Each is visible in a test or local run: {what}"),
        );
    }

    /// Each acceptance criterion joins the `verify` of the task it shares most words
    /// with (not the foundation, whose words are the title's); the ones that fit none
    /// get a final end-to-end task.
    fn acceptance(&mut self, spec: &Spec) {
        let mut leftover = Vec::new();
        for criterion in &spec.accept {
            let words = significant_words(criterion);
            let best = self
                .steps
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, (action, _))| (overlap(&words, action), i))
                .filter(|(shared, _)| *shared >= 2)
                .max_by_key(|(shared, i)| (*shared, std::cmp::Reverse(*i)));
            match best {
                Some((_, i)) => {
                    let verify = &mut self.steps[i].1;
                    verify.push_str(&format!(" Acceptance: {criterion}"));
                }
                None => leftover.push(criterion.clone()),
            }
        }
        if !leftover.is_empty() || self.steps.len() < MIN_TASKS {
            let verify = match leftover.as_slice() {
                [] => "The goals hold end to end in a local run.".to_string(),
                all => format!("Acceptance: {}", all.join(" Acceptance: ")),
            };
            self.push(
                "Check the work end to end against its acceptance criteria.".into(),
                verify,
            );
        }
    }

    fn into_tasks(mut self, id: &str) -> Vec<Task> {
        while self.steps.len() < MIN_TASKS {
            self.push(
                "Document what was built and how to run it.".into(),
                "The docs describe every goal and how to check it.".into(),
            );
        }
        self.steps
            .into_iter()
            .enumerate()
            .map(|(i, (action, verify))| Task {
                id: format!("{id}-{}", i + 1),
                action,
                verify,
            })
            .collect()
    }
}

/// `items` in at most `max` groups of consecutive items (foundation, observability and
/// acceptance leave room for them within 15 tasks).
fn groups(items: &[String], max: usize) -> Vec<Vec<String>> {
    let items: Vec<String> = items
        .iter()
        .map(|s| s.trim().trim_end_matches('.').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Vec::new();
    }
    let size = items.len().div_ceil(max);
    items.chunks(size).map(<[String]>::to_vec).collect()
}

fn spec_text(spec: &Spec) -> String {
    [&spec.goals, &spec.req.api, &spec.req.behavior, &spec.accept]
        .into_iter()
        .flatten()
        .chain(std::iter::once(&spec.title))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

fn significant_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(str::to_lowercase)
        .collect()
}

fn overlap(words: &[String], text: &str) -> usize {
    let theirs = significant_words(text);
    words.iter().filter(|w| theirs.contains(w)).count()
}
