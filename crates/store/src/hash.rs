//! The audit log's hash chain: each event's hash covers the previous hash, its sequence number
//! and its exact stored payload, so editing, removing or reordering events is detectable.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The chain's starting point for one application.
pub(crate) fn genesis(application: Uuid) -> String {
    hex::encode(Sha256::digest(format!("softland:{application}")))
}

/// The hash of event `seq` with `payload`, following `prev`.
pub(crate) fn link(prev: &str, seq: i64, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(payload.as_bytes());
    hex::encode(h.finalize())
}

/// SHA-256 hex of arbitrary text (content hashes, request hashes, token hashes).
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_change_breaks_the_link() {
        let g = genesis(Uuid::nil());
        let a = link(&g, 1, r#"{"kind":"submitted"}"#);
        assert_ne!(a, link(&g, 2, r#"{"kind":"submitted"}"#));
        assert_ne!(a, link(&g, 1, r#"{"kind":"withdrawn"}"#));
        assert_ne!(a, link(&a, 1, r#"{"kind":"submitted"}"#));
        assert_eq!(a.len(), 64);
    }
}
