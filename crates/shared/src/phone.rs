//! Phone numbers as people write them. Numbers are stored in E.164 (`+15035550155`), which
//! nobody reads easily; patients expect the way their own country writes a number, and the
//! international form (`+44 20 7946 0958`) for one abroad.
//!
//! This is display only: a number that cannot be read as E.164 is shown as it was stored, so
//! nothing is ever hidden or changed by a guess here. Full numbering plans (libphonenumber)
//! weigh hundreds of kilobytes in the browser; the countries CareKey can send to
//! (`twilio.allowed_countries`) get their own groups, every other country a neutral grouping.

/// The North American Numbering Plan (United States, Canada, much of the Caribbean).
pub const NANP: u16 = 1;

/// The country calling code of the clinic's own region, read from the clinic's phone number as
/// configured (`clinic.phone`): `+44 …` is 44; a ten-digit number such as `(503) 555-0100` is
/// North American. With no number configured CareKey's defaults are American
/// (`twilio.allowed_countries = US`). None when the number does not say, so every number is then
/// shown in the international form, which is never ambiguous.
pub fn home_calling_code(clinic_phone: &str) -> Option<u16> {
    let trimmed = clinic_phone.trim();
    if trimmed.is_empty() {
        return Some(NANP);
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.starts_with('+') {
        return split_country(&digits).map(|(cc, _)| cc);
    }
    let national = match digits.len() {
        10 => digits.as_str(),
        11 if digits.starts_with('1') => &digits[1..],
        _ => return None,
    };
    is_nanp_national(national).then_some(NANP)
}

/// A stored number for a person to read: national format for a number in the clinic's own
/// country (`(503) 555-0155` in the United States), international format with the country code
/// for any other (`+44 20 7946 0958`). `home` is the clinic's calling code (see
/// `home_calling_code`); None shows every number internationally.
pub fn display_phone(number: &str, home: Option<u16>) -> String {
    let trimmed = number.trim();
    let Some(rest) = trimmed.strip_prefix('+') else {
        return trimmed.to_owned();
    };
    // Only digits and the separators people type; anything else is not a number to regroup.
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return trimmed.to_owned();
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let Some((cc, national)) = split_country(&digits) else {
        return trimmed.to_owned();
    };
    if national.len() < 4 || digits.len() > 15 {
        return trimmed.to_owned();
    }
    if cc == NANP && national.len() == 10 && is_nanp_national(national) {
        let (area, exchange, line) = (&national[..3], &national[3..6], &national[6..]);
        return if home == Some(NANP) {
            format!("({area}) {exchange}-{line}")
        } else {
            format!("+1 {area}-{exchange}-{line}")
        };
    }
    let groups = national_groups(cc, national).join(" ");
    // Other countries' national forms add a trunk prefix (the 0 in 020 …) and local habits;
    // the international form is right everywhere, so it is used even at home.
    format!("+{cc} {groups}")
}

/// Area code and exchange both start 2–9 in the NANP.
fn is_nanp_national(national: &str) -> bool {
    let b = national.as_bytes();
    b.len() == 10 && b[0] >= b'2' && b[3] >= b'2' && b.iter().all(u8::is_ascii_digit)
}

/// Country calling codes are prefix-free: 1 and 7 are one digit, the ITU's two-digit codes are
/// listed, and every other code has three digits.
fn split_country(digits: &str) -> Option<(u16, &str)> {
    const TWO_DIGIT: &[u16] = &[
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55,
        56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    ];
    let first = digits.chars().next()?;
    if first == '0' {
        return None;
    }
    let len = if matches!(first, '1' | '7') {
        1
    } else {
        let two: u16 = digits.get(..2)?.parse().ok()?;
        if TWO_DIGIT.contains(&two) { 2 } else { 3 }
    };
    let cc = digits.get(..len)?.parse().ok()?;
    Some((cc, digits.get(len..)?))
}

/// How the countries CareKey can text and call group their numbers; a balanced grouping for
/// the rest.
fn national_groups(cc: u16, n: &str) -> Vec<&str> {
    let starts = |p: &str| n.starts_with(p);
    let second = n.as_bytes().get(1).copied();
    let third = n.as_bytes().get(2).copied();
    let sizes: &[usize] = match (cc, n.len()) {
        // United Kingdom: London and other two-digit areas 20 7946 0958, mobiles 7700 900123,
        // the big cities 161 496 0000, other areas 1632 960123, non-geographic 800 123 4567.
        (44, 10) if starts("2") => &[2, 4, 4],
        (44, 10) if starts("7") => &[4, 6],
        (44, 10) if starts("1") && (second == Some(b'1') || third == Some(b'1')) => &[3, 3, 4],
        (44, 10) if starts("1") => &[4, 6],
        (44, 10) if starts("3") || starts("8") || starts("9") => &[3, 3, 4],
        // Ireland: mobiles 85 123 4567, Dublin 1 234 5678.
        (353, 9) if starts("8") => &[2, 3, 4],
        (353, 8) if starts("1") => &[1, 3, 4],
        // Australia: mobiles 412 345 678, landlines 2 9876 5432.
        (61, 9) if starts("4") => &[3, 3, 3],
        (61, 9) if starts("2") || starts("3") || starts("7") || starts("8") => &[1, 4, 4],
        // New Zealand: mobiles 21 123 4567 (or 21 123 456), landlines 9 123 4567.
        (64, 8) if starts("2") => &[2, 3, 3],
        (64, 9) if starts("2") => &[2, 3, 4],
        (64, 10) if starts("2") => &[2, 4, 4],
        (64, 8) => &[1, 3, 4],
        _ => return balanced(n),
    };
    split(n, sizes)
}

fn split<'a>(n: &'a str, sizes: &[usize]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(sizes.len());
    let mut at = 0;
    for s in sizes {
        out.push(&n[at..at + s]);
        at += s;
    }
    out
}

/// Groups of three or four digits, the longer ones last (`123 456 7890`), the way most
/// countries without a rule here would read a number out.
fn balanced(n: &str) -> Vec<&str> {
    if n.len() <= 4 {
        return vec![n];
    }
    let groups = n.len().div_ceil(4);
    let base = n.len() / groups;
    let longer = n.len() % groups;
    let sizes: Vec<usize> = (0..groups)
        .map(|i| base + usize::from(i >= groups - longer))
        .collect();
    split(n, &sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Option<u16> = Some(NANP);
    const GB: Option<u16> = Some(44);

    #[test]
    fn north_american_numbers_read_nationally_at_a_north_american_clinic() {
        assert_eq!(display_phone("+15035550155", US), "(503) 555-0155");
        assert_eq!(display_phone(" +1 503 555 0155 ", US), "(503) 555-0155");
        // Canada and the Caribbean share +1 and the same way of writing.
        assert_eq!(display_phone("+14165550123", US), "(416) 555-0123");
    }

    #[test]
    fn north_american_numbers_elsewhere_carry_the_country_code() {
        assert_eq!(display_phone("+15035550155", GB), "+1 503-555-0155");
        assert_eq!(display_phone("+15035550155", None), "+1 503-555-0155");
    }

    #[test]
    fn other_countries_are_international_with_their_own_groups() {
        assert_eq!(display_phone("+442079460958", US), "+44 20 7946 0958");
        assert_eq!(display_phone("+447700900123", US), "+44 7700 900123");
        assert_eq!(display_phone("+441614960000", US), "+44 161 496 0000");
        assert_eq!(display_phone("+441632960123", US), "+44 1632 960123");
        assert_eq!(display_phone("+448001234567", US), "+44 800 123 4567");
        assert_eq!(display_phone("+353851234567", US), "+353 85 123 4567");
        assert_eq!(display_phone("+35312345678", US), "+353 1 234 5678");
        assert_eq!(display_phone("+61412345678", US), "+61 412 345 678");
        assert_eq!(display_phone("+61298765432", US), "+61 2 9876 5432");
        assert_eq!(display_phone("+64211234567", US), "+64 21 123 4567");
        assert_eq!(display_phone("+6491234567", US), "+64 9 123 4567");
        // At a British clinic a British number is still shown in the international form:
        // never wrong, and no trunk-prefix rules to get wrong.
        assert_eq!(display_phone("+442079460958", GB), "+44 20 7946 0958");
    }

    #[test]
    fn countries_without_a_rule_get_balanced_groups() {
        // France (9 digits), Germany (11), India (10), Mexico (10), Malta (a three-digit code).
        assert_eq!(display_phone("+33123456789", US), "+33 123 456 789");
        assert_eq!(display_phone("+4930123456789", US), "+49 301 2345 6789");
        assert_eq!(display_phone("+919876543210", US), "+91 987 654 3210");
        assert_eq!(display_phone("+525512345678", US), "+52 551 234 5678");
        assert_eq!(display_phone("+35621234567", US), "+356 2123 4567");
        assert_eq!(balanced("12345"), ["12", "345"]);
        assert_eq!(balanced("1234567"), ["123", "4567"]);
        assert_eq!(balanced("12345678"), ["1234", "5678"]);
        assert_eq!(balanced("123456789012"), ["1234", "5678", "9012"]);
    }

    #[test]
    fn anything_else_is_shown_as_stored() {
        for odd in [
            "",
            "(503) 555-0155",
            "+",
            "+0123456789",
            "+1 503 CALL NOW",
            "+12",
            "+1234567890123456",
            "not a phone",
        ] {
            assert_eq!(display_phone(odd, US), odd.trim(), "{odd:?}");
        }
        // +1 with the wrong length is not North American; it still reads as digits.
        assert_eq!(display_phone("+1503555015", US), "+1 503 555 015");
    }

    #[test]
    fn the_clinics_region_comes_from_its_own_number() {
        assert_eq!(home_calling_code("(503) 555-0100"), US);
        assert_eq!(home_calling_code("503.555.0100"), US);
        assert_eq!(home_calling_code("1-503-555-0100"), US);
        assert_eq!(home_calling_code("+1 503 555 0100"), US);
        assert_eq!(home_calling_code("+44 20 7946 0958"), GB);
        assert_eq!(home_calling_code("+353 1 234 5678"), Some(353));
        assert_eq!(home_calling_code(""), US);
        // A national number from elsewhere does not say which country: show numbers in full.
        assert_eq!(home_calling_code("020 7946 0958"), None);
        assert_eq!(home_calling_code("(103) 555-0100"), None);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in ["+٣٤٥", "+1é", "+99999999999999999999", "+7", "+71", "+2"] {
            let _ = display_phone(s, US);
            let _ = home_calling_code(s);
        }
    }
}
