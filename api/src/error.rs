//! The one error policy at Gatehouse's boundary.
//!
//! Services return their own `thiserror` enums; at the edge each becomes an [`ApiError`], which
//! knows its HTTP status and its stable `extensions.code`. Internal errors are logged once, here,
//! and returned opaque: the client gets the code `INTERNAL` and a request id, never the cause.

use std::ops::{Deref, DerefMut};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use gatehouse_core::error::{ErrorCode, FieldError, PublicError};

use gatehouse_core::access::AccessError;
use gatehouse_core::auth::app_keys::KeyError;
use gatehouse_core::auth::users::AccountError;
use gatehouse_core::dataclips::DataclipError;
use gatehouse_core::vault::VaultError;

/// The HTTP status that goes with `code` when it ends a whole request.
pub const fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest
        | ErrorCode::BadUserInput
        | ErrorCode::GraphqlParseFailed
        | ErrorCode::GraphqlValidationFailed
        | ErrorCode::QueryTooDeep
        | ErrorCode::TooManyAliases
        | ErrorCode::TooManyFields
        | ErrorCode::QueryTooLarge => StatusCode::BAD_REQUEST,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::CsrfFailed => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooCostly | ErrorCode::UseDataclips => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UpstreamUnavailable => StatusCode::BAD_GATEWAY,
        ErrorCode::UpstreamRejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::VaultLocked => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error on its way to a client, over GraphQL or plain HTTP: a [`PublicError`] (its code,
/// message and details read through it) that the server knows how to answer with.
#[derive(Debug, Clone)]
pub struct ApiError(pub PublicError);

impl Deref for ApiError {
    type Target = PublicError;

    fn deref(&self) -> &PublicError {
        &self.0
    }
}

impl DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut PublicError {
        &mut self.0
    }
}

impl From<PublicError> for ApiError {
    fn from(error: PublicError) -> Self {
        Self(error)
    }
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(PublicError::new(code, message))
    }

    /// Adds machine-readable detail (an object whose keys go into `extensions`).
    pub fn with_details(self, details: Value) -> Self {
        Self(self.0.with_details(details))
    }

    /// Logs an internal failure once, with its cause chain, and returns the opaque error the
    /// client sees.
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        Self(PublicError::internal(context, error))
    }

    /// Shorthand for [`ErrorCode::Unauthenticated`].
    pub fn unauthenticated() -> Self {
        Self(PublicError::unauthenticated())
    }

    /// Shorthand for [`ErrorCode::Forbidden`].
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self(PublicError::forbidden(message))
    }

    /// Shorthand for [`ErrorCode::NotFound`].
    pub fn not_found(what: &str) -> Self {
        Self(PublicError::not_found(what))
    }

    /// Shorthand for [`ErrorCode::BadUserInput`] on one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self(PublicError::invalid_field(field, message))
    }

    /// [`ErrorCode::BadUserInput`] naming every invalid field (see
    /// [`PublicError::invalid_fields`]).
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        Self(PublicError::invalid_fields(fields))
    }

    /// The GraphQL-shaped body of a request that failed as a whole.
    pub fn to_graphql_body(&self) -> Value {
        json!({ "errors": [{ "message": self.message, "extensions": self.extensions() }] })
    }
}

// `ApiError` deliberately implements neither `Display` nor `std::error::Error`: async-graphql
// converts every `Display` type into an error without extensions, which would silently drop the
// code. The `From` below is the only way into a GraphQL error.

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self(error.into())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let mut out = async_graphql::Error::new(error.message.clone());
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        for (k, v) in error.extensions() {
            if let Ok(value) = async_graphql::Value::from_json(v) {
                extensions.set(k, value);
            }
        }
        out.extensions = Some(extensions);
        out
    }
}

/// Plain HTTP routes answer errors as `{"error": {"code", "message", ...}}`.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let PublicError {
            code,
            message,
            details,
        } = self.0;
        let mut body = serde_json::Map::new();
        body.insert("code".into(), Value::String(code.as_str().into()));
        body.insert("message".into(), Value::String(message));
        if let Some(Value::Object(details)) = details {
            body.extend(details);
        }
        (status(code), Json(json!({ "error": body }))).into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// The core's errors, as clients see them

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        match &error {
            KeyError::Unknown | KeyError::Revoked | KeyError::Expired => {
                ApiError::new(ErrorCode::Unauthenticated, error.to_string())
            }
            KeyError::Invalid { field, message } => ApiError::invalid_field(field, message.clone()),
            KeyError::NotFound => ApiError::not_found("app key"),
            KeyError::Db(e) => ApiError::internal("app keys", e),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match &error {
            AccountError::InvalidEmail(_) => ApiError::invalid_field("email", error.to_string()),
            AccountError::WeakPassword => ApiError::invalid_field("password", error.to_string()),
            AccountError::EmailTaken => ApiError::new(ErrorCode::Conflict, error.to_string()),
            AccountError::InvalidCredentials => {
                ApiError::new(ErrorCode::Unauthenticated, error.to_string())
            }
            AccountError::NotFound => ApiError::not_found("user"),
            AccountError::NotEmpty => ApiError::new(ErrorCode::Conflict, error.to_string()),
            AccountError::Db(e) => ApiError::internal("accounts", e),
            AccountError::Hashing => ApiError::internal("accounts", &error),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::NotFound => ApiError::not_found("access request"),
            AccessError::Forbidden(message) => ApiError::forbidden(message),
            AccessError::WrongStatus(message) => ApiError::new(ErrorCode::Conflict, message),
            AccessError::Invalid { field, message } => ApiError::invalid_field(&field, message),
            error @ AccessError::NotReady(_) => {
                ApiError::new(ErrorCode::BadUserInput, error.to_string())
            }
            error @ AccessError::QuotaReached {
                retry_after_secs, ..
            } => ApiError::new(ErrorCode::RateLimited, error.to_string())
                .with_details(json!({ "retryAfterSeconds": retry_after_secs })),
            AccessError::Vault(e) => e.into(),
            AccessError::Key(e) => e.into(),
            AccessError::Db(e) => ApiError::internal("access requests", &e),
        }
    }
}

impl From<VaultError> for ApiError {
    fn from(error: VaultError) -> Self {
        match &error {
            VaultError::NoKey => ApiError::new(ErrorCode::VaultLocked, error.to_string()),
            VaultError::Invalid { field, message } => {
                ApiError::invalid_field(field, message.clone())
            }
            VaultError::Undecryptable { .. } | VaultError::Encrypt(_) => {
                ApiError::internal("vault", &error)
            }
            VaultError::Db(e) => ApiError::internal("vault", e),
        }
    }
}

impl From<DataclipError> for ApiError {
    fn from(error: DataclipError) -> Self {
        match &error {
            DataclipError::NotConfigured { .. } => {
                ApiError::new(ErrorCode::NotFound, error.to_string())
            }
            DataclipError::NoSnapshot { .. } => {
                ApiError::new(ErrorCode::UpstreamUnavailable, error.to_string())
            }
            DataclipError::RefreshTooSoon {
                retry_after_secs, ..
            } => ApiError::new(ErrorCode::RateLimited, error.to_string())
                .with_details(json!({ "retryAfterSeconds": retry_after_secs })),
            DataclipError::InvalidCursor(_) => ApiError::invalid_field("after", error.to_string()),
            DataclipError::Db(db) => ApiError::internal("dataclips", db),
        }
    }
}

impl From<gatehouse_core::upstream::UpstreamError> for ApiError {
    fn from(error: gatehouse_core::upstream::UpstreamError) -> Self {
        Self(error.public())
    }
}

/// Result alias for code at the boundary.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_without_a_key_answers_vault_locked() {
        assert_eq!(
            ApiError::from(VaultError::NoKey).code,
            ErrorCode::VaultLocked
        );
    }
}
