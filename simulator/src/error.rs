//! The one error type of the simulator's HTTP surface and its JSON shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::model::{ErrorBody, ErrorDetail};

/// An error answer: status, stable code, message and details, plus `Retry-After` for 429/503.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// Readable message.
    pub message: String,
    /// Structured details.
    pub details: Value,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Adds `Retry-After`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 400 for an unknown query parameter.
    pub fn unknown_parameter(name: &str, allowed: &[&str]) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_parameter",
            format!("unknown query parameter `{name}`"),
        )
        .with_details(json!({"parameter": name, "allowed": allowed}))
    }

    /// 400 for a query parameter whose value does not parse.
    pub fn invalid_parameter(name: &str, value: &str, expected: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("query parameter `{name}` must be {expected}"),
        )
        .with_details(json!({"parameter": name, "value": value, "expected": expected}))
    }

    /// 422 validation failure.
    pub fn validation(message: impl Into<String>, details: Value) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .with_details(details)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for a record or project that does not exist (or is hidden).
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 400 for a body that is not the JSON expected.
    pub fn bad_body(error: &serde_json::Error) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("request body: {error}"),
        )
        .with_details(json!({"line": error.line(), "column": error.column()}))
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
