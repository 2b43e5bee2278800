//! Authenticator-app codes: TOTP (RFC 6238) over HOTP (RFC 4226) with HMAC-SHA1, 30-second
//! steps, six digits — the parameters every authenticator app reads from a QR code without
//! asking (SECURITY.md M1). One step either side is accepted for a phone's clock being off;
//! a step once accepted never is again (RFC 6238 §5.2).

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

pub const STEP_MS: i64 = 30_000;
pub const DIGITS: usize = 6;
/// 160 bits, the length RFC 4226 §4 recommends for HMAC-SHA1.
pub const KEY_BYTES: usize = 20;

/// The 30-second step a moment falls in.
pub fn step_at(now_ms: i64) -> i64 {
    now_ms.div_euclid(STEP_MS)
}

/// The six-digit code for one step (RFC 4226 §5.3 dynamic truncation).
pub fn code_at(key: &[u8], step: i64) -> String {
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    format!("{:0width$}", bin % 1_000_000, width = DIGITS)
}

/// The step `typed` is the code of: this step or one either side, later than `last_used`.
/// Spaces and dashes a person types between the digits are ignored.
pub fn matching_step(key: &[u8], typed: &str, now_ms: i64, last_used: Option<i64>) -> Option<i64> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(now_ms);
    // Every candidate is computed and compared, so the time taken does not say which matched.
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        let same: bool = code_at(key, step)
            .as_bytes()
            .ct_eq(digits.as_bytes())
            .into();
        if same && last_used.is_none_or(|last| step > last) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The key as people type it: base32 in groups of four.
pub fn display_key(key: &[u8]) -> String {
    let b32 = BASE32_NOPAD.encode(key);
    b32.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` address an authenticator app reads from the QR code (Key Uri Format):
/// the clinic as issuer, the username as the account, so a person with several accounts sees
/// which is which.
pub fn otpauth_uri(key: &[u8], issuer: &str, account: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let issuer_enc = utf8_percent_encode(issuer, NON_ALPHANUMERIC).to_string();
    let account_enc = utf8_percent_encode(account, NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{issuer_enc}:{account_enc}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period=30",
        BASE32_NOPAD.encode(key)
    )
}

/// The QR code of `uri` as an SVG element, for the page to show inline.
pub fn qr_svg(uri: &str) -> Result<String, qrcode::types::QrError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in the page, the XML declaration has no place.
    Ok(match image.find("<svg") {
        Some(at) => image[at..].to_owned(),
        None => image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 column (the 20-byte ASCII key "12345678901234567890"),
    /// last six digits of its eight-digit values.
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (secs, eight) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(key, step_at(secs * 1000)), eight[2..], "at {secs}");
        }
    }

    #[test]
    fn one_step_either_side_and_no_further() {
        let key = [7u8; KEY_BYTES];
        let now = 1_800_000_000_000;
        let s = step_at(now);
        for (step, ok) in [
            (s - 2, false),
            (s - 1, true),
            (s, true),
            (s + 1, true),
            (s + 2, false),
        ] {
            let got = matching_step(&key, &code_at(&key, step), now, None);
            assert_eq!(got.is_some(), ok, "step offset {}", step - s);
        }
    }

    #[test]
    fn a_used_step_is_never_accepted_again() {
        let key = [9u8; KEY_BYTES];
        let now = 1_800_000_000_000;
        let s = step_at(now);
        let code = code_at(&key, s);
        assert_eq!(matching_step(&key, &code, now, None), Some(s));
        assert_eq!(matching_step(&key, &code, now, Some(s)), None);
        // Nor an older one once a newer one was used.
        assert_eq!(
            matching_step(&key, &code_at(&key, s - 1), now, Some(s)),
            None
        );
        assert_eq!(
            matching_step(&key, &code_at(&key, s + 1), now, Some(s)),
            Some(s + 1)
        );
    }

    #[test]
    fn typed_spacing_is_forgiven_and_junk_refused() {
        let key = [3u8; KEY_BYTES];
        let now = 1_800_000_000_000;
        let code = code_at(&key, step_at(now));
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(matching_step(&key, &spaced, now, None).is_some());
        assert!(matching_step(&key, "12345", now, None).is_none());
        assert!(matching_step(&key, "abcdef", now, None).is_none());
        assert!(matching_step(&key, "", now, None).is_none());
    }

    #[test]
    fn key_and_address_read_as_authenticator_apps_expect() {
        let key = b"12345678901234567890";
        assert_eq!(display_key(key), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        let uri = otpauth_uri(key, "Hillside Clinic", "rosa.q");
        assert_eq!(
            uri,
            "otpauth://totp/Hillside%20Clinic:rosa%2Eq?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Hillside%20Clinic&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }
}
