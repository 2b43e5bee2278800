//! Which phone numbers may receive texts and calls (SECURITY.md A3: SMS pumping).
//!
//! Only numbers already on file are ever used, and only in the countries the clinic allows.
//! "+1" is shared by the US, Canada and about twenty Caribbean countries whose numbers are a
//! favourite of toll-fraud rings, so the North American area code decides which country it is.

/// Area codes in the North American Numbering Plan that are not in the United States or its
/// territories: the Caribbean countries, then Canada.
const CARIBBEAN: &[u16] = &[
    242, 246, 264, 268, 284, 345, 441, 473, 649, 658, 664, 721, 758, 767, 784, 809, 829, 849, 868,
    869, 876,
];
const CANADA: &[u16] = &[
    204, 226, 236, 249, 250, 257, 263, 289, 306, 343, 354, 365, 367, 368, 382, 387, 403, 416, 418,
    428, 431, 437, 438, 450, 460, 468, 474, 506, 514, 519, 548, 579, 581, 584, 587, 600, 604, 613,
    639, 647, 672, 683, 705, 709, 742, 753, 778, 780, 782, 807, 819, 825, 867, 873, 879, 902, 905,
    942,
];

/// The country of an E.164 number among those CareKey knows (`config::KNOWN_COUNTRIES`).
pub fn country_of(e164: &str) -> Option<&'static str> {
    let digits = e164.strip_prefix('+')?;
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if let Some(national) = digits.strip_prefix('1') {
        if national.len() != 10 {
            return None;
        }
        let area: u16 = national[..3].parse().ok()?;
        let exchange = national.as_bytes()[3];
        // NANP area codes and exchanges start with 2-9. N11 codes are services; N00 codes are
        // toll-free, premium-rate (900) or personal-number ranges, as are 976 and the
        // repeated-digit 5XX codes: none of them is a patient's own phone.
        let not_a_phone = area < 200
            || exchange < b'2'
            || area % 100 == 11
            || area.is_multiple_of(100)
            || area == 976
            || matches!(area, 522 | 533 | 544 | 566 | 577 | 588);
        if not_a_phone {
            return None;
        }
        return if CARIBBEAN.contains(&area) {
            None
        } else if CANADA.contains(&area) {
            Some("CA")
        } else {
            Some("US")
        };
    }
    for (prefix, country, lengths) in [
        ("44", "GB", 10..=10),
        ("353", "IE", 7..=9),
        ("61", "AU", 9..=9),
        ("64", "NZ", 8..=10),
    ] {
        if let Some(national) = digits.strip_prefix(prefix) {
            return lengths.contains(&national.len()).then_some(country);
        }
    }
    None
}

pub fn allowed(e164: &str, countries: &[String]) -> bool {
    country_of(e164).is_some_and(|c| countries.iter().any(|a| a == c))
}

/// Digits and a leading plus, as phone numbers are stored for lookup (`contacts.value_norm`).
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// What a typed phone number may be stored as: as typed, and for ten digits also with the
/// North American "+1" in front (patients rarely type it).
pub fn lookup_forms(input: &str) -> Vec<String> {
    let n = normalize(input);
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let mut out = vec![];
    if n.starts_with('+') {
        out.push(n.clone());
    } else if digits.len() == 10 {
        out.push(format!("+1{digits}"));
    } else if digits.len() == 11 && digits.starts_with('1') {
        out.push(format!("+{digits}"));
    }
    if !digits.is_empty() {
        out.push(digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Vec<String> {
        vec!["US".into()]
    }

    #[test]
    fn only_allowed_countries_and_never_caribbean_premium_ranges() {
        assert!(allowed("+15035550123", &us()));
        assert!(!allowed("+18765550123", &us()), "Jamaica shares +1");
        assert!(!allowed("+14165550123", &us()), "Toronto is Canada");
        assert!(allowed("+14165550123", &["CA".into()]));
        assert!(!allowed("+447700900123", &us()));
        assert!(allowed("+447700900123", &["US".into(), "GB".into()]));
        assert!(!allowed("+1503555012", &us()), "too short");
        assert!(!allowed("15035550123", &us()), "not E.164");
        assert!(!allowed("+19005550123", &us()), "premium rate");
        assert!(!allowed("+15005550123", &us()), "personal-number range");
        assert!(!allowed("+14115550123", &us()), "N11 service code");
        assert!(!allowed("+11235550123", &us()), "area codes start with 2-9");
        assert!(!allowed("+15031550123", &us()), "exchanges start with 2-9");
        assert!(
            !allowed("+882123456", &us()),
            "satellite and unknown ranges"
        );
    }

    #[test]
    fn typed_numbers_find_stored_ones() {
        assert_eq!(
            lookup_forms("(503) 555-0123"),
            vec!["+15035550123".to_owned(), "5035550123".to_owned()]
        );
        assert_eq!(lookup_forms("+1 503 555 0123")[0], "+15035550123");
        assert_eq!(lookup_forms("1-503-555-0123")[0], "+15035550123");
    }
}
