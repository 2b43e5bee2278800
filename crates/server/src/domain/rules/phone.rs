//! Phone numbers on the server: reading what staff and patients type, storing E.164, telling a
//! mobile from a landline, and which numbers may receive texts and calls (SECURITY.md A3: SMS
//! pumping).
//!
//! The numbering plans come from libphonenumber's metadata (the `phonenumber` crate), which is
//! kept up to date upstream, instead of area-code tables kept by hand here. "+1" is shared by
//! the United States, Canada and about twenty Caribbean countries whose numbers are a favourite
//! of toll-fraud rings; the metadata's region for a +1 number tells them apart, and the
//! clinic's allow-list (`twilio.allowed_countries`) is applied to that region.
//!
//! Only the server uses this: the browser apps format numbers for display with the small rules
//! in `carekey_shared::phone`, since the metadata would weigh hundreds of kilobytes in wasm.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber, Type};

/// A region (ISO 3166-1 alpha-2 code) the metadata has a numbering plan for: the clinic's own
/// (`clinic.region`), which is how a number typed without a country code is read, and the
/// region a stored number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(Id);

impl Region {
    pub const US: Region = Region(Id::US);

    /// A region code such as `US`, `ca` or `GB`, if the metadata knows its numbering plan.
    /// Non-geographic entities (`001`: satellite and international networks) are no region.
    pub fn parse(code: &str) -> Option<Region> {
        let code = code.trim().to_ascii_uppercase();
        let id: Id = code.parse().ok()?;
        // The crate's list of ids is CLDR's; only those with metadata have a numbering plan.
        DATABASE.by_id(id.as_ref()).map(|_| Region(id))
    }

    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What the metadata says about the kind of line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Mobile,
    Landline,
    /// The plan does not tell from the number: the US and Canada give mobiles and landlines
    /// numbers from the same ranges, and VoIP numbers may or may not take texts.
    Unsure,
}

/// A number CareKey may keep on file: a valid number of a known region, of a kind a person
/// answers (a mobile, a landline, or one the plan cannot tell), in E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub e164: String,
    pub region: Region,
    pub line: Line,
}

impl Phone {
    /// Whether the number takes texts: the metadata decides where it knows (a UK landline
    /// cannot, a UK mobile can), and where it cannot tell (US, Canada) the choice of whoever
    /// typed it, staff or patient, stands.
    pub fn texts(&self, chosen_mobile: bool) -> bool {
        match self.line {
            Line::Mobile => true,
            Line::Landline => false,
            Line::Unsure => chosen_mobile,
        }
    }
}

/// US territories with their own +1 area codes and their own region in the metadata. Carriers
/// and the clinic treat them as domestic, and CareKey's allow-list `US` has always included
/// them; a clinic may also list them by their own codes.
const US_TERRITORIES: &[&str] = &["AS", "GU", "MP", "PR", "VI"];

/// The longest typed number handed to the parser, in digits and a plus: E.164 allows 15
/// digits, and an international prefix (`011`, `00`) adds a few. Anything longer is not a phone
/// number, and the parser never sees it.
const MAX_TYPED: usize = 24;

/// A number as staff or a patient typed it, read in the clinic's region (`(503) 555-0123` in
/// the US, `07400 123456` in the UK, or any number with its `+` country code), if it is one
/// CareKey may keep on file.
pub fn parse(typed: &str, home: Region) -> Option<Phone> {
    phone(&read(typed, home)?)
}

/// The region of a stored E.164 number, if it is one CareKey may keep on file. Only the
/// canonical form counts: `+1 (503) …` or `15035550123` is not how numbers are stored.
pub fn country_of(e164: &str) -> Option<Region> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = guarded(|| phonenumber::parse(None, e164))?;
    phone(&n).filter(|p| p.e164 == e164).map(|p| p.region)
}

/// Whether a stored number may receive texts and calls: its region is on the clinic's list
/// (`US` also covers the US territories).
pub fn allowed(e164: &str, countries: &[String]) -> bool {
    country_of(e164).is_some_and(|r| {
        countries.iter().any(|c| {
            c.as_str() == r.code() || (c.as_str() == "US" && US_TERRITORIES.contains(&r.code()))
        })
    })
}

/// Digits and a leading plus, as people's numbers are compared (`contacts.value_norm`).
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// What a typed phone number may be stored as, to find it on file: E.164 as read in the
/// clinic's region (patients rarely type the country code), then as typed. Nothing here is
/// checked against the plan: a lookup only finds what is already on file.
pub fn lookup_forms(input: &str, home: Region) -> Vec<String> {
    let mut out = vec![];
    if let Some(n) = read(input, home) {
        out.push(e164(&n));
    }
    let n = normalize(input);
    if n.starts_with('+') && !out.contains(&n) {
        out.push(n.clone());
    }
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    if !digits.is_empty() && !out.contains(&digits) {
        out.push(digits);
    }
    out
}

/// The number in what was typed, in the clinic's region. Only the digits and a plus reach the
/// parser (as before: `(503) 555-0123 cell` is still that number), and only if short enough
/// to be a phone number.
fn read(typed: &str, home: Region) -> Option<PhoneNumber> {
    let n = normalize(typed);
    if n.is_empty() || n.len() > MAX_TYPED {
        return None;
    }
    // phonenumber 0.3 strips the clinic region's national prefix even from a number that
    // carries its own country code (fixed upstream after 0.3.10): "+49 151 …" typed in a US
    // clinic would lose the "1" of its mobile prefix. A number with its country code, after a
    // plus or the region's international prefix, is read without the clinic's region instead.
    match international(&n, home) {
        Some(i) => guarded(|| phonenumber::parse(None, &i)),
        None => guarded(|| phonenumber::parse(Some(home.0), &n)),
    }
}

/// `+44…` as typed, or `011 44…` (US) and `00 44…` (UK) with the clinic region's international
/// prefix written as the plus it means.
fn international(n: &str, home: Region) -> Option<String> {
    if n.starts_with('+') {
        return Some(n.to_owned());
    }
    let idd = DATABASE.by_id(home.code())?.international_prefix()?;
    let m = idd.find(n)?;
    (m.start() == 0 && m.end() < n.len()).then(|| format!("+{}", &n[m.end()..]))
}

/// The crate's parser has panicked on odd input before (rust-phonenumber issues #32, #43); a
/// typed number must never take a request down with it, so a panic there is "not a number".
fn guarded(
    f: impl FnOnce() -> Result<PhoneNumber, phonenumber::ParseError> + std::panic::UnwindSafe,
) -> Option<PhoneNumber> {
    std::panic::catch_unwind(f).ok()?.ok()
}

fn e164(n: &PhoneNumber) -> String {
    n.format().mode(Mode::E164).to_string()
}

/// A parsed number CareKey may keep: valid in a region the metadata knows, without an
/// extension (a text cannot reach one), and of a kind a person answers.
fn phone(n: &PhoneNumber) -> Option<Phone> {
    if n.extension().is_some() {
        return None;
    }
    // None for numbers of no region (`+882…` satellite and international networks) and for +1
    // numbers no region's plan has (N11 service codes, area codes or exchanges starting 0 or 1).
    let id = n.country().id()?;
    if !n.is_valid() {
        return None;
    }
    let line = match n.number_type(&DATABASE) {
        Type::Mobile => Line::Mobile,
        Type::FixedLine => Line::Landline,
        Type::FixedLineOrMobile => Line::Unsure,
        // A VoIP number is often someone's only home line (cable and internet providers): a
        // call reaches it, and whether texts do is the person's to say.
        Type::Voip => Line::Unsure,
        // Never a patient's own phone, and the ranges toll fraud lives on: the clinic's
        // account pays the owner of a premium-rate or shared-cost number, toll-free numbers
        // (paid by the called side) are businesses and a favourite of call-pumping schemes,
        // personal numbers (UK 070, NANP 5XX) forward anywhere at premium-like rates, and
        // UAN, pager, voicemail-access, short, carrier and emergency numbers are services.
        Type::TollFree
        | Type::PremiumRate
        | Type::SharedCost
        | Type::PersonalNumber
        | Type::Pager
        | Type::Uan
        | Type::Voicemail
        | Type::Emergency
        | Type::ShortCode
        | Type::StandardRate
        | Type::Carrier
        | Type::NoInternational
        | Type::Unknown => return None,
    };
    Some(Phone {
        e164: e164(n),
        region: Region(id),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Vec<String> {
        vec!["US".into()]
    }

    fn region(code: &str) -> Region {
        Region::parse(code).unwrap()
    }

    #[test]
    fn only_allowed_countries_and_never_caribbean_premium_ranges() {
        assert!(allowed("+15035550123", &us()));
        assert!(!allowed("+18765550123", &us()), "Jamaica shares +1");
        assert!(!allowed("+14165550123", &us()), "Toronto is Canada");
        assert!(allowed("+14165550123", &["CA".into()]));
        assert!(!allowed("+447700900123", &us()));
        assert!(!allowed("+447400123456", &us()));
        assert!(allowed("+447400123456", &["US".into(), "GB".into()]));
        // Ofcom keeps 07700 900000–900999 for drama: nobody's phone, and not valid in the
        // metadata (the hand-kept tables only counted its digits and let it through).
        assert!(!allowed("+447700900123", &["US".into(), "GB".into()]));
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
            lookup_forms("(503) 555-0123", Region::US),
            vec!["+15035550123".to_owned(), "5035550123".to_owned()]
        );
        assert_eq!(
            lookup_forms("+1 503 555 0123", Region::US)[0],
            "+15035550123"
        );
        assert_eq!(
            lookup_forms("1-503-555-0123", Region::US)[0],
            "+15035550123"
        );
    }

    #[test]
    fn plus_one_numbers_are_told_apart_by_region() {
        for (number, want) in [
            ("+15035550123", "US"),
            ("+14165550123", "CA"),  // Toronto
            ("+16045550123", "CA"),  // Vancouver
            ("+18765550123", "JM"),  // Jamaica
            ("+12423456789", "BS"),  // the Bahamas
            ("+18095550123", "DO"),  // the Dominican Republic
            ("+17875550123", "PR"),  // Puerto Rico, a US territory
            ("+442079460958", "GB"), // London
            ("+61412345678", "AU"),
        ] {
            assert_eq!(
                country_of(number).map(|r| r.code().to_owned()).as_deref(),
                Some(want),
                "{number}"
            );
        }
        let ca: Vec<String> = vec!["CA".into()];
        assert!(allowed("+14165550123", &ca));
        assert!(
            !allowed("+15035550123", &ca),
            "a Canadian clinic's list is not the US"
        );
        assert!(!allowed("+18765550123", &ca), "nor the Caribbean");
        assert!(allowed("+18765550123", &["JM".into()]), "unless listed");
        assert!(!allowed("+12423456789", &us()), "the Bahamas share +1 too");
        assert!(allowed("+17875550123", &us()), "US covers its territories");
        assert!(allowed("+17875550123", &["PR".into()]));
        assert!(!allowed("+17875550123", &ca));
    }

    #[test]
    fn numbers_are_read_in_the_clinics_region() {
        let gb = region("GB");
        // A UK clinic's staff type numbers the UK way, with the trunk 0.
        let p = parse("07400 123456", gb).unwrap();
        assert_eq!(p.e164, "+447400123456");
        assert_eq!((p.region, p.line), (gb, Line::Mobile));
        let p = parse("020 7946 0958", gb).unwrap();
        assert_eq!((p.e164.as_str(), p.line), ("+442079460958", Line::Landline));
        // The same digits in a US clinic are not a number; with the country code they are.
        assert_eq!(parse("07400 123456", Region::US), None);
        assert_eq!(
            parse("+44 7400 123456", Region::US).map(|p| p.e164),
            Some("+447400123456".into())
        );
        assert_eq!(
            parse("011 44 20 7946 0958", Region::US).map(|p| p.e164),
            Some("+442079460958".into()),
            "the US international prefix"
        );
        // A number whose own digits begin with the clinic region's trunk prefix (the US "1")
        // keeps them: a German mobile, a Leeds landline.
        for typed in ["+49 151 23456789", "011 49 151 23456789"] {
            assert_eq!(
                parse(typed, Region::US).map(|p| p.e164),
                Some("+4915123456789".into()),
                "{typed}"
            );
        }
        assert_eq!(
            parse("+44 113 496 0000", Region::US).map(|p| p.e164),
            Some("+441134960000".into())
        );
        // A US number from a UK clinic needs its +1 (or 00 1).
        assert_eq!(
            parse("00 1 503 555 0123", gb).map(|p| p.e164),
            Some("+15035550123".into())
        );
        // Ofcom's drama range reads as a UK number, so a lookup finds it if it is on file,
        // but it is nobody's phone and is not stored.
        assert_eq!(lookup_forms("07700 900123", gb)[0], "+447700900123");
        assert_eq!(parse("07700 900123", gb), None);
        // A US clinic reads ten digits, with or without the 1, as a US number.
        for typed in [
            "(503) 555-0123",
            "503.555.0123",
            "1 503 555 0123",
            "+1 503-555-0123",
        ] {
            assert_eq!(
                parse(typed, Region::US).map(|p| p.e164),
                Some("+15035550123".into()),
                "{typed}"
            );
        }
    }

    #[test]
    fn the_line_kind_comes_from_the_plan_where_it_knows() {
        let gb = region("GB");
        let mobile = parse("07400 123456", gb).unwrap();
        assert!(
            mobile.texts(false),
            "a UK mobile takes texts, whatever was ticked"
        );
        let landline = parse("020 7946 0958", gb).unwrap();
        assert!(!landline.texts(true), "a UK landline cannot take texts");
        // A UK VoIP number (056) may be a home line: kept, and the choice stands.
        let voip = parse("056 1234 5678", gb).unwrap();
        assert_eq!(voip.line, Line::Unsure);
        // US and Canadian numbers do not say: the person's choice stands.
        for n in ["(503) 555-0123", "(416) 555-0123"] {
            let p = parse(n, Region::US).unwrap();
            assert_eq!(p.line, Line::Unsure, "{n}");
            assert!(p.texts(true) && !p.texts(false), "{n}");
        }
    }

    #[test]
    fn service_and_fraud_prone_numbers_are_never_kept() {
        for (typed, home, what) in [
            ("1-800-555-0123", "US", "US toll-free"),
            ("(888) 555-0123", "US", "US toll-free"),
            ("1-900-555-0123", "US", "US premium rate"),
            ("(500) 555-0123", "US", "NANP personal number"),
            ("411", "US", "service code"),
            ("911", "US", "emergency"),
            ("0800 123 4567", "GB", "UK freephone"),
            ("0909 876 5432", "GB", "UK premium rate"),
            ("0845 464 0000", "GB", "UK 084, premium rate in the plan"),
            ("1300 123 456", "AU", "Australian shared cost"),
            ("070 1234 5678", "GB", "UK personal number"),
            ("076 2345 6789", "GB", "UK pager"),
            ("0300 123 4567", "GB", "UK non-geographic (UAN)"),
            ("0700 12345678", "DE", "German personal number"),
            ("1800 123 456", "AU", "Australian freecall"),
            ("+882 1234 5678", "US", "international networks"),
            ("503-555-0123 x12", "US", "an extension cannot take a text"),
        ] {
            assert_eq!(parse(typed, region(home)), None, "{what}: {typed}");
        }
    }

    #[test]
    fn the_clinics_region_must_be_one_the_metadata_knows() {
        assert_eq!(Region::parse("US"), Some(Region::US));
        assert_eq!(
            Region::parse(" gb ").map(|r| r.code().to_owned()),
            Some("GB".into())
        );
        assert_eq!(Region::default(), Region::US);
        for bad in ["", "XX", "USA", "001", "U", "United States", "ZZ"] {
            assert_eq!(Region::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn odd_input_is_no_number() {
        for typed in [
            "",
            "   ",
            "abc",
            "+",
            "++1",
            "12",
            &"5".repeat(40),
            "+1 (503) 555-01234567",
        ] {
            assert_eq!(parse(typed, Region::US), None, "{typed:?}");
        }
        assert!(lookup_forms("", Region::US).is_empty());
        assert!(lookup_forms("abc", Region::US).is_empty());
    }

    proptest::proptest! {
        /// Whatever is typed, nothing here panics (the parser is handed only digits and pluses,
        /// and a panic inside it would be caught).
        #[test]
        fn no_typed_input_panics(typed in "\\PC{0,40}", digits in "[0-9+ ().-]{0,30}") {
            for home in [Region::US, region("GB"), region("DE")] {
                let _ = parse(&typed, home);
                let _ = parse(&digits, home);
                let _ = lookup_forms(&typed, home);
                let _ = lookup_forms(&digits, home);
            }
            let _ = country_of(&typed);
            let _ = country_of(&format!("+{}", normalize(&digits)));
        }
    }
}
