//! Approve from a notification. The push carries a token bound to one run's gate and
//! one user, good once and for a short while; it can approve that gate and nothing else.
use crate::clock::now_ms;
use crate::error::Result;
use crate::service::Service;
use crate::store::TokenUse;
use domain::auth::{Action, Principal};
use domain::feedback::{Decision, FeedbackRequest};
use domain::notify::ApproveRequest;
use domain::run::RunSummary;
use domain::service::Actor;
use domain::{Error as DomainError, ErrorCode};
use sha2::{Digest, Sha256};

/// Tokens are kept only as their hash.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Service {
    /// `caller` is whoever is signed in on the browser, if anyone: it must be the
    /// token's user. Without a session the token alone stands for its user.
    pub async fn approve_by_token(
        &self,
        caller: Option<&Principal>,
        from: Option<String>,
        request: ApproveRequest,
    ) -> Result<RunSummary> {
        let spent = self
            .store
            .spend_approve_token(
                token_hash(request.token.trim()),
                request.run_id.clone(),
                caller.map(|p| p.username.clone()),
                now_ms(),
            )
            .await?;
        let (username, gate) = match spent {
            TokenUse::Spent { username, gate } => (username, gate),
            refused => return Err(refusal(refused).into()),
        };
        let role = self
            .store
            .active_role(username.clone())
            .await?
            .ok_or_else(|| {
                DomainError::new(
                    ErrorCode::Forbidden,
                    format!("The user {username} can no longer sign in."),
                )
            })?;
        role.require(Action::DecideGate)?;
        let open_gate = self.current_gate(&request.run_id).await?;
        if open_gate.as_deref() != Some(gate.as_str()) {
            return Err(DomainError::conflict(
                "This notification is about a gate that was already decided. Open the run to see where it stands.",
            )
            .into());
        }
        let actor = Actor {
            name: username,
            role,
            from,
        };
        let request_ = FeedbackRequest {
            decision: Decision::Approve,
            notes: Some("Approved from a notification".into()),
        };
        self.decide_gate(&actor, &request.run_id, request_).await
    }

    async fn current_gate(&self, run_id: &str) -> Result<Option<String>> {
        let record = self.record(run_id).await?;
        let (snapshot, _) = self.read_snapshot(&record).await;
        Ok(snapshot
            .gates
            .iter()
            .rev()
            .find(|g| g.status == domain::run::GateStatus::Requested)
            .map(super::gate_key))
    }
}

fn refusal(outcome: TokenUse) -> DomainError {
    let (code, message) = match outcome {
        TokenUse::Unknown => (ErrorCode::Forbidden, "This approve link is not valid. Open the run to decide."),
        TokenUse::Expired => (ErrorCode::Forbidden, "This approve link has expired. Open the run to decide."),
        TokenUse::Used => (ErrorCode::Conflict, "This approve link was already used."),
        TokenUse::WrongRun => (ErrorCode::Forbidden, "This approve link belongs to another run."),
        TokenUse::WrongUser => (
            ErrorCode::Forbidden,
            "This approve link was sent to another user. Sign in as them, or open the run to decide.",
        ),
        TokenUse::Spent { .. } => unreachable!("spent tokens are not refusals"),
    };
    DomainError::new(code, message)
}
