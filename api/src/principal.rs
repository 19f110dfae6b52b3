//! Who is calling one request, as the handlers and resolvers see it: a [`Principal`], and the
//! checks that turn "not allowed" into the error to answer with.

use std::sync::Arc;

use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};
use gatehouse_core::audit::Actor;
use gatehouse_core::auth::{AppKeyInfo, Role, User};

/// The caller of one request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// No credentials: only public fields answer.
    Anonymous,
    /// A signed-in user, through a web session.
    User {
        /// The user.
        user: User,
        /// The session's CSRF token, required on state-changing requests.
        csrf_token: String,
    },
    /// A programmatic client.
    AppKey(Arc<AppKeyInfo>),
}

impl Principal {
    /// The audit actor of this caller.
    pub fn actor(&self) -> Option<Actor> {
        match self {
            Self::Anonymous => None,
            Self::User { user, .. } => Some(Actor::User(user.id)),
            Self::AppKey(key) => Some(Actor::AppKey(key.id)),
        }
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&User> {
        match self {
            Self::User { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The app key, if any.
    pub fn app_key(&self) -> Option<&AppKeyInfo> {
        match self {
            Self::AppKey(key) => Some(key.as_ref()),
            _ => None,
        }
    }

    /// The signed-in user with at least `role`, or the error to answer with.
    pub fn require_role(&self, role: Role) -> Result<&User, ApiError> {
        match self {
            Self::Anonymous => Err(ApiError::unauthenticated()),
            Self::AppKey(_) => Err(ApiError::forbidden(format!(
                "this needs a signed-in user with the {role} role; app keys cannot do it"
            ))),
            Self::User { user, .. } if user.role >= role => Ok(user),
            Self::User { user, .. } => Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this needs the {role} role; you are a {}", user.role),
            )),
        }
    }

    /// Any authenticated caller, or `UNAUTHENTICATED`.
    pub fn require_authenticated(&self) -> Result<(), ApiError> {
        match self {
            Self::Anonymous => Err(ApiError::unauthenticated()),
            _ => Ok(()),
        }
    }

    /// The audit actor of an authenticated caller, or `UNAUTHENTICATED`.
    pub fn require_actor(&self) -> Result<Actor, ApiError> {
        self.actor().ok_or_else(ApiError::unauthenticated)
    }
}

/// Parses a UUID from client input with an error naming the field.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::invalid_field(field, "is not a valid id"))
}
