//! Recovery secrets: how codes, link tokens and references are made, and the server key that
//! turns them into what the database stores.
//!
//! SECURITY.md R1–R3: codes are 8 random digits and link tokens 256 random bits, both from the
//! OS CSPRNG; the database holds only HMAC-SHA256 under a key that lives outside it, so a dump
//! of the database opens nothing; comparisons are constant-time.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::clock::Entropy;
use crate::domain::DomainError;
use carekey_shared::CODE_DIGITS;

type HmacSha256 = Hmac<Sha256>;

/// The key for every HMAC CareKey stores. 32 random bytes.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

impl ServerKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads the key file (64 hex digits), creating it readable by this user only when it does
    /// not exist yet. `create_new` means two instances starting together cannot both write one.
    /// The key in `path`, or `None` when there is no such file (`carekey check` reads it this
    /// way too, without creating one).
    pub fn read(path: &Path) -> Result<Option<Self>, DomainError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            DomainError::Internal(format!("secret key file {}: {what}: {e}", path.display()))
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|e| fail("not hex", &e))?;
                let key: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| fail("wrong length", &"expected 64 hex digits"))?;
                Ok(Some(Self(key)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(fail("read", &e)),
        }
    }

    pub fn load_or_create(path: &Path, entropy: &dyn Entropy) -> Result<Self, DomainError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            DomainError::Internal(format!("secret key file {}: {what}: {e}", path.display()))
        };
        match Self::read(path)? {
            Some(key) => Ok(key),
            None => {
                let mut key = [0u8; 32];
                entropy.fill(&mut key).map_err(|e| fail("random", &e))?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| fail("create directory", &e))?;
                }
                // Written whole to a private temporary file, then linked into place: another
                // instance starting at the same moment, or a crash, never sees a half-written
                // key, and the first link wins.
                let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(&tmp).map_err(|e| fail("create", &e))?;
                f.write_all(hex::encode(key).as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| fail("write", &e))?;
                let linked = std::fs::hard_link(&tmp, path);
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "created a new server key");
                        Ok(Self(key))
                    }
                    // Another instance created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(path, entropy)
                    }
                    Err(e) => Err(fail("create", &e)),
                }
            }
        }
    }

    fn mac(&self, parts: &[&str]) -> HmacSha256 {
        // `new_from_slice` accepts any key length; 32 bytes cannot fail.
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        // Length-prefixed, so ("ab","c") and ("a","bc") never collide.
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p.as_bytes());
        }
        m
    }

    /// A key for one other purpose (sealing the outbox, say), derived so that no two purposes
    /// share key material: HMAC-SHA256 of the purpose's name under this key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.mac(&["derive", purpose])
            .finalize()
            .into_bytes()
            .into()
    }

    /// HMAC-SHA256 of the parts, hex.
    pub fn tag(&self, parts: &[&str]) -> String {
        hex::encode(self.mac(parts).finalize().into_bytes())
    }

    /// Constant-time check of a stored tag (SECURITY.md R3).
    pub fn verify(&self, parts: &[&str], stored_hex: &str) -> bool {
        match hex::decode(stored_hex) {
            Ok(bytes) => self.mac(parts).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

fn random<const N: usize>(entropy: &dyn Entropy) -> Result<[u8; N], DomainError> {
    let mut b = [0u8; N];
    entropy
        .fill(&mut b)
        .map_err(|e| DomainError::Internal(format!("random: {e}")))?;
    Ok(b)
}

/// Eight uniformly random digits, leading zeros kept (SECURITY.md R1). Values of the 32-bit
/// draw at or above the largest multiple of 10^8 are redrawn, so no code is likelier than
/// another (modulo bias would favour low codes by about 2%).
pub fn new_code(entropy: &dyn Entropy) -> Result<String, DomainError> {
    const SPACE: u32 = 100_000_000;
    const LIMIT: u32 = (u32::MAX / SPACE) * SPACE;
    loop {
        let v = u32::from_be_bytes(random::<4>(entropy)?);
        if v < LIMIT {
            return Ok(format!("{:0width$}", v % SPACE, width = CODE_DIGITS));
        }
    }
}

/// 256 random bits, URL-safe (SECURITY.md R2).
pub fn new_token(entropy: &dyn Entropy) -> Result<String, DomainError> {
    Ok(URL_SAFE_NO_PAD.encode(random::<32>(entropy)?))
}

/// 128 random bits, URL-safe: for a link that must fit in one text beside its sentence (the
/// "this wasn't me" link, SECURITY.md M8). Kept as an HMAC like every token (R3); 128 bits
/// cannot be guessed online.
pub fn new_short_token(entropy: &dyn Entropy) -> Result<String, DomainError> {
    Ok(URL_SAFE_NO_PAD.encode(random::<16>(entropy)?))
}

/// Letters and digits for temporary passwords: none that look like another (no l, o, 0, 1,
/// 5, 8), none that sound alike read aloud (no c beside k, no q, w, x, y), so a password can
/// be read over the phone, typed from a printed letter and pronounced as syllables.
const TEMP_CONSONANTS: &[u8] = b"bdfghjkmnprstvz";
const TEMP_VOWELS: &[u8] = b"aeiu";
const TEMP_DIGITS: &[u8] = b"234679";

/// A uniform draw below `n` (rejection sampling, no modulo bias).
fn below(entropy: &dyn Entropy, n: u8) -> Result<u8, DomainError> {
    let limit = (u8::MAX / n) * n;
    loop {
        let [b] = random::<1>(entropy)?;
        if b < limit {
            return Ok(b % n);
        }
    }
}

/// A temporary password staff can hand over: two-syllable words and two digits, such as
/// `bexa-tumi-rifa-kedu-47` (22 characters, about 52 bits). Four words at least, and as many
/// more as `min_chars` (the clinic's `password.min_length`, up to 64) needs, so it meets the
/// length rule by construction. It only has to survive until the patient's first sign-in,
/// which forces a change (SECURITY.md R4 spirit, seed 000).
pub fn temporary_password(entropy: &dyn Entropy, min_chars: usize) -> Result<String, DomainError> {
    // Each word adds five characters with its dash; the digits add two.
    let words = min_chars.saturating_sub(2).div_ceil(5).max(4);
    let mut parts = Vec::with_capacity(words + 1);
    for _ in 0..words {
        let mut word = String::with_capacity(4);
        for _ in 0..2 {
            word.push(
                TEMP_CONSONANTS[usize::from(below(entropy, TEMP_CONSONANTS.len() as u8)?)] as char,
            );
            word.push(TEMP_VOWELS[usize::from(below(entropy, TEMP_VOWELS.len() as u8)?)] as char);
        }
        parts.push(word);
    }
    let mut digits = String::with_capacity(2);
    for _ in 0..2 {
        digits.push(TEMP_DIGITS[usize::from(below(entropy, TEMP_DIGITS.len() as u8)?)] as char);
    }
    parts.push(digits);
    Ok(parts.join("-"))
}

/// Letters and digits that cannot be mistaken for one another when read aloud or on a small
/// screen (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
const REFERENCE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";

/// A short, non-secret label (e.g. `K7QM`) printed in the message and on the page, so the
/// patient can tell the newest code from an older one (SECURITY.md R10).
pub fn new_reference(entropy: &dyn Entropy) -> Result<String, DomainError> {
    let n = REFERENCE_ALPHABET.len() as u8;
    // 250 is the largest multiple of 25 below 256: draws above it are skipped to stay uniform.
    let limit = (u8::MAX / n) * n;
    let mut out = String::with_capacity(4);
    while out.len() < 4 {
        for b in random::<8>(entropy)? {
            if b < limit && out.len() < 4 {
                out.push(REFERENCE_ALPHABET[usize::from(b % n)] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;
    use std::sync::Mutex;

    /// Hands out the given bytes, then zeros.
    struct Scripted(Mutex<Vec<u8>>);

    impl Entropy for Scripted {
        fn fill(&self, buf: &mut [u8]) -> Result<(), getrandom::Error> {
            let mut src = self.0.lock().unwrap();
            for b in buf.iter_mut() {
                *b = if src.is_empty() { 0 } else { src.remove(0) };
            }
            Ok(())
        }
    }

    #[test]
    fn codes_keep_leading_zeros_and_redraw_biased_values() {
        // 0xFFFFFFFF is above the last whole multiple of 10^8 and must be redrawn; the next
        // draw (7) becomes 00000007.
        let e = Scripted(Mutex::new(vec![0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 7]));
        assert_eq!(new_code(&e).unwrap(), "00000007");
    }

    #[test]
    fn codes_are_spread_over_all_first_digits() {
        let mut first = [0u32; 10];
        for _ in 0..20_000 {
            let c = new_code(&OsEntropy).unwrap();
            assert_eq!(c.len(), 8);
            assert!(c.chars().all(|c| c.is_ascii_digit()));
            first[usize::from(c.as_bytes()[0] - b'0')] += 1;
        }
        // Each first digit expects 2,000; a uniform source stays far inside 1,700..2,300.
        for (d, n) in first.iter().enumerate() {
            assert!((1_700..2_300).contains(n), "digit {d}: {n} of 20000");
        }
    }

    #[test]
    fn tokens_carry_256_bits() {
        let t = new_token(&OsEntropy).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, new_token(&OsEntropy).unwrap());
    }

    #[test]
    fn references_use_only_unambiguous_characters() {
        for _ in 0..200 {
            let r = new_reference(&OsEntropy).unwrap();
            assert_eq!(r.len(), 4);
            assert!(r.bytes().all(|b| REFERENCE_ALPHABET.contains(&b)), "{r}");
        }
    }

    #[test]
    fn tags_verify_only_the_same_parts_under_the_same_key() {
        let k = ServerKey::from_bytes([7; 32]);
        let t = k.tag(&["code", "42", "12345678"]);
        assert!(k.verify(&["code", "42", "12345678"], &t));
        assert!(!k.verify(&["code", "42", "12345679"], &t));
        assert!(!k.verify(&["code", "421", "2345678"], &t));
        assert!(!ServerKey::from_bytes([8; 32]).verify(&["code", "42", "12345678"], &t));
        assert!(!k.verify(&["code"], "not hex"));
        // The stored tag never contains the secret.
        assert!(!t.contains("12345678"));
    }

    #[test]
    fn key_file_is_created_once_private_and_then_reused() {
        let dir = std::env::temp_dir().join(format!("carekey-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("secret.key");
        let a = ServerKey::load_or_create(&path, &OsEntropy).unwrap();
        let b = ServerKey::load_or_create(&path, &OsEntropy).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "zz").unwrap();
        assert!(ServerKey::load_or_create(&path, &OsEntropy).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Hands out the bytes of a seeded xorshift generator: a different stream per seed.
    struct Seeded(Mutex<u64>);

    impl Entropy for Seeded {
        fn fill(&self, buf: &mut [u8]) -> Result<(), getrandom::Error> {
            let mut x = self.0.lock().unwrap();
            for b in buf.iter_mut() {
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                *b = (*x >> 24) as u8;
            }
            Ok(())
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Whatever the random stream, a generated password meets the default policy and the
        /// strictest one a clinic can choose (with the "letters, digits and symbols" rule), and
        /// carries no look-alike characters.
        #[test]
        fn temporary_passwords_always_meet_the_policy(seed in 1u64..) {
            let pw = temporary_password(&Seeded(Mutex::new(seed)), 15).unwrap();
            let common = std::sync::Arc::new(carekey_shared::common::CommonPasswords::parse(
                carekey_shared::common::LIST,
            ));
            let ctx = carekey_shared::policy::PolicyContext {
                words: vec!["maria".into(), "lopez".into(), "Your clinic".into()],
                current: None,
                common: Some(common),
            };
            for require_mix in [false, true] {
                let policy = carekey_shared::policy::PasswordPolicy { min_chars: 15, require_mix };
                proptest::prop_assert_eq!(policy.check_with(&pw, &ctx), vec![], "{}", pw);
            }
            proptest::prop_assert!(!pw.chars().any(|c| "0o1lI5S8B".contains(c)), "{}", pw);
            proptest::prop_assert_eq!(pw.len(), 22);
        }
    }

    #[test]
    fn temporary_passwords_differ() {
        let a = temporary_password(&OsEntropy, 15).unwrap();
        let b = temporary_password(&OsEntropy, 15).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn temporary_passwords_grow_with_the_clinic_minimum() {
        for min in 15..=64 {
            let pw = temporary_password(&OsEntropy, min).unwrap();
            assert!(pw.chars().count() >= min, "{min}: {pw}");
            // Never more than one word longer than needed.
            assert!(pw.chars().count() < min.max(22) + 5, "{min}: {pw}");
        }
    }
}
