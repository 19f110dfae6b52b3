//! Where the upstream token of a project comes from: the encrypted vault, or the profile's
//! `tokens` for demos and tenants without the vault.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use secrecy::SecretString;

/// A boxed future, for object-safe async traits.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies the upstream token of a project.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// The token for `project_id`, if one is known.
    fn token_for<'a>(&'a self, project_id: &'a str) -> BoxFuture<'a, Option<SecretString>>;

    /// The projects this source has tokens for.
    fn projects(&self) -> BoxFuture<'_, Vec<String>>;
}

/// Tokens from the configuration (`[upstream.tokens]`).
#[derive(Debug, Clone, Default)]
pub struct ConfigTokens {
    tokens: Arc<BTreeMap<String, SecretString>>,
}

impl ConfigTokens {
    /// Tokens by project id.
    pub fn new(tokens: BTreeMap<String, SecretString>) -> Self {
        Self {
            tokens: Arc::new(tokens),
        }
    }
}

impl TokenSource for ConfigTokens {
    fn token_for<'a>(&'a self, project_id: &'a str) -> BoxFuture<'a, Option<SecretString>> {
        let token = self.tokens.get(project_id).cloned();
        Box::pin(async move { token })
    }

    fn projects(&self) -> BoxFuture<'_, Vec<String>> {
        let projects = self.tokens.keys().cloned().collect();
        Box::pin(async move { projects })
    }
}

/// Asks each source in turn (the vault first, then the configuration).
#[derive(Debug, Clone)]
pub struct ChainedTokens(pub Vec<Arc<dyn TokenSource>>);

impl TokenSource for ChainedTokens {
    fn token_for<'a>(&'a self, project_id: &'a str) -> BoxFuture<'a, Option<SecretString>> {
        Box::pin(async move {
            for source in &self.0 {
                if let Some(token) = source.token_for(project_id).await {
                    return Some(token);
                }
            }
            None
        })
    }

    fn projects(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            let mut all = Vec::new();
            for source in &self.0 {
                for project in source.projects().await {
                    if !all.contains(&project) {
                        all.push(project);
                    }
                }
            }
            all
        })
    }
}
