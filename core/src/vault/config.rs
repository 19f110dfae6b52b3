//! The vault's configuration: `[vault]` and the key that encrypts it (`vault_key`).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The vault of issued tokens and dataclip credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaultConfig {
    /// Days before a token's expiry from which queries show a warning.
    pub expiry_warning_days: u32,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            expiry_warning_days: 30,
        }
    }
}

/// The vault's encryption key: base64 of 32 bytes. Never shown in `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct VaultKey(SecretString);

impl VaultKey {
    /// Wraps a base64 key (checked by [`VaultKey::bytes`]).
    pub fn new(base64: impl Into<String>) -> Self {
        Self(SecretString::from(base64.into()))
    }

    /// The 32 key bytes, or why the value is not a key.
    pub fn bytes(&self) -> Result<[u8; 32], String> {
        key_bytes(&self.0)
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([REDACTED])")
    }
}

/// The 32 bytes of a base64 key, or why the value is not one (never quoting it).
pub fn key_bytes(secret: &SecretString) -> Result<[u8; 32], String> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(secret.expose_secret().trim())
        .map_err(|_| "is not valid base64".to_owned())?;
    <[u8; 32]>::try_from(decoded.as_slice())
        .map_err(|_| format!("must decode to 32 bytes, not {}", decoded.len()))
}
