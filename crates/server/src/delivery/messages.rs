//! What CareKey says in its messages. Every code message names its purpose, when it expires,
//! its reference (also shown on the page), and what to do if the patient did not ask
//! (SECURITY.md R10). Texts end with the Web OTP line so phones can offer to fill the code in.

use serde::{Deserialize, Serialize};

/// A rendered message, stored in the outbox until it has been delivered or has expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Email {
        subject: String,
        text: String,
        html: String,
    },
    Sms {
        text: String,
    },
    /// Read out by a voice call. `parts` are spoken in order; the code is spelled digit by
    /// digit with pauses (SECURITY.md A4).
    Voice {
        intro: String,
        digits: String,
        outro: String,
    },
}

impl Body {
    /// Which kind of destination this body needs.
    pub fn channel(&self) -> &'static str {
        match self {
            Body::Email { .. } => "email",
            Body::Sms { .. } => "sms",
            Body::Voice { .. } => "voice",
        }
    }

    /// The whole voice script as it is spoken, for the development outbox and the TwiML.
    pub fn voice_script(&self) -> Option<String> {
        match self {
            Body::Voice {
                intro,
                digits,
                outro,
            } => {
                let spelled = spell_digits(digits);
                Some(format!(
                    "{intro} Your code is: {spelled}. Again, your code is: {spelled}. {outro}"
                ))
            }
            _ => None,
        }
    }
}

/// "12345678" → "1, 2, 3, 4, 5, 6, 7, 8": speech engines read each digit with a pause.
pub fn spell_digits(digits: &str) -> String {
    digits
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Facts every message needs.
#[derive(Debug, Clone)]
pub struct Letterhead {
    pub clinic_name: String,
    pub clinic_phone: String,
    /// The configured public origin, e.g. `https://portal.example.org` (never the Host header).
    pub public_url: String,
}

impl Letterhead {
    fn host(&self) -> &str {
        self.public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, h)| h)
    }

    fn call_us(&self) -> String {
        if self.clinic_phone.is_empty() {
            format!("call {}", self.clinic_name)
        } else {
            format!("call {} at {}", self.clinic_name, self.clinic_phone)
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain paragraphs to a simple HTML email (no remote images, no scripts: mail clients and
/// scanners treat both with suspicion).
fn html(paragraphs: &[String], highlight: Option<&str>) -> String {
    let mut out = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;font-size:16px;line-height:1.5\">",
    );
    for p in paragraphs {
        if Some(p.as_str()) == highlight {
            out.push_str(&format!(
                "<p style=\"font-size:28px;letter-spacing:4px;font-weight:bold\">{}</p>",
                escape(p)
            ));
        } else {
            out.push_str(&format!("<p>{}</p>", escape(p)));
        }
    }
    out.push_str("</body></html>");
    out
}

fn minutes(ttl_secs: u64) -> String {
    let m = ttl_secs.div_ceil(60);
    if m == 1 {
        "1 minute".into()
    } else if m.is_multiple_of(60) && m >= 60 {
        let h = m / 60;
        if h == 1 {
            "1 hour".into()
        } else {
            format!("{h} hours")
        }
    } else {
        format!("{m} minutes")
    }
}

/// A code by text: what it is for, the reference, the expiry, and the Web OTP line last.
fn sms_code(lh: &Letterhead, what: &str, code: &str, reference: &str, expiry: &str) -> Body {
    Body::Sms {
        text: format!(
            "{}: your {what} is {code} (reference {reference}). It expires in {expiry}. \
             Didn't ask? Ignore this.\n\n@{} #{code}",
            lh.clinic_name,
            lh.host()
        ),
    }
}

/// A code by call: read digit by digit, with the reference spelled out too.
fn voice_code(lh: &Letterhead, purpose: &str, code: &str, reference: &str, expiry: &str) -> Body {
    Body::Voice {
        intro: format!(
            "Hello. This is {} with the code to {purpose}.",
            lh.clinic_name
        ),
        digits: code.to_owned(),
        outro: format!(
            "The message reference is {}. The code expires in {expiry}. If you did not ask for \
             it, you can hang up.",
            spell_digits(reference)
        ),
    }
}

/// A password-reset code, for the channel it goes by.
pub fn reset_code(
    lh: &Letterhead,
    channel: &str,
    code: &str,
    reference: &str,
    ttl_secs: u64,
) -> Body {
    let expiry = minutes(ttl_secs);
    let not_you = format!(
        "If you did not ask to reset your password, you can ignore this; your password has not \
         changed. If this keeps happening, {}.",
        lh.call_us()
    );
    match channel {
        "sms" => sms_code(lh, "password reset code", code, reference, &expiry),
        "voice" => voice_code(
            lh,
            "reset your patient portal password",
            code,
            reference,
            &expiry,
        ),
        _ => {
            let paras = vec![
                format!(
                    "You asked to reset your {} patient portal password. Your code is:",
                    lh.clinic_name
                ),
                code.to_owned(),
                format!("Reference: {reference}. The code expires in {expiry} and works once."),
                "Type it on the page where you asked for it.".to_owned(),
                not_you,
            ];
            Body::Email {
                subject: format!("Your password reset code (reference {reference})"),
                text: paras.join("\n\n"),
                html: html(&paras, Some(code)),
            }
        }
    }
}

/// A password-reset link. The token travels in the fragment, so it never reaches a server log
/// or a Referer header (SECURITY.md R2).
pub fn reset_link(lh: &Letterhead, token: &str, reference: &str, ttl_secs: u64) -> Body {
    let url = format!("{}/reset#t={token}", lh.public_url);
    let paras = vec![
        format!(
            "You asked to reset your {} patient portal password.",
            lh.clinic_name
        ),
        "Open this link, then press Continue to choose a new password:".to_owned(),
        url.clone(),
        format!(
            "Reference: {reference}. The link expires in {} and works once.",
            minutes(ttl_secs)
        ),
        format!(
            "If you did not ask to reset your password, you can ignore this email; your password \
             has not changed. If this keeps happening, {}.",
            lh.call_us()
        ),
    ];
    let mut html_body = html(&paras, None);
    // The link as a link, the address also shown in full so the patient can check it is the
    // clinic's own portal before opening it.
    html_body = html_body.replace(
        &format!("<p>{}</p>", escape(&url)),
        &format!(
            "<p><a href=\"{0}\">Choose a new password</a></p><p style=\"word-break:break-all\">{0}</p>",
            escape(&url)
        ),
    );
    Body::Email {
        subject: format!("Reset your password (reference {reference})"),
        text: paras.join("\n\n"),
        html: html_body,
    }
}

/// The username, sent only to a contact on file (SECURITY.md R11).
pub fn username_reminder(lh: &Letterhead, channel: &str, username: &str) -> Body {
    let not_you = format!(
        "If you did not ask for this, you can ignore it. Questions? {}.",
        lh.call_us()
    );
    match channel {
        "sms" => Body::Sms {
            text: format!(
                "{}: your patient portal username is {username}. Didn't ask? Ignore this.",
                lh.clinic_name
            ),
        },
        _ => {
            let paras = vec![
                format!(
                    "You asked for your {} patient portal username. It is:",
                    lh.clinic_name
                ),
                username.to_owned(),
                format!("Sign in at {}.", lh.public_url),
                not_you,
            ];
            Body::Email {
                subject: "Your patient portal username".into(),
                text: paras.join("\n\n"),
                html: html(&paras, Some(username)),
            }
        }
    }
}

/// Sent to the email on file when staff set up or reset portal sign-in. It carries the
/// username only: the temporary password or activation code is on the printed letter the
/// clinic handed over, so a mailbox read by someone else does not open the portal.
pub fn credentials_email(lh: &Letterhead, username: &str, activation: bool, address: &str) -> Body {
    let what = if activation {
        "The letter the clinic gave you has a one-time activation code. On the sign-in page, \
         choose \"Forgot your password or username?\", then \"I have a code from the clinic\", \
         and enter your username and that code to choose your own password."
    } else {
        "The letter the clinic gave you has a temporary password. Sign in with your username \
         and that password; you will then be asked to choose your own."
    };
    let mut paras = vec![
        format!(
            "{} set up sign-in to your patient portal. Your username is:",
            lh.clinic_name
        ),
        username.to_owned(),
        what.to_owned(),
        format!("Sign in at {}.", lh.public_url),
        format!(
            "If you did not ask the clinic for this, {} so we can help.",
            lh.call_us()
        ),
    ];
    if !address.trim().is_empty() {
        paras.push(address.trim().to_owned());
    }
    Body::Email {
        subject: "Your patient portal sign-in".into(),
        text: paras.join("\n\n"),
        html: html(&paras, Some(username)),
    }
}

/// A code confirming a new email or phone for the account (SECURITY.md A5).
pub fn contact_code(
    lh: &Letterhead,
    channel: &str,
    code: &str,
    reference: &str,
    ttl_secs: u64,
) -> Body {
    let expiry = minutes(ttl_secs);
    match channel {
        "sms" => sms_code(
            lh,
            "code to add this number to your patient portal",
            code,
            reference,
            &expiry,
        ),
        "voice" => voice_code(
            lh,
            "add this phone number to your patient portal",
            code,
            reference,
            &expiry,
        ),
        _ => {
            let paras = vec![
                format!(
                    "To add this email address to your {} patient portal, type this code:",
                    lh.clinic_name
                ),
                code.to_owned(),
                format!("Reference: {reference}. The code expires in {expiry} and works once."),
                "If you did not ask for this, you can ignore it; nothing changes.".to_owned(),
            ];
            Body::Email {
                subject: format!("Confirm your email address (reference {reference})"),
                text: paras.join("\n\n"),
                html: html(&paras, Some(code)),
            }
        }
    }
}

/// Sent to the contacts on file before an email or phone change (SECURITY.md A5).
pub fn contact_changed_notice(
    lh: &Letterhead,
    channel: &str,
    kind: carekey_shared::ContactKind,
    masked_new: &str,
) -> Body {
    let what = match kind {
        carekey_shared::ContactKind::Email => "email address",
        carekey_shared::ContactKind::Mobile => "mobile number",
        carekey_shared::ContactKind::Landline => "phone number",
    };
    match channel {
        "sms" => Body::Sms {
            text: format!(
                "{}: the {what} on your patient portal was changed to {masked_new}. Not you? {}.",
                lh.clinic_name,
                lh.call_us()
            ),
        },
        _ => {
            let paras = vec![
                format!(
                    "The {what} on your {} patient portal account was just changed to {masked_new}.",
                    lh.clinic_name
                ),
                "If this was you, there is nothing else to do.".to_owned(),
                format!(
                    "If this was not you, {} right away so we can secure your account.",
                    lh.call_us()
                ),
            ];
            Body::Email {
                subject: format!("Your portal {what} was changed"),
                text: paras.join("\n\n"),
                html: html(&paras, None),
            }
        }
    }
}

/// Sent to every contact on file after the username changed: the new one, so the patient can
/// still sign in, and a warning if it was not them.
pub fn username_changed_notice(lh: &Letterhead, channel: &str, username: &str) -> Body {
    let act = format!("If this was not you, {} right away.", lh.call_us());
    match channel {
        "sms" => Body::Sms {
            text: format!(
                "{}: your patient portal username is now {username}. Not you? {}.",
                lh.clinic_name,
                lh.call_us()
            ),
        },
        _ => {
            let paras = vec![
                format!(
                    "Your {} patient portal username was just changed. It is now:",
                    lh.clinic_name
                ),
                username.to_owned(),
                act,
            ];
            Body::Email {
                subject: "Your portal username was changed".into(),
                text: paras.join("\n\n"),
                html: html(&paras, Some(username)),
            }
        }
    }
}

/// Sent to every contact on file after a password is reset or changed (SECURITY.md R9), so a
/// patient whose account was taken over hears about it.
pub fn password_changed_notice(lh: &Letterhead, channel: &str, how: &str) -> Body {
    let act = format!(
        "If this was not you, {} right away so we can lock your account and help you.",
        lh.call_us()
    );
    match channel {
        "sms" => Body::Sms {
            text: format!(
                "{}: your patient portal password was just {how}. Not you? {}.",
                lh.clinic_name,
                lh.call_us()
            ),
        },
        _ => {
            let paras = vec![
                format!(
                    "Your {} patient portal password was just {how}. Every device that was \
                     signed in has been signed out.",
                    lh.clinic_name
                ),
                "If this was you, there is nothing else to do.".to_owned(),
                act,
            ];
            Body::Email {
                subject: "Your portal password was changed".into(),
                text: paras.join("\n\n"),
                html: html(&paras, None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lh() -> Letterhead {
        Letterhead {
            clinic_name: "Hillside Family Clinic".into(),
            clinic_phone: "(503) 555-0100".into(),
            public_url: "https://portal.hillside.example".into(),
        }
    }

    #[test]
    fn sms_names_purpose_expiry_reference_and_ends_with_web_otp_line() {
        let Body::Sms { text } = reset_code(&lh(), "sms", "01234567", "K7QM", 600) else {
            panic!("not an sms")
        };
        assert!(text.contains("password reset code is 01234567"));
        assert!(text.contains("reference K7QM"));
        assert!(text.contains("expires in 10 minutes"));
        assert!(
            text.ends_with("@portal.hillside.example #01234567"),
            "{text}"
        );
    }

    #[test]
    fn email_code_has_text_and_escaped_html() {
        let mut l = lh();
        l.clinic_name = "Smith & <Sons>".into();
        let Body::Email {
            subject,
            text,
            html,
        } = reset_code(&l, "email", "12345678", "K7QM", 600)
        else {
            panic!("not an email")
        };
        assert!(subject.contains("K7QM"));
        assert!(text.contains("12345678") && text.contains("did not ask"));
        assert!(html.contains("Smith &amp; &lt;Sons&gt;"));
        assert!(!html.contains("<Sons>"));
    }

    #[test]
    fn link_puts_the_token_in_the_fragment_of_the_configured_origin() {
        let Body::Email { text, html, .. } = reset_link(&lh(), "tok_123", "K7QM", 3600) else {
            panic!("not an email")
        };
        assert!(text.contains("https://portal.hillside.example/reset#t=tok_123"));
        assert!(html.contains("href=\"https://portal.hillside.example/reset#t=tok_123\""));
        assert!(text.contains("expires in 1 hour"));
    }

    #[test]
    fn voice_spells_the_code_twice() {
        let b = reset_code(&lh(), "voice", "12345678", "K7QM", 600);
        let script = b.voice_script().unwrap();
        assert_eq!(
            script.matches("1, 2, 3, 4, 5, 6, 7, 8").count(),
            2,
            "{script}"
        );
        assert!(script.contains("expires in 10 minutes"));
        assert!(script.contains("reference is K, 7, Q, M"), "R10: {script}");
    }
}
