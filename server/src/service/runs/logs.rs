//! A run's log, in slices that never split a character.
use crate::error::Result;
use crate::service::Service;
use domain::run::{ExecState, LogChunk, MAX_LOG_CHUNK};

impl Service {
    pub(super) async fn read_log(
        &self,
        run_id: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<LogChunk> {
        let record = self.record(run_id).await?;
        let max = max_bytes.clamp(1, MAX_LOG_CHUNK);
        let bytes = self.backend.read_log(&record, offset, max).await?;
        let (text, used) = utf8_prefix(&bytes);
        // A blocked run writes again once resumed, so only an ended run is complete.
        let complete = !matches!(record.exec_state, ExecState::Pending | ExecState::Running)
            && record.status.is_terminal()
            && used == bytes.len()
            && (bytes.len() as u64) < max;
        Ok(LogChunk {
            offset,
            next_offset: offset + used as u64,
            text,
            complete,
        })
    }
}

/// The longest prefix that is whole UTF-8, so a chunk never splits a character.
fn utf8_prefix(bytes: &[u8]) -> (String, usize) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), bytes.len()),
        Err(e) if e.error_len().is_none() => {
            let end = e.valid_up_to();
            (String::from_utf8_lossy(&bytes[..end]).into_owned(), end)
        }
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_character_waits_for_the_next_chunk() {
        let bytes = "añb".as_bytes();
        assert_eq!(utf8_prefix(&bytes[..2]), ("a".to_string(), 1));
        assert_eq!(utf8_prefix(bytes), ("añb".to_string(), 4));
    }
}
