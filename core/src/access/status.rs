//! The lifecycle of an access request: statuses, the actions that move between them, and who
//! may take each action.
//!
//! ```text
//! draft ──submit──▶ in_review ──approve──▶ approved ──file──▶ submitted_to_bentley
//!   ▲                 │  │                                        │ record token
//!   │   (resubmit)    │  └─reject──▶ rejected                     ▼
//! changes_requested ◀─┘request changes                        token_issued ──activate──▶ active
//!                                     approved … active ──revoke──▶ revoked
//!                                     token_issued, active ──expire──▶ expired
//! ```

use std::fmt;
use std::str::FromStr;

/// Where a request is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Being written by its contact.
    Draft,
    /// Waiting for a reviewer.
    InReview,
    /// A reviewer asked for changes; the contact edits and resubmits.
    ChangesRequested,
    /// Approved internally; the support request may be filed with Bentley.
    Approved,
    /// Filed on Bentley's Support Portal.
    SubmittedToBentley,
    /// Bentley issued the token; it is in the vault.
    TokenIssued,
    /// In use by app keys.
    Active,
    /// Access withdrawn; its keys no longer work.
    Revoked,
    /// The token expired.
    Expired,
    /// Refused in review.
    Rejected,
}

impl RequestStatus {
    /// Every status, in lifecycle order.
    pub(crate) const ALL: [RequestStatus; 10] = [
        Self::Draft,
        Self::InReview,
        Self::ChangesRequested,
        Self::Approved,
        Self::SubmittedToBentley,
        Self::TokenIssued,
        Self::Active,
        Self::Revoked,
        Self::Expired,
        Self::Rejected,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::ChangesRequested => "changes_requested",
            Self::Approved => "approved",
            Self::SubmittedToBentley => "submitted_to_bentley",
            Self::TokenIssued => "token_issued",
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Rejected => "rejected",
        }
    }

    /// Whether the contact may still edit the request.
    pub const fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::ChangesRequested)
    }

    /// Whether the request was approved and not withdrawn since: app keys may be bound to it
    /// and secrets recorded for it.
    pub const fn is_granted(self) -> bool {
        matches!(
            self,
            Self::Approved | Self::SubmittedToBentley | Self::TokenIssued | Self::Active
        )
    }

    /// Whether the request was approved at some point: what it declared is what usage is
    /// measured against, also after it was revoked or expired (for the period it was in use).
    pub(crate) const fn was_approved(self) -> bool {
        self.is_granted() || matches!(self, Self::Revoked | Self::Expired)
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RequestStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown request status `{s}`"))
    }
}

/// Who may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The request's owner.
    Owner,
    /// A reviewer (or admin) who does not own the request.
    OtherReviewer,
    /// The owner or any reviewer.
    OwnerOrReviewer,
    /// Any reviewer, the owner included.
    Reviewer,
}

/// Something that moves a request from one status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The contact sends the request (or its revision) for review.
    Submit,
    /// A reviewer approves it.
    Approve,
    /// A reviewer asks for changes (with a comment).
    RequestChanges,
    /// A reviewer refuses it (with a comment).
    Reject,
    /// The support request was filed on Bentley's portal.
    MarkFiled,
    /// Bentley's token was recorded in the vault.
    RecordToken,
    /// App keys may start using it.
    Activate,
    /// Access is withdrawn (its keys stop working).
    Revoke,
    /// The token expired (its keys stop working).
    Expire,
}

impl Action {
    /// The verb in audit actions (`access_request.<verb>`).
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::RequestChanges => "request_changes",
            Self::Reject => "reject",
            Self::MarkFiled => "mark_filed",
            Self::RecordToken => "record_token",
            Self::Activate => "activate",
            Self::Revoke => "revoke",
            Self::Expire => "expire",
        }
    }

    /// Who may take the action.
    pub(crate) const fn who(self) -> Who {
        match self {
            Self::Submit => Who::Owner,
            Self::Approve | Self::RequestChanges | Self::Reject => Who::OtherReviewer,
            Self::MarkFiled => Who::OwnerOrReviewer,
            Self::RecordToken | Self::Activate | Self::Revoke | Self::Expire => Who::Reviewer,
        }
    }

    /// Whether a user who is (or is not) the request's owner and (or not) a reviewer may take
    /// the action, whatever the request's status.
    pub const fn permits(self, is_owner: bool, is_reviewer: bool) -> bool {
        match self.who() {
            Who::Owner => is_owner,
            Who::OtherReviewer => is_reviewer && !is_owner,
            Who::OwnerOrReviewer => is_owner || is_reviewer,
            Who::Reviewer => is_reviewer,
        }
    }

    /// Whether the action needs a comment saying why.
    pub(crate) const fn needs_comment(self) -> bool {
        matches!(self, Self::RequestChanges | Self::Reject | Self::Revoke)
    }

    /// The status the action leads to from `from`, or `None` if it is not allowed there.
    pub fn next(self, from: RequestStatus) -> Option<RequestStatus> {
        use RequestStatus as S;
        match (self, from) {
            (Self::Submit, S::Draft | S::ChangesRequested) => Some(S::InReview),
            (Self::Approve, S::InReview) => Some(S::Approved),
            (Self::RequestChanges, S::InReview) => Some(S::ChangesRequested),
            (Self::Reject, S::InReview) => Some(S::Rejected),
            (Self::MarkFiled, S::Approved) => Some(S::SubmittedToBentley),
            (Self::RecordToken, S::SubmittedToBentley) => Some(S::TokenIssued),
            // A rotated token keeps the request where it is.
            (Self::RecordToken, S::TokenIssued | S::Active) => Some(from),
            (Self::Activate, S::TokenIssued) => Some(S::Active),
            (Self::Revoke, s) if s.is_granted() => Some(S::Revoked),
            (Self::Expire, S::TokenIssued | S::Active) => Some(S::Expired),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_parses_back_from_its_stored_name() {
        for status in RequestStatus::ALL {
            assert_eq!(status.as_str().parse::<RequestStatus>(), Ok(status));
        }
    }

    #[test]
    fn a_request_is_submitted_reviewed_filed_issued_and_activated_in_order() {
        use RequestStatus as S;
        let path = [
            (Action::Submit, S::InReview),
            (Action::RequestChanges, S::ChangesRequested),
            (Action::Submit, S::InReview),
            (Action::Approve, S::Approved),
            (Action::MarkFiled, S::SubmittedToBentley),
            (Action::RecordToken, S::TokenIssued),
            (Action::Activate, S::Active),
            (Action::RecordToken, S::Active),
            (Action::Revoke, S::Revoked),
        ];
        let mut status = S::Draft;
        for (action, expected) in path {
            status = action
                .next(status)
                .unwrap_or_else(|| panic!("{action} is allowed from {status}"));
            assert_eq!(status, expected);
        }
    }

    #[test]
    fn ended_requests_move_nowhere_and_drafts_cannot_be_approved() {
        let actions = [
            Action::Submit,
            Action::Approve,
            Action::RequestChanges,
            Action::Reject,
            Action::MarkFiled,
            Action::RecordToken,
            Action::Activate,
            Action::Revoke,
            Action::Expire,
        ];
        for end in [
            RequestStatus::Revoked,
            RequestStatus::Expired,
            RequestStatus::Rejected,
        ] {
            for action in actions {
                assert_eq!(action.next(end), None, "{action} from {end}");
            }
        }
        assert_eq!(Action::Approve.next(RequestStatus::Draft), None);
        assert_eq!(Action::Submit.next(RequestStatus::InReview), None);
    }

    #[test]
    fn reviews_are_for_reviewers_other_than_the_owner() {
        for action in [Action::Approve, Action::RequestChanges, Action::Reject] {
            assert_eq!(action.who(), Who::OtherReviewer);
        }
        assert_eq!(Action::Submit.who(), Who::Owner);
    }
}
