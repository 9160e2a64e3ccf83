//! Specs and todos against fabrik's published examples (copies in fixtures/), the
//! interview rules, and the todo generator's properties.
use domain::spec::*;
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/fabrik-specs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn fields(problems: &[FieldProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

#[test]
fn fabriks_published_specs_and_todos_read_and_write_back_the_same() {
    for name in [
        "000-base.json",
        "010-weekly-summary.json",
        "030-ui-dashboard.json",
        "template.spec.json",
    ] {
        let text = fixture(name);
        let spec =
            parse_spec(&text).unwrap_or_else(|p| panic!("{name}: {}", describe_problems(&p)));
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_value(&spec).unwrap(), original, "{name}");
    }
    for name in [
        "000-base.todo.json",
        "010-weekly-summary.todo.json",
        "022-fabrik-doctor.todo.json",
        "template.todo.json",
    ] {
        let text = fixture(name);
        let todo =
            parse_todo(&text).unwrap_or_else(|p| panic!("{name}: {}", describe_problems(&p)));
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_value(&todo).unwrap(), original, "{name}");
    }
}

#[test]
fn a_spec_outside_the_schema_gets_every_problem_with_its_field() {
    // 022 predates the schema's req shape: two unknown fields, two missing ones.
    let problems = parse_spec(&fixture("022-fabrik-doctor.json")).unwrap_err();
    assert_eq!(
        fields(&problems),
        ["req.api", "req.obs", "req.checks", "req.docs"]
    );
    assert!(
        problems[2].message.contains("not a field"),
        "{}",
        problems[2]
    );

    let bad = r#"{"v": 2, "id": 7, "title": "t", "status": "draft", "version": "1", "lastUpdated": "2026-01-01",
        "goals": ["a", 3], "nonGoals": "none", "req": {"api": [], "behavior": [], "obs": []}, "accept": [], "extra": true}"#;
    let problems = parse_spec(bad).unwrap_err();
    assert_eq!(
        fields(&problems),
        ["v", "id", "goals[1]", "nonGoals", "assume", "extra"]
    );
    assert_eq!(
        problems[3].to_string(),
        "nonGoals: must be a list, found a string"
    );

    let problems = parse_spec("{\"v\": 1,").unwrap_err();
    assert!(
        problems[0].message.starts_with("not valid JSON (line 1"),
        "{}",
        problems[0]
    );
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(MAX_SPEC_BYTES));
    assert!(parse_spec(&huge).unwrap_err()[0]
        .message
        .contains("at most 256 KiB"));
}

fn good_spec() -> Spec {
    let mut spec = Spec::new_draft("2026-11-26");
    spec.id = "weekly-summary".into();
    spec.title = "Send each team a weekly summary of its merged work".into();
    spec.goals = vec![
        "Send the summary every Monday at 09:00 in the team's zone".into(),
        "Show merged pull requests grouped by repository".into(),
        "Reduce time spent writing status reports to zero".into(),
    ];
    spec.non_goals = vec!["No Slack integration".into()];
    spec.req.api = vec!["POST /api/v1/summaries/run triggers a summary".into()];
    spec.req.behavior = vec![
        "Given a team with merged work, when Monday 09:00 comes, then the summary is sent".into(),
        "Given no merged work, when the summary runs, then it says so in one line".into(),
    ];
    spec.req.obs = vec![
        "summaries_sent_total counter".into(),
        "a log line per summary".into(),
    ];
    spec.accept = vec![
        "The summary lists every pull request merged in the last 7 days".into(),
        "A run with no merged work sends exactly one line".into(),
        "summaries_sent_total counter increases by 1 per team".into(),
    ];
    spec.assume = vec!["Teams have a time zone set".into()];
    spec
}

#[test]
fn the_interview_rules_name_the_field_and_the_fix() {
    assert_eq!(check_spec(&good_spec()), []);

    let mut spec = good_spec();
    spec.goals.truncate(2);
    spec.goals[1] = "The summary is grouped".into();
    spec.id = "Weekly_Summary".into();
    spec.title = "Send summaries. Also archive them".into();
    spec.accept.push("The page is fast".into());
    spec.assume.push("Teams have a time zone set".into());
    spec.status = "Proposed".into();
    let problems = check_spec(&spec);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        text.contains(&"goals: 2 given, 3–7 required".to_string()),
        "{text:#?}"
    );
    assert_eq!(
        fields(&problems),
        [
            "id",
            "title",
            "status",
            "goals",
            "goals[1]",
            "accept[3]",
            "assume[1]"
        ]
    );

    // Each step checks only its own fields, so Next can be refused step by step.
    let goals_step = STEPS.iter().find(|s| s.title == "Goals").unwrap();
    assert_eq!(fields(&goals_step.problems(&spec)), ["goals", "goals[1]"]);
    assert_eq!(STEPS.len(), 10);
    assert!(STEPS.iter().enumerate().all(|(i, s)| s.number == i + 1));
}

#[test]
fn statuses_follow_the_lifecycle() {
    use SpecStatus::*;
    assert!(Draft.can_become(Ready));
    assert!(!Draft.can_become(InProgress), "ready only after approval");
    assert!(Review.can_become(Done));
    assert!(!Done.can_become(Superseded));
    assert!(Ready.can_become(Superseded));
}

#[test]
fn the_generated_todo_is_deterministic_and_valid_for_fabrik() {
    let spec = good_spec();
    let todo = generate_todo(&spec);
    assert_eq!(todo, generate_todo(&spec));
    assert_eq!(todo.id, "weekly-summary");
    assert!(todo.tdd, "an API and behaviours make it logic-heavy");
    let json = serde_json::to_string(&todo).unwrap();
    assert_eq!(
        parse_todo(&json).unwrap(),
        todo,
        "fabrik's todo schema reads it"
    );
    assert!(todo.tasks[0].action.starts_with("Lay the foundation"));
    assert!(
        !todo.tasks[0].verify.contains("Acceptance"),
        "criteria go to the work they check"
    );
    let pr_criterion = todo
        .tasks
        .iter()
        .find(|t| t.verify.contains("pull request merged"))
        .unwrap();
    assert!(
        pr_criterion.action.starts_with("Implement"),
        "{pr_criterion:?}"
    );
    assert!(
        todo.tasks
            .last()
            .unwrap()
            .action
            .starts_with("Add observability")
            || todo.tasks.last().unwrap().action.starts_with("Check")
    );
}

fn words() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z]{2,9}", 2..9).prop_map(|w| w.join(" "))
}

fn any_spec() -> impl Strategy<Value = Spec> {
    (
        "[a-z]{1,8}(-[a-z0-9]{1,6}){0,3}",
        prop::collection::vec(words(), 0..9),
        prop::collection::vec(words(), 0..12),
        prop::collection::vec(words(), 0..20),
        prop::collection::vec(words(), 0..4),
        prop::collection::vec(words(), 0..12),
        prop::collection::vec("[A-Z_]{2,10}", 0..4),
    )
        .prop_map(|(id, goals, api, behavior, obs, accept, env)| {
            let mut spec = Spec::new_draft("2026-11-26");
            spec.id = id;
            spec.title = "Do the thing".into();
            spec.goals = goals;
            spec.req = Req { api, behavior, obs };
            spec.accept = accept;
            spec.cfg = Some(Cfg { env });
            spec
        })
}

proptest! {
    #[test]
    fn every_todo_has_3_to_15_unique_tasks_and_covers_every_criterion(spec in any_spec()) {
        let todo = generate_todo(&spec);
        prop_assert!((MIN_TASKS..=MAX_TASKS).contains(&todo.tasks.len()), "{} tasks", todo.tasks.len());
        let mut ids: Vec<&str> = todo.tasks.iter().map(|t| t.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), todo.tasks.len());
        for criterion in &spec.accept {
            prop_assert!(
                todo.tasks.iter().any(|t| t.verify.contains(criterion.as_str())),
                "no verify covers '{}'", criterion
            );
        }
        prop_assert!(!todo.dod.is_empty());
    }
}
