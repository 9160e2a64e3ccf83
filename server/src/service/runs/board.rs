//! The `/runs` board (the active runs' tasks, read from their DBs) and the runs export.
use super::Service;
use crate::error::Result;
use crate::store::RunRecord;
use domain::board::{board, Board};
use domain::filter::{RunFilter, MAX_LIMIT};
use domain::run::RunSummary;
use futures::stream::{self, StreamExt};

/// The board shows at most this many active runs (the newest).
const BOARD_RUNS: u32 = 100;
/// Run DBs read at once while building the board.
const READS_AT_ONCE: usize = 8;
/// An export stops after this many runs.
pub const EXPORT_MAX: usize = 100_000;

impl Service {
    pub(super) async fn active_board(&self) -> Result<Board> {
        let runs = self.store.board_runs(BOARD_RUNS).await?;
        let read: Vec<(RunRecord, Vec<domain::run::TaskView>, Option<String>)> = stream::iter(runs)
            .map(|record| async move {
                let (snapshot, problem) = self.read_snapshot(&record).await;
                (record, snapshot.tasks, problem)
            })
            .buffered(READS_AT_ONCE)
            .collect()
            .await;
        let unread = read
            .iter()
            .filter_map(|(r, _, problem)| Some((r.run_id.clone(), problem.clone()?)))
            .collect();
        let runs: Vec<(RunSummary, Vec<domain::run::TaskView>)> = read
            .into_iter()
            .map(|(record, tasks, _)| (record.summary(), tasks))
            .collect();
        Ok(Board {
            unread,
            ..board(&runs)
        })
    }

    pub(super) async fn all_matching(&self, mut filter: RunFilter) -> Result<Vec<RunSummary>> {
        filter.limit = Some(MAX_LIMIT);
        filter.cursor = None;
        let mut all = Vec::new();
        loop {
            let (rows, next) = self.store.list_runs(filter.clone()).await?;
            all.extend(rows.iter().map(RunRecord::summary));
            match next {
                Some(cursor) if all.len() < EXPORT_MAX => filter.cursor = Some(cursor),
                _ => break,
            }
        }
        all.truncate(EXPORT_MAX);
        Ok(all)
    }
}
