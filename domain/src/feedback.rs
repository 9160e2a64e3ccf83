use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    #[serde(alias = "approved")]
    Approve,
    #[serde(alias = "deny", alias = "denied", alias = "rejected")]
    Reject,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRequest {
    pub decision: Decision,
    #[serde(default)]
    pub notes: Option<String>,
}

pub const MAX_NOTES_CHARS: usize = 10_000;

impl FeedbackRequest {
    pub fn validate(&self) -> Result<()> {
        match &self.notes {
            Some(n) if n.chars().count() > MAX_NOTES_CHARS => Err(Error::bad_request(format!(
                "Notes are limited to {MAX_NOTES_CHARS} characters; shorten them or link to a document."
            ))),
            _ => Ok(()),
        }
    }
    /// Notes with surrounding whitespace removed; empty notes become none.
    pub fn clean_notes(&self) -> Option<String> {
        self.notes
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_accept_common_spellings() {
        let r: FeedbackRequest = serde_json::from_str(r#"{"decision":"deny"}"#).unwrap();
        assert_eq!(r.decision, Decision::Reject);
        assert!(serde_json::from_str::<FeedbackRequest>(r#"{"decision":"maybe"}"#).is_err());
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        let r = FeedbackRequest {
            decision: Decision::Approve,
            notes: Some("  ".into()),
        };
        assert_eq!(r.clean_notes(), None);
        let long = FeedbackRequest {
            decision: Decision::Approve,
            notes: Some("x".repeat(MAX_NOTES_CHARS + 1)),
        };
        assert!(long.validate().is_err());
    }
}
