//! Users: creation, password resets, sign-in checks and the first-admin bootstrap.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use super::secrets::{decoy_hash, hash_password, verify_password};
use super::{Role, User, to_user};
use crate::audit::{self, Actor};
use crate::db::entities::users;

/// Shortest password accepted.
pub(crate) const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (argon2 is fed whole passwords; bound the work).
pub(crate) const MAX_PASSWORD_LEN: usize = 1024;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The email is not a plausible address.
    #[error("not a valid email address: {0}")]
    InvalidEmail(String),
    /// The password is too short or too long.
    #[error("the password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long")]
    WeakPassword,
    /// Another account has this email.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown email, wrong password or disabled account (deliberately not told apart).
    #[error("wrong email or password")]
    InvalidCredentials,
    /// No such user.
    #[error("no user with this email")]
    NotFound,
    /// Bootstrap refused because users exist.
    #[error("users already exist; create further users as an admin")]
    NotEmpty,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Hashing failed (should not happen with valid parameters).
    #[error("password hashing failed")]
    Hashing,
}

/// Normalises and checks an email address with the validation rules of `compliance`, then
/// lower-cases it whole: sign-in names are case-insensitive.
pub(crate) fn normalise_email(email: &str) -> Result<String, AccountError> {
    gatehouse_compliance::model::Email::parse(email)
        .map(|e| e.as_str().to_lowercase())
        .map_err(|e| AccountError::InvalidEmail(e.to_string()))
}

fn check_password(password: &str) -> Result<(), AccountError> {
    let len = password.chars().count();
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        Ok(())
    } else {
        Err(AccountError::WeakPassword)
    }
}

async fn hash(password: &str) -> Result<String, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AccountError::Hashing)?
        .map_err(|_| AccountError::Hashing)
}

/// Creates a user; the audit entry is written in the same transaction.
pub async fn create_user(
    db: &DatabaseConnection,
    actor: &Actor,
    email: &str,
    role: Role,
    password: &str,
) -> Result<User, AccountError> {
    let email = normalise_email(email)?;
    check_password(password)?;
    let password_hash = hash(password).await?;
    let txn = crate::db::begin_write(db).await?;
    let exists = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .count(&txn)
        .await?;
    if exists > 0 {
        return Err(AccountError::EmailTaken);
    }
    let now = Utc::now();
    let row = users::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(email.clone()),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        disabled_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "user.create",
        "user",
        &row.id.to_string(),
        json!({ "email": email, "role": role }),
    )
    .await?;
    txn.commit().await?;
    Ok(to_user(row))
}

/// Creates the first admin; refused once any user exists.
pub async fn bootstrap_admin(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<User, AccountError> {
    if users::Entity::find().count(db).await? > 0 {
        return Err(AccountError::NotEmpty);
    }
    create_user(db, &Actor::Cli, email, Role::Admin, password).await
}

/// Replaces a user's password and signs them out everywhere.
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &Actor,
    email: &str,
    new_password: &str,
) -> Result<User, AccountError> {
    let email = normalise_email(email)?;
    check_password(new_password)?;
    let password_hash = hash(new_password).await?;
    let txn = crate::db::begin_write(db).await?;
    let row = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&txn)
        .await?
        .ok_or(AccountError::NotFound)?;
    let id = row.id;
    let mut active: users::ActiveModel = row.into();
    active.password_hash = Set(password_hash);
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    super::sessions::destroy_all_for_user(&txn, id).await?;
    audit::record(
        &txn,
        actor,
        "user.reset_password",
        "user",
        &id.to_string(),
        json!({ "email": email }),
    )
    .await?;
    txn.commit().await?;
    Ok(to_user(row))
}

/// Checks an email and password. Unknown emails cost the same time as wrong passwords.
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<User, AccountError> {
    let email = normalise_email(email).map_err(|_| AccountError::InvalidCredentials)?;
    let row = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(db)
        .await?;
    let phc = row
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |r| r.password_hash.clone());
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|_| AccountError::Hashing)?;
    match row {
        Some(row) if ok && row.disabled_at.is_none() => Ok(to_user(row)),
        _ => Err(AccountError::InvalidCredentials),
    }
}

/// Every user, by email.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<User>, DbErr> {
    Ok(users::Entity::find()
        .order_by_asc(users::Column::Email)
        .all(db)
        .await?
        .into_iter()
        .map(to_user)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_implausible_ones_refused() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").expect("valid"),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.d",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough password").is_ok());
    }
}
