//! Sealed outbox payloads (SECURITY.md S9, ARCHITECTURE.md principle 9).
//!
//! A queued message may carry a live code or a reset link for as long as an SMTP outage lasts
//! (an hour), and a call's script stays until its code expires. Stored in plain text, a
//! database dump or backup alone would open those accounts. So every payload is sealed with
//! ChaCha20-Poly1305 under a key derived from the server key (which lives in a file, not in
//! the database), and erased once the message is sent, refused or expired.
//!
//! The message's kind, channel and destination are the associated data: a sealed payload
//! copied onto a row for another address or purpose does not open.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Marks a sealed payload and its format version.
const PREFIX: &str = "sealed:v1:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("no randomness for a nonce")]
    Entropy,
    #[error("payload could not be sealed")]
    Seal,
    /// Not sealed with this key for this message (or altered).
    #[error("payload could not be opened")]
    Open,
}

/// Seals and opens payloads. Cloning shares nothing mutable.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// `key` is 32 bytes derived for this purpose alone from the server key.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// Seals `plain` for the message described by `context`.
    pub fn seal(&self, context: &str, plain: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; 12];
        // A random 96-bit nonce: a few million messages a year stay far from the birthday
        // bound for one key.
        getrandom::fill(&mut nonce).map_err(|_| SealError::Entropy)?;
        let aad = context.as_bytes();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad,
                },
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = Vec::with_capacity(nonce.len() + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD_NO_PAD.encode(out)))
    }

    /// Opens a payload sealed for `context`.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, SealError> {
        let raw = stored
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD_NO_PAD.decode(b).ok())
            .filter(|r| r.len() > 12)
            .ok_or(SealError::Open)?;
        let (nonce, sealed) = raw.split_at(12);
        let aad = context.as_bytes();
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plain).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let s = Sealer::new([7; 32]);
        let sealed = s.seal("a", r#"{"code":"12345678"}"#).unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("12345678"));
        assert_eq!(s.open("a", &sealed).unwrap(), r#"{"code":"12345678"}"#);
        // Another row, another key, an altered byte, plain text: refused.
        assert_eq!(s.open("b", &sealed), Err(SealError::Open));
        assert_eq!(
            Sealer::new([8; 32]).open("a", &sealed),
            Err(SealError::Open)
        );
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.open("a", &String::from_utf8(altered).unwrap()),
            Err(SealError::Open)
        );
        assert_eq!(s.open("a", r#"{"code":"1"}"#), Err(SealError::Open));
    }

    #[test]
    fn two_seals_of_the_same_text_differ() {
        let s = Sealer::new([1; 32]);
        assert_ne!(s.seal("a", "same").unwrap(), s.seal("a", "same").unwrap());
    }
}
