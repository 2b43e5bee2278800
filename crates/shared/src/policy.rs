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
    /// Within a few edits of the current password, or the same apart from case and digits
    /// (SECURITY.md P5: "Summer2024" → "Summer2025" is not a new password).
    TooSimilarToCurrent,
    /// Contains the username, the person's name, part of their email, the clinic's name or
    /// "carekey" (ASVS 6.2.11): the first guesses of anyone who knows the person.
    ContainsPersonalInfo,
    /// A common password, or one padded out to the minimum with repeats, digits or symbols
    /// (SECURITY.md P4).
    Common,
    /// The clinic asks for letters, digits and symbols (optional rule, SECURITY.md P3).
    NeedsMix,
}

/// What the policy needs to know about the person beyond the candidate itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyContext {
    /// Username, names, email addresses, clinic name, as entered; split and lower-cased here.
    pub words: Vec<String>,
    /// The current password, when the person just typed it (change-password forms).
    pub current: Option<String>,
    /// The common-password list, once loaded (the browser fetches it on first use).
    pub common: Option<std::sync::Arc<crate::common::CommonPasswords>>,
}

/// Context words shorter than this are ignored: "Al" or "Ana" inside a long passphrase is
/// coincidence, not a guessable hint.
const MIN_CONTEXT_WORD: usize = 4;

impl PolicyContext {
    /// The lower-cased fragments to look for: whole entries, their words, and for email
    /// addresses the local part and each domain label.
    fn fragments(&self) -> Vec<String> {
        let mut out: Vec<String> = vec!["carekey".into()];
        for w in &self.words {
            let w = normalize(w).to_lowercase();
            let mut parts: Vec<&str> = vec![w.as_str()];
            if let Some((local, domain)) = w.split_once('@') {
                parts.push(local);
                parts.extend(domain.split('.'));
            }
            parts.extend(w.split(|c: char| !c.is_alphanumeric()));
            for p in parts {
                let p = p.trim();
                if p.chars().count() >= MIN_CONTEXT_WORD && !out.iter().any(|o| o == p) {
                    out.push(p.to_owned());
                }
            }
        }
        out
    }
}

/// Edit distance in characters (insertions, deletions, substitutions).
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// SECURITY.md P5: edit distance of 3 or less, or equal once case and digits are ignored.
pub fn too_similar(candidate: &str, current: &str) -> bool {
    let a: Vec<char> = normalize(candidate).to_lowercase().chars().collect();
    let b: Vec<char> = normalize(current).to_lowercase().chars().collect();
    if levenshtein(&a, &b) <= 3 {
        return true;
    }
    let strip = |v: &[char]| -> String { v.iter().filter(|c| !c.is_numeric()).collect() };
    strip(&a) == strip(&b)
}

/// At least one letter, one digit and one character that is neither (a space counts).
fn has_mix(candidate: &str) -> bool {
    candidate.chars().any(char::is_alphabetic)
        && candidate.chars().any(char::is_numeric)
        && candidate.chars().any(|c| !c.is_alphanumeric())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    /// Letters, digits and symbols all required (off by default: NIST advises against
    /// composition rules, but some clinics must have one).
    pub require_mix: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: DEFAULT_MIN_CHARS,
            require_mix: false,
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
    /// Every rule the candidate breaks, including the ones that need to know who is choosing
    /// it. The server calls this on every path that sets a password; the browser calls it for
    /// hints with whatever context it has.
    pub fn check_with(&self, candidate: &str, ctx: &PolicyContext) -> Vec<PolicyIssue> {
        let mut issues = self.check(candidate);
        if candidate.is_empty() || issues.contains(&PolicyIssue::TooLong { max: MAX_CHARS }) {
            return issues;
        }
        let lowered = normalize(candidate).to_lowercase();
        if ctx.fragments().iter().any(|f| lowered.contains(f.as_str())) {
            issues.push(PolicyIssue::ContainsPersonalInfo);
        }
        if let Some(current) = ctx.current.as_deref()
            && !current.is_empty()
            && too_similar(candidate, current)
        {
            issues.push(PolicyIssue::TooSimilarToCurrent);
        }
        if ctx.common.as_ref().is_some_and(|c| c.is_common(&lowered)) {
            issues.push(PolicyIssue::Common);
        }
        issues
    }

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
        if self.require_mix && !has_mix(candidate) {
            issues.push(PolicyIssue::NeedsMix);
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

    fn ctx(words: &[&str], current: Option<&str>) -> PolicyContext {
        PolicyContext {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            current: current.map(str::to_owned),
            common: None,
        }
    }

    #[test]
    fn common_passwords_are_refused_when_the_list_is_known() {
        let p = PasswordPolicy::default();
        let mut c = ctx(&[], None);
        assert!(
            p.check_with("monkeymonkeymonkey", &c).is_empty(),
            "no list, no verdict"
        );
        c.common = Some(std::sync::Arc::new(crate::common::CommonPasswords::parse(
            crate::common::LIST,
        )));
        assert_eq!(
            p.check_with("monkeymonkeymonkey", &c),
            vec![PolicyIssue::Common]
        );
        assert_eq!(
            p.check_with("password", &c),
            vec![PolicyIssue::TooShort { min: 15 }, PolicyIssue::Common]
        );
        assert!(p.check_with("correct horse battery staple", &c).is_empty());
    }

    #[test]
    fn the_optional_mix_rule_needs_letters_digits_and_symbols() {
        let p = PasswordPolicy {
            require_mix: true,
            ..Default::default()
        };
        assert_eq!(
            p.check("correct horse battery staple"),
            vec![PolicyIssue::NeedsMix]
        );
        assert!(p.check("correct horse battery staple 42").is_empty());
        assert!(
            PasswordPolicy::default()
                .check("correct horse battery staple")
                .is_empty()
        );
    }

    #[test]
    fn personal_information_is_refused() {
        let p = PasswordPolicy::default();
        let c = ctx(
            &[
                "maria",
                "Maria",
                "Lopez",
                "maria.lopez@example.com",
                "Hillside Family Clinic",
            ],
            None,
        );
        for bad in [
            "MARIA loves the sea breeze",       // username / first name, any case
            "my surname is lopez ok fine",      // last name
            "hillside mornings are the best",   // clinic name word
            "the carekey portal password",      // product name
            "example domain is my secret pass", // email domain label
        ] {
            assert!(
                p.check_with(bad, &c)
                    .contains(&PolicyIssue::ContainsPersonalInfo),
                "{bad}"
            );
        }
        assert!(p.check_with("correct horse battery staple", &c).is_empty());
        // Short name parts are not searched for: "Al" in "always" is a coincidence.
        let short = ctx(&["Al Wu"], None);
        assert!(
            p.check_with("always walking up the hill", &short)
                .is_empty()
        );
    }

    #[test]
    fn too_similar_to_current_is_refused() {
        let p = PasswordPolicy::default();
        let cases = [
            ("summer sun and sand 2024", "summer sun and sand 2025", true), // one edit
            ("summer sun and sand 2024", "Summer Sun And Sand 1999", true), // case + digits
            ("summer sun and sand", "summer sun and sand!!!", true),        // three edits
            ("summer sun and sand", "winter snow and ice storms", false),
        ];
        for (current, new, refused) in cases {
            let issues = p.check_with(new, &ctx(&[], Some(current)));
            assert_eq!(
                issues.contains(&PolicyIssue::TooSimilarToCurrent),
                refused,
                "{current} -> {new}: {issues:?}"
            );
        }
    }

    #[test]
    fn edit_distance_counts_characters() {
        let l = |a: &str, b: &str| {
            levenshtein(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(l("kitten", "sitting"), 3);
        assert_eq!(l("", "abc"), 3);
        assert_eq!(l("ñandú", "nandu"), 2);
    }

    #[test]
    fn context_checks_never_run_on_oversized_input() {
        let p = PasswordPolicy::default();
        let issues = p.check_with(&"m".repeat(5000), &ctx(&["mmmm"], Some("x")));
        assert_eq!(issues, vec![PolicyIssue::TooLong { max: 256 }]);
    }

    #[test]
    fn nfc_and_nfd_normalise_to_the_same_secret() {
        let nfc = "caf\u{e9} au lait tous les matins";
        let nfd = "cafe\u{301} au lait tous les matins";
        assert_ne!(nfc, nfd);
        assert_eq!(normalize(nfc), normalize(nfd));
    }
}
