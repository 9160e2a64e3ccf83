//! The `/runs` board: the active runs' tasks in four lanes (pending, in progress,
//! review, done), and the activity feed of recent run events.
use crate::run::{NodeState, RunStatus, RunSummary, TaskView};
use serde::{Deserialize, Serialize};

/// At most this many cards in a lane; the lane's total says how many there are.
pub const LANE_CARDS: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lane {
    Pending,
    InProgress,
    Review,
    Done,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Pending, Lane::InProgress, Lane::Review, Lane::Done];

    pub fn title(self) -> &'static str {
        match self {
            Lane::Pending => "Pending",
            Lane::InProgress => "In progress",
            Lane::Review => "Review",
            Lane::Done => "Done",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Pending => "pending",
            Lane::InProgress => "in-progress",
            Lane::Review => "review",
            Lane::Done => "done",
        }
    }

    /// Where a Smithers task in `state` goes: waiting at a gate is review; finished,
    /// skipped, failed and cancelled are all done (the card says which).
    pub fn of(state: NodeState) -> Lane {
        match state {
            NodeState::Pending | NodeState::Unknown => Lane::Pending,
            NodeState::InProgress => Lane::InProgress,
            NodeState::WaitingApproval => Lane::Review,
            NodeState::Finished | NodeState::Skipped | NodeState::Failed | NodeState::Cancelled => {
                Lane::Done
            }
        }
    }
}

/// One task of one run (or a run that has no task yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub run_id: String,
    pub spec: Option<String>,
    pub template: String,
    /// The task's label or node id; `None` for a run with no task yet.
    pub task: Option<String>,
    /// The task's state ("in-progress", "failed"…), or the run's when it has no task.
    pub state: String,
    pub attempts: u32,
    /// When the task last changed (or the run was created), for ordering and "for 5m".
    pub since_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneView {
    pub lane: Lane,
    pub cards: Vec<Card>,
    /// Every card the lane has; more than `cards.len()` when it was cut.
    pub total: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub lanes: Vec<LaneView>,
    /// Active runs on the board.
    pub runs: usize,
    /// Runs whose database could not be read: they show as one card, with why.
    pub unread: Vec<(String, String)>,
}

/// The board of `runs` (each active run with its tasks). Pending and review show the
/// longest-waiting first; in progress and done the most recent first.
pub fn board(runs: &[(RunSummary, Vec<TaskView>)]) -> Board {
    let mut lanes: Vec<Vec<Card>> = vec![Vec::new(); Lane::ALL.len()];
    for (run, tasks) in runs {
        if tasks.is_empty() {
            lanes[lane_index(run_lane(run.status))].push(run_card(run));
        }
        for task in tasks {
            lanes[lane_index(Lane::of(task.state))].push(task_card(run, task));
        }
    }
    let lanes = Lane::ALL
        .iter()
        .zip(lanes)
        .map(|(lane, mut cards)| {
            match lane {
                Lane::Pending | Lane::Review => cards.sort_by_key(|c| c.since_ms),
                Lane::InProgress | Lane::Done => cards.sort_by_key(|c| -c.since_ms),
            }
            let total = cards.len();
            cards.truncate(LANE_CARDS);
            LaneView {
                lane: *lane,
                cards,
                total,
            }
        })
        .collect();
    Board {
        lanes,
        runs: runs.len(),
        unread: Vec::new(),
    }
}

fn lane_index(lane: Lane) -> usize {
    Lane::ALL.iter().position(|l| *l == lane).unwrap_or(0)
}

fn run_lane(status: RunStatus) -> Lane {
    match status {
        RunStatus::Pending => Lane::Pending,
        RunStatus::Running => Lane::InProgress,
        RunStatus::WaitingApproval => Lane::Review,
        RunStatus::Finished | RunStatus::Failed | RunStatus::Cancelled => Lane::Done,
    }
}

fn run_card(run: &RunSummary) -> Card {
    Card {
        run_id: run.run_id.clone(),
        spec: run.spec.clone(),
        template: run.template.clone(),
        task: None,
        state: run.status.as_str().into(),
        attempts: 0,
        since_ms: run.started_at_ms.unwrap_or(run.created_at_ms),
    }
}

fn task_card(run: &RunSummary, task: &TaskView) -> Card {
    Card {
        run_id: run.run_id.clone(),
        spec: run.spec.clone(),
        template: run.template.clone(),
        task: Some(task.label.clone().unwrap_or_else(|| task.node_id.clone())),
        state: task.state.as_str().into(),
        attempts: task.attempts,
        since_ms: task
            .updated_at_ms
            .or(task.finished_at_ms)
            .or(task.started_at_ms)
            .unwrap_or(run.created_at_ms),
    }
}

/// A line of the activity feed: something that happened to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityItem {
    pub run_id: String,
    pub at_ms: i64,
    /// "dispatched", "started", "exited", "approved"…
    pub kind: String,
    pub message: String,
    /// Who did it, when a person did.
    pub actor: Option<String>,
}

/// How many feed lines a page asks for by default, and at most.
pub const ACTIVITY_DEFAULT: u32 = 50;
pub const ACTIVITY_MAX: u32 = 500;

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, status: RunStatus, created: i64) -> RunSummary {
        RunSummary {
            run_id: id.into(),
            project: None,
            env: None,
            spec: Some("spec".into()),
            phase: String::new(),
            status,
            task: None,
            outcome: None,
            started_at: None,
            finished_at: None,
            progress: Default::default(),
            template: "demo".into(),
            workflow: None,
            backend: "local".into(),
            created_at_ms: created,
            started_at_ms: None,
            finished_at_ms: None,
            needs_feedback: false,
            error: None,
        }
    }

    fn task(id: &str, state: NodeState, at: i64) -> TaskView {
        TaskView {
            node_id: id.into(),
            label: None,
            iteration: 0,
            state,
            attempts: 1,
            started_at_ms: Some(at),
            finished_at_ms: None,
            updated_at_ms: Some(at),
            error: None,
        }
    }

    fn lane(b: &Board, lane: Lane) -> Vec<(&str, Option<&str>)> {
        b.lanes
            .iter()
            .find(|l| l.lane == lane)
            .unwrap()
            .cards
            .iter()
            .map(|c| (c.run_id.as_str(), c.task.as_deref()))
            .collect()
    }

    #[test]
    fn tasks_go_to_the_lane_of_their_state_and_taskless_runs_show_as_themselves() {
        let runs = vec![
            (
                run("a", RunStatus::Running, 1),
                vec![
                    task("implement", NodeState::Finished, 10),
                    task("review", NodeState::InProgress, 20),
                    task("human-gate", NodeState::Pending, 5),
                ],
            ),
            (
                run("b", RunStatus::WaitingApproval, 2),
                vec![
                    task("implement", NodeState::Failed, 30),
                    task("human-gate", NodeState::WaitingApproval, 40),
                ],
            ),
            (run("c", RunStatus::Pending, 3), vec![]),
        ];
        let b = board(&runs);
        assert_eq!(b.runs, 3);
        assert_eq!(
            lane(&b, Lane::Pending),
            vec![("c", None), ("a", Some("human-gate"))],
            "the longest waiting first"
        );
        assert_eq!(lane(&b, Lane::InProgress), vec![("a", Some("review"))]);
        assert_eq!(lane(&b, Lane::Review), vec![("b", Some("human-gate"))]);
        assert_eq!(
            lane(&b, Lane::Done),
            vec![("b", Some("implement")), ("a", Some("implement"))],
            "the most recent first"
        );
        let failed = &b.lanes[3].cards[0];
        assert_eq!(failed.state, "failed");
    }

    #[test]
    fn a_long_lane_is_cut_and_says_how_many_it_had() {
        let tasks: Vec<TaskView> = (0..LANE_CARDS as i64 + 7)
            .map(|i| task(&format!("t{i}"), NodeState::Finished, i))
            .collect();
        let b = board(&[(run("a", RunStatus::Running, 1), tasks)]);
        let done = &b.lanes[3];
        assert_eq!(done.cards.len(), LANE_CARDS);
        assert_eq!(done.total, LANE_CARDS + 7);
        assert_eq!(done.cards[0].task.as_deref(), Some("t66"));
    }
}
