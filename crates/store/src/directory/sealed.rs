//! Secrets at rest (webhook signing secrets): sealed with XChaCha20-Poly1305 under a key from
//! the configuration, so the database — and every backup of it — holds them only sealed.
//!
//! A sealed value reads `sealed:v1:<key id>:<base64 of nonce ‖ ciphertext>`; the key id is
//! the first eight hex digits of the key's SHA-256, so a value names the key that opens it.
//! Keys rotate: configure the new key as the current one and the old one as previous;
//! `Store::reseal_secrets` (run by `serve` at start) seals every value under the current key,
//! after which the previous key can be dropped. A value that is not sealed (written before a
//! key was configured) is read as it is and sealed by the next reseal.

use crate::error::{Error, Result};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const PREFIX: &str = "sealed:v1:";

/// One 256-bit key.
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A key from its base64 text (32 bytes).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| Error::InvalidDirectory("a secrets key is 32 bytes in base64".into()))?;
        Self::from_bytes(&bytes)
    }

    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::InvalidDirectory(
                "a secrets key is 32 bytes in base64".into(),
            ));
        }
        let cipher = XChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| Error::InvalidDirectory("a secrets key is 32 bytes".into()))?;
        Ok(SecretKey {
            id: crate::hash::sha256_hex(&hex::encode(bytes))[..8].to_owned(),
            cipher,
        })
    }

    /// A new random key, as base64 text.
    pub fn generate() -> Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Unavailable(format!("no randomness available: {e}")))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

/// The current key and the previous ones still read.
#[derive(Debug, Clone, Default)]
pub struct SecretKeys {
    current: Option<SecretKey>,
    previous: Vec<SecretKey>,
}

impl SecretKeys {
    /// Sealing with `current`, opening with it and `previous`.
    pub fn new(current: SecretKey, previous: Vec<SecretKey>) -> Self {
        SecretKeys {
            current: Some(current),
            previous,
        }
    }

    /// Seals `plain` under the current key (as it is, without a key).
    pub fn seal(&self, plain: &str) -> Result<String> {
        let Some(key) = &self.current else {
            return Ok(plain.to_owned());
        };
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::Unavailable(format!("no randomness available: {e}")))?;
        let sealed = key
            .cipher
            .encrypt(&XNonce::from(nonce), plain.as_bytes())
            .map_err(|_| Error::Unavailable("cannot seal a secret".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}:{}",
            key.id,
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    /// Opens a stored value (a value that is not sealed is returned as it is).
    pub fn open(&self, stored: &str) -> Result<String> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let unreadable = |why: &str| Error::Unavailable(format!("a sealed secret: {why}"));
        let (id, body) = rest
            .split_once(':')
            .ok_or_else(|| unreadable("malformed"))?;
        let key = self
            .current
            .iter()
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| unreadable(&format!("no configured key has id {id}")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| unreadable("malformed"))?;
        if bytes.len() < 24 {
            return Err(unreadable("malformed"));
        }
        let (nonce, sealed) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| unreadable("malformed"))?;
        let plain = key
            .cipher
            .decrypt(&XNonce::from(nonce), sealed)
            .map_err(|_| unreadable("it does not open with its key"))?;
        String::from_utf8(plain).map_err(|_| unreadable("not text"))
    }

    /// Whether a stored value is sealed under the current key (nothing to reseal).
    pub(crate) fn current(&self, stored: &str) -> bool {
        match &self.current {
            None => true,
            Some(k) => stored
                .strip_prefix(PREFIX)
                .is_some_and(|rest| rest.starts_with(&format!("{}:", k.id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_and_rotate() {
        let (a, b) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let old = SecretKeys::new(SecretKey::from_base64(&a).unwrap(), vec![]);
        let sealed = old.seal("whsec_abc").unwrap();
        assert!(
            sealed.starts_with(PREFIX) && !sealed.contains("whsec_abc"),
            "{sealed}"
        );
        assert_eq!(old.open(&sealed).unwrap(), "whsec_abc");
        assert_ne!(
            old.seal("whsec_abc").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
        // rotated: the new key reads the old value through the previous key
        let new = SecretKeys::new(
            SecretKey::from_base64(&b).unwrap(),
            vec![SecretKey::from_base64(&a).unwrap()],
        );
        assert_eq!(new.open(&sealed).unwrap(), "whsec_abc");
        assert!(!new.current(&sealed));
        assert!(new.current(&new.seal("x").unwrap()));
        // without the key that sealed it, a value does not open
        let other = SecretKeys::new(SecretKey::from_base64(&b).unwrap(), vec![]);
        assert!(other.open(&sealed).is_err());
        // tampering is caught
        let mut bad = sealed.clone();
        bad.pop();
        bad.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(old.open(&bad).is_err());
        // plain values (before a key was configured) read as they are
        assert_eq!(old.open("whsec_plain").unwrap(), "whsec_plain");
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
