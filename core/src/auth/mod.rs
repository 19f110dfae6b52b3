//! Who is calling: users (web sessions), app keys (programmatic clients), their roles and scopes.

pub mod app_keys;
pub(crate) mod scopes;
pub mod secrets;
pub mod sessions;
pub mod throttle;
pub mod users;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use app_keys::AppKeyInfo;
pub use scopes::{Access, KeyScopes};

/// A user's role. Each role includes the ones before it: an admin can review, a reviewer can do
/// what a contact can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A project contact: describes use cases and requests access.
    Contact,
    /// A governance reviewer: reviews requests, reads usage reports.
    Reviewer,
    /// An administrator: manages users and app keys.
    Admin,
}

impl Role {
    /// The role's stored name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "contact" => Ok(Self::Contact),
            "reviewer" => Ok(Self::Reviewer),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown role `{other}`: expected contact, reviewer or admin"
            )),
        }
    }
}

/// A user as the rest of Gatehouse sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Email, lower-cased; the sign-in name.
    pub email: String,
    /// Role.
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// The user of a stored row.
pub(crate) fn to_user(row: crate::db::entities::users::Model) -> User {
    User {
        id: row.id,
        email: row.email,
        // Roles are written only from the enum; an unknown stored value degrades to the least
        // privileged role rather than failing sign-in.
        role: row.role.parse().unwrap_or(Role::Contact),
        created_at: row.created_at,
        disabled: row.disabled_at.is_some(),
    }
}
