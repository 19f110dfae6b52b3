//! Signed pagination cursors.
//!
//! A cursor is opaque to clients but not secret: it says where a list resumes (an upstream page,
//! a position in it, the page size it was read with). Unsigned, a client could forge one (a page
//! size of 100,000, a position in another list), so every cursor Gatehouse hands out is
//! `base64url(version ‖ payload ‖ tag)` with `tag = HMAC-SHA256(key, label ‖ scope ‖ payload)`,
//! where the scope names the list the cursor pages: the field, the project, and the filters or
//! the parent. A cursor that was altered, cut, made with another key or for another list fails
//! the check and is refused before anything in it is read.
//!
//! The key comes from `graphql.cursor_key`; else it is derived from `vault_key` (HMAC of a fixed
//! label, so instances sharing the vault key accept each other's cursors); else it is random
//! for the process, and cursors die with it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::config::Config;

type HmacSha256 = Hmac<Sha256>;

/// The format of the cursor; another value is refused.
const VERSION: u8 = 1;
/// Length of the HMAC-SHA256 tag.
const TAG_BYTES: usize = 32;
/// What every cursor's MAC starts with, so no other use of the key can make a valid cursor.
const DOMAIN: &[u8] = b"gatehouse/cursor/v1";
/// The label the cursor key is derived from `vault_key` with.
const VAULT_LABEL: &[u8] = b"gatehouse/cursor-key-from-vault-key/v1";
/// Cursors longer than this are refused unread. Gatehouse's own are well under it, even with a
/// long upstream continuation token inside.
pub const MAX_CURSOR_CHARS: usize = 4096;

/// Where the cursor key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `graphql.cursor_key`.
    Configured,
    /// Derived from `vault_key`.
    DerivedFromVaultKey,
    /// Made at random for this process.
    Random,
}

/// The key that signs cursors. Never shown in `Debug`.
#[derive(Clone)]
pub struct CursorKey {
    key: [u8; 32],
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey([REDACTED])")
    }
}

fn hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

impl CursorKey {
    /// A key of these bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The key derived from the vault key: HMAC-SHA256 of a fixed label under it, so the vault
    /// key itself never signs anything a client holds.
    pub fn derived_from_vault_key(vault_key: &[u8; 32]) -> Self {
        let mut mac = hmac(vault_key);
        mac.update(VAULT_LABEL);
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// A random key for this process only.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { key }
    }

    /// The key the configuration gives: `graphql.cursor_key`, else derived from `vault_key`,
    /// else random. `Err` says which key is not a key.
    pub fn from_config(config: &Config) -> Result<(Self, KeyOrigin), String> {
        if let Some(key) = &config.graphql.cursor_key {
            let bytes = key
                .bytes()
                .map_err(|problem| format!("`graphql.cursor_key` {problem}"))?;
            return Ok((Self::new(bytes), KeyOrigin::Configured));
        }
        if let Some(key) = &config.vault_key {
            let bytes = key
                .bytes()
                .map_err(|problem| format!("`vault_key` {problem}"))?;
            return Ok((
                Self::derived_from_vault_key(&bytes),
                KeyOrigin::DerivedFromVaultKey,
            ));
        }
        Ok((Self::random(), KeyOrigin::Random))
    }

    /// The cursors of one list, named by `parts` (e.g. the field, the project and the filters):
    /// a cursor sealed for one scope opens in no other.
    pub fn scope<S: AsRef<str>>(&self, parts: &[S]) -> CursorScope {
        let mut mac = hmac(&self.key);
        mac.update(DOMAIN);
        for part in parts {
            let part = part.as_ref().as_bytes();
            // Each part with its length, so that no two lists of parts read the same.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(&[0xff]);
        CursorScope { mac }
    }
}

/// Seals and opens the cursors of one list.
#[derive(Clone)]
pub struct CursorScope {
    /// The MAC with the key and the scope already absorbed.
    mac: HmacSha256,
}

impl fmt::Debug for CursorScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorScope([REDACTED])")
    }
}

impl CursorScope {
    /// A cursor carrying `payload`.
    pub fn seal(&self, payload: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(payload);
        let tag = mac.finalize().into_bytes();
        let mut bytes = Vec::with_capacity(1 + payload.len() + TAG_BYTES);
        bytes.push(VERSION);
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The payload of a cursor this scope sealed; `None` for anything else (altered, cut,
    /// another key's, another list's, or not a cursor at all). The tag is compared in constant
    /// time.
    pub fn open(&self, cursor: &str) -> Option<Vec<u8>> {
        if cursor.len() > MAX_CURSOR_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != VERSION || rest.len() < TAG_BYTES {
            return None;
        }
        let (payload, tag) = rest.split_at(rest.len() - TAG_BYTES);
        let mut mac = self.mac.clone();
        mac.update(payload);
        mac.verify_slice(tag).ok()?;
        Some(payload.to_vec())
    }

    /// A cursor carrying `value` as JSON.
    pub fn seal_json<T: Serialize>(&self, value: &T) -> String {
        self.seal(&serde_json::to_vec(value).unwrap_or_default())
    }

    /// The value of a cursor [`CursorScope::seal_json`] made in this scope.
    pub fn open_json<T: DeserializeOwned>(&self, cursor: &str) -> Option<T> {
        serde_json::from_slice(&self.open(cursor)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::new([7; 32])
    }

    #[test]
    fn a_sealed_cursor_opens_to_its_payload_in_its_own_scope() {
        let scope = key().scope(&["activities", "p1"]);
        let cursor = scope.seal(b"{\"i\":3}");
        assert_eq!(scope.open(&cursor).as_deref(), Some(&b"{\"i\":3}"[..]));
    }

    #[test]
    fn any_changed_byte_or_a_cut_cursor_is_refused() {
        let scope = key().scope(&["activities", "p1"]);
        let cursor = scope.seal(b"{\"c\":null,\"i\":3,\"s\":20}");
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64");
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                scope.open(&URL_SAFE_NO_PAD.encode(&tampered)),
                None,
                "byte {i}"
            );
        }
        assert_eq!(scope.open(&cursor[..cursor.len() - 4]), None);
        assert_eq!(scope.open(""), None);
        assert_eq!(scope.open("not a cursor"), None);
        assert_eq!(scope.open(&"A".repeat(MAX_CURSOR_CHARS + 4)), None);
    }

    #[test]
    fn a_cursor_of_another_list_or_another_key_is_refused() {
        let cursor = key().scope(&["activities", "p1"]).seal(b"x");
        assert_eq!(key().scope(&["activities", "p2"]).open(&cursor), None);
        assert_eq!(key().scope(&["events", "p1"]).open(&cursor), None);
        // Parts are length-prefixed: moving a boundary makes another scope.
        assert_eq!(key().scope(&["activitiesp", "1"]).open(&cursor), None);
        assert_eq!(
            CursorKey::new([8; 32])
                .scope(&["activities", "p1"])
                .open(&cursor),
            None
        );
    }

    #[test]
    fn the_key_comes_from_config_then_the_vault_key_then_chance() {
        let vault = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let cursor = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
        let load = |toml: &str| {
            let config = Config::from_toml(toml, &crate::config::Overrides::default())
                .expect("valid config");
            CursorKey::from_config(&config).expect("a key")
        };
        let (configured, origin) = load(&format!(
            "vault_key = \"{vault}\"\n[graphql]\ncursor_key = \"{cursor}\"\n"
        ));
        assert_eq!(origin, KeyOrigin::Configured);
        let (derived, origin) = load(&format!("vault_key = \"{vault}\"\n"));
        assert_eq!(origin, KeyOrigin::DerivedFromVaultKey);
        let (again, _) = load(&format!("vault_key = \"{vault}\"\n"));
        let (random, origin) = load("");
        assert_eq!(origin, KeyOrigin::Random);
        let sealed = derived.scope(&["a"]).seal(b"x");
        assert!(
            again.scope(&["a"]).open(&sealed).is_some(),
            "instances sharing a vault key share cursors"
        );
        assert!(configured.scope(&["a"]).open(&sealed).is_none());
        assert!(random.scope(&["a"]).open(&sealed).is_none());
        let vault_bytes = crate::config::VaultKey::new(vault).bytes().expect("key");
        assert_ne!(
            derived.key, vault_bytes,
            "the vault key itself never signs a cursor"
        );
        assert!(!format!("{derived:?}").contains(&format!("{:?}", derived.key)));
    }
}
