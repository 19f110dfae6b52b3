//! Every way an upstream call can fail, as one typed error. No response body can cause a panic:
//! whatever comes back is either parsed or reported as [`UpstreamError::Malformed`].
//!
//! The upstream's own words never travel in this type: an error answer's message and details
//! are logged where the answer is read ([`super::http`]) and reduced here to what Gatehouse can
//! vouch for (the status, a machine code of the upstream's, the names of refused fields). Its
//! `Display` is therefore Gatehouse's own sentence, safe to show a client, and it is what the
//! client sees.

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{ErrorCode, PublicError};

/// Why an upstream call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// No upstream token is known for the project.
    #[error("no SYNCHRO Perform token is configured for project {project_id}")]
    NoToken {
        /// The project.
        project_id: String,
    },
    /// 401: the token is unknown or expired upstream.
    #[error("SYNCHRO Perform refused the token (401)")]
    Unauthorized,
    /// 403: the token's scope does not allow this.
    #[error("SYNCHRO Perform refused the call for this token's scope (403)")]
    Forbidden,
    /// 404: no such record (or another project's).
    #[error("SYNCHRO Perform has no such record (404)")]
    NotFound,
    /// 400/413/422: the upstream's own validation.
    #[error("SYNCHRO Perform refused the call (HTTP {status})")]
    Validation {
        /// HTTP status.
        status: u16,
        /// The upstream's error code, when it is a plain machine code (else `unknown`).
        code: String,
        /// The input fields the upstream named as refused, when their names are plain.
        fields: Vec<String>,
    },
    /// 409: a conflict (duplicate reference code, invalid transition).
    #[error("SYNCHRO Perform refused the call as a conflict with the record's state (HTTP 409)")]
    Conflict {
        /// The upstream's error code, when it is a plain machine code (else `unknown`).
        code: String,
    },
    /// 429 that outlasted the retries.
    #[error("SYNCHRO Perform is rate limiting this token")]
    RateLimited {
        /// The upstream's hint.
        retry_after: Option<Duration>,
    },
    /// 5xx, or the connection failed.
    #[error("SYNCHRO Perform is unavailable: {reason}")]
    Unavailable {
        /// HTTP status, when there was one.
        status: Option<u16>,
        /// What happened, in Gatehouse's words.
        reason: String,
    },
    /// No answer within the configured time.
    #[error("SYNCHRO Perform did not answer within {0:?}")]
    Timeout(Duration),
    /// The answer's body passed `upstream.max_response_bytes`; reading stopped there.
    #[error("SYNCHRO Perform's answer was larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// An answer that is not what the API promises. The text says what did not parse, for the
    /// log (it may quote the answer); clients see only that the answer was malformed.
    #[error("SYNCHRO Perform sent a malformed response")]
    Malformed(String),
}

/// The longest upstream error code or field name passed on to clients.
const MAX_NAME_CHARS: usize = 64;

/// Whether `name` is a plain machine name (`duplicate_reference_code`, `percent_complete`,
/// `items[0].quantity`): ASCII letters, digits, `_`, `.`, `-`, `[` and `]`, starting with a
/// letter, at most [`MAX_NAME_CHARS`] long. Anything else (free text) stays in the log.
pub(crate) fn is_plain_name(name: &str) -> bool {
    name.len() <= MAX_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'))
}

impl UpstreamError {
    /// A short stable name for metrics and the usage ledger.
    pub(crate) const fn kind(&self) -> &'static str {
        match self {
            Self::NoToken { .. } => "no_token",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Validation { .. } => "validation",
            Self::Conflict { .. } => "conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Timeout(_) => "timeout",
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
        }
    }

    /// Whether cached data may stand in for this failure (the upstream is down, not refusing).
    pub(crate) const fn is_outage(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. }
                | Self::Timeout(_)
                | Self::RateLimited { .. }
                | Self::TooLarge { .. }
                | Self::Malformed(_)
        )
    }

    /// A malformed answer: `what` did not parse. The detail (which may quote the answer) is
    /// logged here, once, where the answer is judged; the client is told only that it was
    /// malformed.
    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        let what = what.into();
        tracing::warn!(upstream.problem = %what, "SYNCHRO Perform sent a malformed response");
        Self::Malformed(what)
    }
}

impl UpstreamError {
    /// What a client is told of this failure: Gatehouse's words with the upstream's status and
    /// plain code, never the upstream's text. The server answers with it; the idempotency store
    /// keeps it to replay a failed write.
    pub fn public(self) -> PublicError {
        let message = self.to_string();
        match self {
            UpstreamError::NoToken { .. } => PublicError::new(ErrorCode::UpstreamUnavailable, message),
            UpstreamError::Unauthorized => PublicError::new(ErrorCode::UpstreamRejected, message)
                .with_details(json!({ "upstream": { "status": 401 } })),
            UpstreamError::Forbidden => PublicError::new(ErrorCode::UpstreamRejected, message)
                .with_details(json!({ "upstream": { "status": 403 } })),
            UpstreamError::NotFound => PublicError::new(ErrorCode::NotFound, "no such record"),
            UpstreamError::Validation {
                status,
                code,
                fields,
            } => PublicError::new(ErrorCode::BadUserInput, message).with_details(json!({
                "upstream": { "status": status, "code": code },
                "fields": fields
                    .iter()
                    .map(|field| json!({ "field": field, "message": "SYNCHRO Perform refused this value" }))
                    .collect::<Vec<Value>>(),
            })),
            UpstreamError::Conflict { code } => PublicError::new(ErrorCode::Conflict, message)
                .with_details(json!({ "upstream": { "status": 409, "code": code } })),
            UpstreamError::RateLimited { retry_after } => {
                PublicError::new(ErrorCode::UpstreamUnavailable, message).with_details(json!({
                    "retryAfterSeconds": retry_after.map(|d| d.as_secs().max(1)),
                }))
            }
            UpstreamError::Unavailable { .. }
            | UpstreamError::Timeout(_)
            | UpstreamError::TooLarge { .. }
            | UpstreamError::Malformed(_) => PublicError::new(ErrorCode::UpstreamUnavailable, message),
        }
    }
}

impl From<UpstreamError> for PublicError {
    fn from(error: UpstreamError) -> Self {
        error.public()
    }
}

/// The field names an upstream `details` object refuses, when they are plain names: either
/// `{"fields": {"name": "message", ...}}` or `["name", ...]`, or `{"field": "name"}` /
/// `{"parameter": "name"}`. The upstream's per-field messages are not kept.
pub(crate) fn refused_fields(details: &Value) -> Vec<String> {
    let names: Vec<&str> = match details.get("fields") {
        Some(Value::Object(fields)) => fields.keys().map(String::as_str).collect(),
        Some(Value::Array(fields)) => fields.iter().filter_map(Value::as_str).collect(),
        _ => details
            .get("field")
            .or_else(|| details.get("parameter"))
            .and_then(Value::as_str)
            .into_iter()
            .collect(),
    };
    names
        .into_iter()
        .filter(|name| is_plain_name(name))
        .map(ToOwned::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: &str = "LEAK-4f1d stack trace at db-07.internal";

    #[test]
    fn only_plain_machine_names_are_kept_from_an_upstream_body() {
        assert!(is_plain_name("duplicate_reference_code"));
        assert!(is_plain_name("items[0].quantity"));
        assert!(!is_plain_name(MARKER));
        assert!(!is_plain_name(""));
        assert!(!is_plain_name("_leading"));
        assert!(!is_plain_name(&"a".repeat(MAX_NAME_CHARS + 1)));
        let details = json!({ "fields": { "percent_complete": MARKER, MARKER: "x" } });
        assert_eq!(refused_fields(&details), ["percent_complete"]);
        let listed = json!({ "fields": ["quantity_delta", MARKER] });
        assert_eq!(refused_fields(&listed), ["quantity_delta"]);
        assert_eq!(refused_fields(&json!({ "parameter": "from" })), ["from"]);
        assert!(refused_fields(&json!({ "note": MARKER })).is_empty());
    }

    #[test]
    fn a_refusal_reaches_the_client_in_gatehouses_words_with_the_upstream_status() {
        let error = UpstreamError::Validation {
            status: 422,
            code: "activity_budget_zero".into(),
            fields: vec!["percent_complete".into()],
        }
        .public();
        assert_eq!(error.code, ErrorCode::BadUserInput);
        assert_eq!(error.message, "SYNCHRO Perform refused the call (HTTP 422)");
        let extensions = Value::Object(error.extensions());
        assert_eq!(extensions["upstream"]["status"], 422);
        assert_eq!(extensions["upstream"]["code"], "activity_budget_zero");
        assert_eq!(extensions["fields"][0]["field"], "percent_complete");
    }

    #[test]
    fn an_oversized_answer_is_unavailable_with_the_cap_in_the_message() {
        let error = UpstreamError::TooLarge { limit: 1024 }.public();
        assert_eq!(error.code, ErrorCode::UpstreamUnavailable);
        assert_eq!(
            error.message,
            "SYNCHRO Perform's answer was larger than 1024 bytes"
        );
        assert!(UpstreamError::TooLarge { limit: 1 }.is_outage());
    }

    #[test]
    fn a_malformed_answer_shows_the_client_nothing_of_what_did_not_parse() {
        let error = UpstreamError::Malformed(format!("activity: {MARKER}")).public();
        assert_eq!(error.code, ErrorCode::UpstreamUnavailable);
        assert!(!error.message.contains(MARKER), "{}", error.message);
    }
}
