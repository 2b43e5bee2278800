//! The password policy, written once: the browser runs it for hints while the patient types and
//! the server runs it to enforce. The server never trusts the browser's verdict.

use serde::{Deserialize, Serialize};

/// NIST SP 800-63B-4 §3.1.1.2: at least 15 characters when the password is the only factor.
pub const DEFAULT_MIN_CHARS: usize = 15;
/// ASVS 6.2.9: allow at least 64; we allow 256 code points and never truncate.
pub const MAX_CHARS: usize = 256;
/// Anything larger is refused before it reaches the hasher, so a 1 MB "password" costs nothing
/// (SECURITY.md P2).
pub const MAX_BYTES: usize = 1024;

/// One unmet rule. The browser turns each into a plain sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyIssue {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// The same as the current password or one of the last five (SECURITY.md P5).
    RecentlyUsed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: DEFAULT_MIN_CHARS,
        }
    }
}

/// NFKC so that the same password typed on a Mac (NFD) and on Windows (NFC) is the same secret
/// (63B §3.1.1.2, SECURITY.md P6). Applied before counting and before hashing.
#[cfg(not(target_arch = "wasm32"))]
pub fn normalize(password: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    password.nfkc().collect()
}

/// In the browser: the engine's own NFKC. Only hints are computed here; the server decides.
#[cfg(target_arch = "wasm32")]
pub fn normalize(password: &str) -> String {
    js_sys::JsString::from(password)
        .normalize("NFKC")
        .as_string()
        .unwrap_or_else(|| password.to_owned())
}

impl PasswordPolicy {
    /// Every rule the candidate breaks, in the order the hints show them.
    pub fn check(&self, candidate: &str) -> Vec<PolicyIssue> {
        let mut issues = Vec::new();
        if candidate.len() > MAX_BYTES {
            issues.push(PolicyIssue::TooLong { max: MAX_CHARS });
            return issues;
        }
        let chars = normalize(candidate).chars().count();
        if chars < self.min_chars {
            issues.push(PolicyIssue::TooShort {
                min: self.min_chars,
            });
        }
        if chars > MAX_CHARS {
            issues.push(PolicyIssue::TooLong { max: MAX_CHARS });
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_rejected_fifteen_accepted() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check(&"a".repeat(14)),
            vec![PolicyIssue::TooShort { min: 15 }]
        );
        assert!(p.check(&"a".repeat(15)).is_empty());
    }

    #[test]
    fn counts_code_points_not_bytes() {
        // 15 two-byte characters are 15 characters.
        assert!(PasswordPolicy::default().check(&"é".repeat(15)).is_empty());
    }

    #[test]
    fn long_passwords_accepted_up_to_the_limit() {
        let p = PasswordPolicy::default();
        assert!(p.check(&"x".repeat(256)).is_empty());
        assert_eq!(
            p.check(&"x".repeat(257)),
            vec![PolicyIssue::TooLong { max: 256 }]
        );
    }

    #[test]
    fn oversized_input_refused_without_normalising() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check(&"x".repeat(1_000_000)),
            vec![PolicyIssue::TooLong { max: 256 }]
        );
    }

    #[test]
    fn nfc_and_nfd_normalise_to_the_same_secret() {
        let nfc = "caf\u{e9} au lait tous les matins";
        let nfd = "cafe\u{301} au lait tous les matins";
        assert_ne!(nfc, nfd);
        assert_eq!(normalize(nfc), normalize(nfd));
    }
}
