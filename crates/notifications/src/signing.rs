//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): a secret is `whsec_`
//! and base64 of 32 random bytes; a delivery is signed with HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, sent as `v1,` and the base64 MAC; during a secret
//! rotation both secrets sign, separated by a space.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// How far a receiver should let a timestamp be from its clock (the specification's advice).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// Why a secret or a signature is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The secret is not `whsec_` and base64.
    #[error("a signing secret is `whsec_` followed by base64")]
    BadSecret,
    /// No signature matches.
    #[error("no signature matches")]
    Mismatch,
    /// The timestamp is missing, unreadable or too far from now.
    #[error("the timestamp is too old, in the future or unreadable")]
    Timestamp,
    /// The system gave no randomness.
    #[error("no randomness for a secret: {0}")]
    Random(String),
}

/// A new signing secret.
pub fn new_secret() -> Result<String, SignatureError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SignatureError::Random(e.to_string()))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

fn key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).map_err(|_| SignatureError::BadSecret)
}

fn mac(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Hmac<Sha256>, SignatureError> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&key(secret)?).map_err(|_| SignatureError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` header: one `v1,…` per secret, space-separated.
pub fn sign(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignatureError> {
    let mut out = Vec::with_capacity(secrets.len());
    for s in secrets {
        let tag = mac(s, id, timestamp, body)?.finalize().into_bytes();
        out.push(format!("v1,{}", STANDARD.encode(tag)));
    }
    Ok(out.join(" "))
}

/// What a receiver does: checks the timestamp is within [`TOLERANCE_SECONDS`] of `now` and
/// that one of the header's `v1` signatures is the MAC of `secret` (compared in constant time).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp.parse().map_err(|_| SignatureError::Timestamp)?;
    if (now - ts).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Timestamp);
    }
    for sig in signature_header.split(' ') {
        let Some(b64) = sig.strip_prefix("v1,") else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(b64) else {
            continue;
        };
        if mac(secret, id, ts, body)?.verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_specification_s_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let ts = 1614265330;
        let body = br#"{"test": 2432232314}"#;
        let header = sign(&[secret], id, ts, body).expect("signs");
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            verify(secret, id, "1614265330", &header, body, ts + 10),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_tampered_body_an_old_timestamp_and_a_wrong_secret() {
        let secret = new_secret().expect("random");
        let other = new_secret().expect("random");
        let header = sign(&[&secret], "msg_1", 1000, b"{}").expect("signs");
        assert_eq!(
            verify(&secret, "msg_1", "1000", &header, b"{ }", 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                &secret,
                "msg_1",
                "1000",
                &header,
                b"{}",
                1000 + TOLERANCE_SECONDS + 1
            ),
            Err(SignatureError::Timestamp)
        );
        assert_eq!(
            verify(&other, "msg_1", "1000", &header, b"{}", 1000),
            Err(SignatureError::Mismatch)
        );
        // During a rotation both sign: a receiver with either secret accepts.
        let both = sign(&[&other, &secret], "msg_1", 1000, b"{}").expect("signs");
        assert_eq!(verify(&secret, "msg_1", "1000", &both, b"{}", 1000), Ok(()));
        assert_eq!(verify(&other, "msg_1", "1000", &both, b"{}", 1000), Ok(()));
    }
}
