//! Common passwords (SECURITY.md P4): the 30,000 most common passwords from zxcvbn's list
//! (MIT, `data/common-passwords.LICENSE.txt`), sorted, one per line, lower case.
//!
//! With a 15-character minimum almost no list entry passes on length alone, so the list is
//! also used the way people actually pad a common password out to the minimum: the same
//! entry repeated ("monkeymonkeymonkey"), or wrapped in digits and symbols
//! ("!!dragon123456789"). The server embeds the list; the browser fetches the same file when
//! a new-password field is first focused, so it stays off the first page.

use std::collections::HashSet;

/// The list as shipped: the server embeds it and the browser fetches `/common-passwords.txt`.
#[cfg(not(target_arch = "wasm32"))]
pub const LIST: &str = include_str!("../data/common-passwords.txt");

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommonPasswords(HashSet<String>);

impl CommonPasswords {
    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `lowered` (already normalised and lower-cased) is a common password, repeated,
    /// or wrapped in digits and symbols; or uses three different characters or fewer.
    pub fn is_common(&self, lowered: &str) -> bool {
        let distinct: HashSet<char> = lowered.chars().collect();
        if distinct.len() <= 3 {
            return true;
        }
        if self.0.contains(lowered) || self.repeats_an_entry(lowered) {
            return true;
        }
        let core = lowered.trim_matches(|c: char| !c.is_alphabetic());
        !core.is_empty()
            && core.len() < lowered.len()
            && (self.0.contains(core) || self.repeats_an_entry(core))
    }

    /// "abcabcabc" is "abc" three times.
    fn repeats_an_entry(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        (1..=n / 2).any(|unit| {
            n.is_multiple_of(unit)
                && chars.chunks(unit).all(|c| c == &chars[..unit])
                && self.0.contains(&chars[..unit].iter().collect::<String>())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> CommonPasswords {
        CommonPasswords::parse(LIST)
    }

    #[test]
    fn holds_at_least_ten_thousand_entries() {
        assert!(list().len() >= 10_000, "{}", list().len());
    }

    #[test]
    fn every_entry_and_its_padded_forms_are_common() {
        let l = list();
        for entry in LIST.lines() {
            assert!(l.is_common(entry), "{entry}");
        }
        for padded in [
            "monkeymonkeymonkey",
            "dragon123456789",
            "!!!!iloveyou!!!!",
            "123456123456123456",
            "aaaaaaaaaaaaaaaa",
            "abababababababab",
        ] {
            assert!(l.is_common(padded), "{padded}");
        }
    }

    #[test]
    fn ordinary_passphrases_are_not_common() {
        let l = list();
        for fine in [
            "correct horse battery staple",
            "sunflower-teapot-harbor",
            "my cat sleeps on the radiator",
            "dragon fruit for breakfast",
        ] {
            assert!(!l.is_common(fine), "{fine}");
        }
    }
}
