//! AES-256-GCM with a random 96-bit nonce per encryption and the record's identity as
//! associated data: a ciphertext decrypts only under the key that made it and only in the row
//! it was made for.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;

/// Bytes of an AES-GCM nonce.
const NONCE_LEN: usize = 12;

/// Why a stored ciphertext did not decrypt. Deliberately without detail: a wrong key, a
/// tampered ciphertext and a ciphertext moved to another row look the same to AES-GCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the ciphertext does not decrypt: wrong key, tampered record or record moved")]
pub(crate) struct DecryptError;

/// Why a secret could not be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret could not be encrypted")]
pub struct EncryptError;

/// The vault's cipher. Its `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct Cipher {
    aead: Aes256Gcm,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher([REDACTED])")
    }
}

impl Cipher {
    /// A cipher under a 256-bit key.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            aead: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        }
    }

    /// Encrypts `plaintext` bound to `associated_data`; returns base64 of nonce ‖ ciphertext ‖
    /// tag. (AES-GCM fails only on inputs over 64 GiB.)
    pub(crate) fn encrypt(
        &self,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<String, EncryptError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            .map_err(|_| EncryptError)?;
        let mut stored = Vec::with_capacity(NONCE_LEN + sealed.len());
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&sealed);
        Ok(STANDARD.encode(stored))
    }

    /// Decrypts what [`Cipher::encrypt`] made with the same associated data.
    pub(crate) fn decrypt(
        &self,
        stored: &str,
        associated_data: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let bytes = STANDARD.decode(stored).map_err(|_| DecryptError)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(DecryptError);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: associated_data,
                },
            )
            .map_err(|_| DecryptError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_secret_round_trips_under_its_key_and_associated_data() {
        let cipher = Cipher::new(&KEY);
        let stored = cipher
            .encrypt(b"tok_live_123456", b"row-1")
            .expect("encrypts");
        assert!(!stored.contains("tok_live"));
        assert_eq!(
            cipher.decrypt(&stored, b"row-1").expect("decrypts"),
            b"tok_live_123456"
        );
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let cipher = Cipher::new(&KEY);
        assert_ne!(
            cipher.encrypt(b"same", b"a").expect("encrypts"),
            cipher.encrypt(b"same", b"a").expect("encrypts")
        );
    }

    #[test]
    fn a_wrong_key_is_refused_rather_than_decrypted_to_garbage() {
        let stored = Cipher::new(&KEY)
            .encrypt(b"secret", b"row-1")
            .expect("encrypts");
        assert_eq!(
            Cipher::new(&[8; 32]).decrypt(&stored, b"row-1"),
            Err(DecryptError)
        );
    }

    #[test]
    fn a_tampered_or_moved_ciphertext_is_refused() {
        let cipher = Cipher::new(&KEY);
        let stored = cipher.encrypt(b"secret", b"row-1").expect("encrypts");
        let mut bytes = STANDARD.decode(&stored).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            cipher.decrypt(&STANDARD.encode(&bytes), b"row-1"),
            Err(DecryptError)
        );
        assert_eq!(cipher.decrypt(&stored, b"row-2"), Err(DecryptError));
        assert_eq!(cipher.decrypt("not base64!", b"row-1"), Err(DecryptError));
        assert_eq!(cipher.decrypt("AAAA", b"row-1"), Err(DecryptError));
    }
}
