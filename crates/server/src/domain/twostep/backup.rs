//! Saved backup codes (SECURITY.md M1): ten single-use codes a person prints or writes down
//! for the day their phone is lost. Each is 16 characters from a 32-letter alphabet (80 random
//! bits, above the 64 M1 asks), shown in groups of four; letters that are easily confused when
//! read aloud or handwritten (i, l, o, u) are left out, and typed back they are forgiven.

use crate::clock::Entropy;
use crate::domain::DomainError;
use crate::domain::secrets::ServerKey;

pub const COUNT: usize = 10;
const LEN: usize = 16;
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
// 16 symbols of 5 bits: 80 bits, at least the 64 of SECURITY.md M1.
const _: () = assert!(LEN * 5 >= 64);

/// A new code, as shown: `7k2m-q9xd-4t8w-hh3p`.
pub fn new_code(entropy: &dyn Entropy) -> Result<String, DomainError> {
    let mut raw = [0u8; LEN];
    entropy
        .fill(&mut raw)
        .map_err(|e| DomainError::Internal(format!("random: {e}")))?;
    // 32 divides 256: the low five bits of each byte are uniform.
    let chars: Vec<u8> = raw.iter().map(|b| ALPHABET[usize::from(b & 31)]).collect();
    Ok(chars
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-"))
}

/// What a person typed, as stored: lower case, no spaces or dashes, and the letters they may
/// have read for a digit (o for 0, i or l for 1) or for v (u) put back. None: not a code.
pub fn normalize(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(LEN);
    for c in typed.chars() {
        let c = c.to_ascii_lowercase();
        let c = match c {
            ' ' | '-' | '\t' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            'u' => 'v',
            c => c,
        };
        if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        out.push(c);
    }
    (out.len() == LEN).then_some(out)
}

/// The stored form: an HMAC under the server key, bound to the account, so a code copied from
/// one account's row never works for another and a database dump yields no code (R3).
pub fn tag(key: &ServerKey, account_id: i64, normalized: &str) -> String {
    key.tag(&["backup_code", &account_id.to_string(), normalized])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    #[test]
    fn codes_are_long_random_and_grouped() {
        let a = new_code(&OsEntropy).unwrap();
        let b = new_code(&OsEntropy).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert_eq!(a.matches('-').count(), 3);
        assert_eq!(normalize(&a).unwrap().len(), LEN);
    }

    #[test]
    fn typing_slips_are_forgiven() {
        let n = normalize("7K2M Q9XD-4T8W hh3p").unwrap();
        assert_eq!(n, "7k2mq9xd4t8whh3p");
        assert_eq!(
            normalize("oooo-iiii-llll-uuuu").unwrap(),
            "000011111111vvvv"
        );
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize("7k2m-q9xd-4t8w-hh3p-extra"), None);
        assert_eq!(normalize("7k2m-q9xd-4t8w-hh3!"), None);
    }

    #[test]
    fn tags_are_bound_to_the_account() {
        let key = ServerKey::from_bytes([1; 32]);
        assert_ne!(tag(&key, 1, "x"), tag(&key, 2, "x"));
        assert_eq!(tag(&key, 1, "x"), tag(&key, 1, "x"));
    }
}
