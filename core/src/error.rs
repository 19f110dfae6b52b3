//! What a client is told when something fails: the stable [`ErrorCode`]s, [`FieldError`]s and
//! the [`PublicError`] that carries them. No transport here: the server maps a code to an HTTP
//! status and a GraphQL error; services return their own error enums, which the server maps.

use std::fmt;

use serde_json::{Value, json};

/// Stable, machine-readable error codes. Front ends switch on these; they never change meaning.
///
/// Exhaustive on purpose: the server matches every code to its HTTP status, so a new code does
/// not compile until it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, missing query, bad variables).
    BadRequest,
    /// An input value is invalid; `extensions.fields` says which.
    BadUserInput,
    /// The GraphQL document does not parse.
    GraphqlParseFailed,
    /// The GraphQL document is not valid against the schema.
    GraphqlValidationFailed,
    /// The operation is nested deeper than `graphql.max_depth`.
    QueryTooDeep,
    /// The operation uses more aliases than `graphql.max_aliases`.
    TooManyAliases,
    /// The operation selects more fields, fragments expanded, than `graphql.max_fields`.
    TooManyFields,
    /// The query text is longer than `graphql.max_query_bytes`.
    QueryTooLarge,
    /// The request body is larger than allowed.
    PayloadTooLarge,
    /// The HTTP method is not allowed for this request (e.g. a mutation over GET).
    MethodNotAllowed,
    /// The request's media type is not supported.
    UnsupportedMediaType,
    /// None of the media types in `Accept` can be produced.
    NotAcceptable,
    /// No valid credentials were presented.
    Unauthenticated,
    /// The credentials do not allow this.
    Forbidden,
    /// The CSRF token is missing or wrong.
    CsrfFailed,
    /// The record does not exist (or is not visible to the caller).
    NotFound,
    /// The change conflicts with the record's current state.
    Conflict,
    /// Too many requests; retry after the hinted delay.
    RateLimited,
    /// The operation's estimated cost exceeds the caller's budget.
    TooCostly,
    /// The question is analytical or a bulk sweep: ask Dataclips instead.
    UseDataclips,
    /// SYNCHRO Perform did not answer usably and no cached answer may stand in.
    UpstreamUnavailable,
    /// SYNCHRO Perform refused the call (its own validation, auth or conflict rules).
    UpstreamRejected,
    /// The vault has no key configured, so it cannot store or read secrets.
    VaultLocked,
    /// Something failed inside Gatehouse.
    Internal,
}

impl ErrorCode {
    /// The code as it appears in `extensions.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BAD_REQUEST",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::QueryTooDeep => "QUERY_TOO_DEEP",
            Self::TooManyAliases => "TOO_MANY_ALIASES",
            Self::TooManyFields => "TOO_MANY_FIELDS",
            Self::QueryTooLarge => "QUERY_TOO_LARGE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::CsrfFailed => "CSRF_FAILED",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::TooCostly => "TOO_COSTLY",
            Self::UseDataclips => "USE_DATACLIPS",
            Self::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            Self::UpstreamRejected => "UPSTREAM_REJECTED",
            Self::VaultLocked => "VAULT_LOCKED",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client is told of a failure: a stable code, a message for people (never a secret or an
/// internal cause) and machine-readable detail. Gatehouse's own data, before any transport:
/// the server turns it into an HTTP answer or a GraphQL error; the idempotency store keeps it
/// to replay a refusal.
#[derive(Debug, Clone)]
pub struct PublicError {
    /// The stable code.
    pub code: ErrorCode,
    /// A message for people; never contains a secret or an internal cause.
    pub message: String,
    /// Extra machine-readable detail merged into `extensions` (field errors, retry hints, ...).
    pub details: Option<Value>,
}

impl PublicError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Adds machine-readable detail (an object whose keys go into `extensions`).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Logs an internal failure once, with its cause chain, and returns the opaque error the
    /// client sees.
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error.context = context, error.message = %chain, "internal error");
        Self::new(
            ErrorCode::Internal,
            "an internal error occurred; it has been logged",
        )
    }

    /// Shorthand for [`ErrorCode::Unauthenticated`].
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "sign in or send a valid app key",
        )
    }

    /// Shorthand for [`ErrorCode::Forbidden`].
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// Shorthand for [`ErrorCode::NotFound`].
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// Shorthand for [`ErrorCode::BadUserInput`] on one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(ErrorCode::BadUserInput, format!("{field}: {message}"))
            .with_details(json!({ "fields": [{ "field": field, "message": message }] }))
    }

    /// [`ErrorCode::BadUserInput`] naming every invalid field, as `extensions.fields`:
    /// `[{field, message}]`. The message lists them all.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let summary = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let list: Vec<Value> = fields
            .iter()
            .map(|f| json!({ "field": f.field, "message": f.message }))
            .collect();
        Self::new(ErrorCode::BadUserInput, summary).with_details(json!({ "fields": list }))
    }

    /// The `extensions` object of this error.
    pub fn extensions(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        map.insert("code".into(), Value::String(self.code.as_str().into()));
        if let Some(Value::Object(details)) = &self.details {
            for (k, v) in details {
                map.insert(k.clone(), v.clone());
            }
        }
        map
    }
}

impl From<sea_orm::DbErr> for PublicError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::internal("database", &error)
    }
}

/// One invalid input field: its path in the input (`workflows[0].syncWindow`) and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path, in the client's (camelCase) names.
    pub field: String,
    /// What is wrong, for people.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
