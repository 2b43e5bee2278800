//! What fits in one text message. A text in GSM-7 carries 160 characters; one character outside
//! it (á, í, ó, ú, •, any emoji) turns the whole text into UCS-2, which carries 70. A second
//! segment costs the clinic twice and can arrive out of order, split mid-code, on cheap phones.

/// GSM 03.38's basic character set (the one-septet characters; the escape table's `^{}[]~|€\`
/// cost two and are left out on purpose, so a name never quietly doubles).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

pub fn is_gsm7(c: char) -> bool {
    BASIC.contains(c)
}

/// Characters one segment holds for `text`: 160 in GSM-7, 70 otherwise.
pub fn segment_capacity(text: &str) -> usize {
    if text.chars().all(is_gsm7) { 160 } else { 70 }
}

/// Whether `text` goes as one segment.
pub fn fits_one_segment(text: &str) -> bool {
    text.chars().count() <= segment_capacity(text)
}

/// The longest clinic name a text may carry: with it, every text CareKey sends fits one
/// segment in every language (`delivery::render` tests it for every kind).
pub const MAX_SMS_NAME: usize = 40;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_letters_are_split_by_the_standard() {
        for c in ['ñ', 'é', 'ü', '¿', '¡', 'Ñ', 'É'] {
            assert!(is_gsm7(c), "{c}");
        }
        for c in ['á', 'í', 'ó', 'ú', '•', '€', '{'] {
            assert!(!is_gsm7(c), "{c}");
        }
        assert_eq!(segment_capacity("Clinica San Jose"), 160);
        assert_eq!(segment_capacity("Clínica San José"), 70);
        assert!(fits_one_segment(&"a".repeat(160)));
        assert!(!fits_one_segment(&"a".repeat(161)));
        assert!(!fits_one_segment(&format!("í{}", "a".repeat(70))));
    }
}
