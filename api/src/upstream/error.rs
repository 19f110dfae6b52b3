//! Every way an upstream call can fail, as one typed error. No response body can cause a panic:
//! whatever comes back is either parsed or reported as [`UpstreamError::Malformed`].

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};

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
    #[error("SYNCHRO Perform rejected the request: {message}")]
    Validation {
        /// HTTP status.
        status: u16,
        /// The upstream's error code.
        code: String,
        /// Its message.
        message: String,
        /// Its details (per field, where given).
        details: Value,
    },
    /// 409: a conflict (duplicate reference code, invalid transition).
    #[error("SYNCHRO Perform reported a conflict: {message}")]
    Conflict {
        /// The upstream's error code.
        code: String,
        /// Its message.
        message: String,
        /// Its details.
        details: Value,
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
        /// What happened.
        reason: String,
    },
    /// No answer within the configured time.
    #[error("SYNCHRO Perform did not answer within {0:?}")]
    Timeout(Duration),
    /// An answer that is not what the API promises.
    #[error("SYNCHRO Perform sent a malformed response: {0}")]
    Malformed(String),
}

impl UpstreamError {
    /// A short stable name for metrics and the usage ledger.
    pub const fn kind(&self) -> &'static str {
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
            Self::Malformed(_) => "malformed",
        }
    }

    /// Whether cached data may stand in for this failure (the upstream is down, not refusing).
    pub const fn is_outage(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. }
                | Self::Timeout(_)
                | Self::RateLimited { .. }
                | Self::Malformed(_)
        )
    }
}

impl From<UpstreamError> for ApiError {
    fn from(error: UpstreamError) -> Self {
        let message = error.to_string();
        match error {
            UpstreamError::NoToken { .. } => ApiError::new(ErrorCode::UpstreamUnavailable, message),
            UpstreamError::Unauthorized => ApiError::new(ErrorCode::UpstreamRejected, message)
                .with_details(json!({ "upstream": { "status": 401 } })),
            UpstreamError::Forbidden => ApiError::new(ErrorCode::UpstreamRejected, message)
                .with_details(json!({ "upstream": { "status": 403 } })),
            UpstreamError::NotFound => ApiError::new(ErrorCode::NotFound, "no such record"),
            UpstreamError::Validation {
                status,
                code,
                message: upstream_message,
                details,
            } => ApiError::new(ErrorCode::BadUserInput, message).with_details(json!({
                "upstream": { "status": status, "code": code, "details": details },
                "fields": field_errors(&details, &upstream_message),
            })),
            UpstreamError::Conflict { code, details, .. } => {
                ApiError::new(ErrorCode::Conflict, message)
                    .with_details(json!({ "upstream": { "code": code, "details": details } }))
            }
            UpstreamError::RateLimited { retry_after } => {
                ApiError::new(ErrorCode::UpstreamUnavailable, message).with_details(json!({
                    "retryAfterSeconds": retry_after.map(|d| d.as_secs().max(1)),
                }))
            }
            UpstreamError::Unavailable { .. }
            | UpstreamError::Timeout(_)
            | UpstreamError::Malformed(_) => ApiError::new(ErrorCode::UpstreamUnavailable, message),
        }
    }
}

/// Field errors named by an upstream `details` object, as `[{field, message}]`: either
/// `{"fields": {"name": "message"}}`, or `{"field": "name"}` / `{"parameter": "name"}` with the
/// upstream's message. Details that name no field give an empty list.
pub fn field_errors(details: &Value, message: &str) -> Value {
    let mut out = Vec::new();
    if let Some(fields) = details.get("fields").and_then(Value::as_object) {
        for (field, text_value) in fields {
            out.push(json!({ "field": field, "message": text(text_value) }));
        }
    } else if let Some(field) = details
        .get("field")
        .or_else(|| details.get("parameter"))
        .and_then(Value::as_str)
    {
        out.push(json!({ "field": field, "message": message }));
    }
    Value::Array(out)
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), ToOwned::to_owned)
}
