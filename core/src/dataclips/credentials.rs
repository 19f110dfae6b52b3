//! Where a clip's dataclip user and password come from.
//!
//! Today they are in the configuration ([`ConfigCredentials`]). The encrypted vault will hold
//! them later: it implements [`DataclipCredentials`] and is handed to
//! [`super::Dataclips::with_credentials`], with no other change to the scheduler.

use std::collections::HashMap;
use std::fmt;

use futures::future::BoxFuture;
use secrecy::SecretString;

use super::DataclipsConfig;

/// A dataclip user's HTTP Basic credentials.
#[derive(Clone)]
pub struct BasicCredentials {
    /// The dataclip user name.
    pub(crate) username: String,
    /// The password; never logged.
    pub(crate) password: SecretString,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// Why credentials could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No credentials are stored for the clip.
    #[error("no dataclip credentials for project {project_id}, clip {clip}")]
    Missing {
        /// The project.
        project_id: String,
        /// The clip.
        clip: String,
    },
    /// The store failed (e.g. the vault could not decrypt).
    #[error("the credential store failed: {0}")]
    Store(String),
}

/// A source of dataclip credentials. Object-safe, so the service holds a
/// `Box<dyn DataclipCredentials>` and the vault can replace the configuration.
pub trait DataclipCredentials: Send + Sync + fmt::Debug {
    /// The credentials to read `clip` of `project_id` with.
    fn credentials<'a>(
        &'a self,
        project_id: &'a str,
        clip: &'a str,
    ) -> BoxFuture<'a, Result<BasicCredentials, CredentialsError>>;
}

/// Credentials from `[[dataclips.sources]]` in the configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigCredentials {
    by_clip: HashMap<(String, String), BasicCredentials>,
}

impl ConfigCredentials {
    /// The credentials of every configured source.
    pub fn from_config(config: &DataclipsConfig) -> Self {
        let mut by_clip = HashMap::new();
        for source in &config.sources {
            for clip in &source.clips {
                by_clip.insert(
                    (source.project_id.clone(), clip.clone()),
                    BasicCredentials {
                        username: source.username.clone(),
                        password: source.password.clone(),
                    },
                );
            }
        }
        Self { by_clip }
    }
}

impl DataclipCredentials for ConfigCredentials {
    fn credentials<'a>(
        &'a self,
        project_id: &'a str,
        clip: &'a str,
    ) -> BoxFuture<'a, Result<BasicCredentials, CredentialsError>> {
        let found = self
            .by_clip
            .get(&(project_id.to_owned(), clip.to_owned()))
            .cloned()
            .ok_or_else(|| CredentialsError::Missing {
                project_id: project_id.to_owned(),
                clip: clip.to_owned(),
            });
        Box::pin(async move { found })
    }
}

/// Credentials from the vault first (recorded with `recordDataclipCredentials`), then from the
/// configuration.
#[derive(Debug, Clone)]
pub struct VaultThenConfig {
    /// The vault.
    pub vault: std::sync::Arc<crate::vault::Vault>,
    /// The configuration's credentials.
    pub config: ConfigCredentials,
}

impl DataclipCredentials for VaultThenConfig {
    fn credentials<'a>(
        &'a self,
        project_id: &'a str,
        clip: &'a str,
    ) -> BoxFuture<'a, Result<BasicCredentials, CredentialsError>> {
        Box::pin(async move {
            match self.vault.current_dataclip_credentials(project_id).await {
                Ok(Some((username, password))) => {
                    return Ok(BasicCredentials { username, password });
                }
                Ok(None) | Err(crate::vault::VaultError::NoKey) => {}
                Err(error) => return Err(CredentialsError::Store(error.to_string())),
            }
            self.config.credentials(project_id, clip).await
        })
    }
}
