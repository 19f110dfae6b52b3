//! Role guards for fields and mutations.

use async_graphql::{Context, Guard, Result};

use gatehouse_core::auth::Role;

/// Lets a field resolve only for a signed-in user with at least the given role.
#[derive(Debug, Clone, Copy)]
pub struct RoleGuard(pub Role);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        super::principal(ctx)?.require_role(self.0)?;
        Ok(())
    }
}

/// Lets a field resolve for any authenticated caller (user or app key).
#[derive(Debug, Clone, Copy)]
pub struct AuthenticatedGuard;

impl Guard for AuthenticatedGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        super::principal(ctx)?.require_authenticated()?;
        Ok(())
    }
}
