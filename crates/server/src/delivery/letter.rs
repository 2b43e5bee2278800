//! The printed credentials letter's words and the language-help lines (ACA Section 1557
//! taglines). Rendered from the message catalogue like every message, in the patient's
//! language, but handed to the staff page that prints them instead of being queued.
//!
//! The letter tells the patient which links to choose on the sign-in page, so it quotes them
//! from the page catalogue of the same language: a reworded link can never leave the letter
//! naming one the page no longer shows.

use carekey_i18n::{Catalogue, Lang};
use carekey_shared::Tagline;
use carekey_shared::phone::{display_phone, home_calling_code};
use carekey_shared::staff::{LetterEmailLines, LetterText};

use super::outbound::LetterHolds;
use super::render::{Renderer, s};

/// The page words a letter quotes, in one language. Read once at start-up: the page
/// catalogue's bundle cannot be shared between threads, these strings can.
#[derive(Debug)]
pub(super) struct PageWords {
    lang: Lang,
    /// The sign-in page's "Forgot your password or username?" link.
    forgot: String,
    /// The recovery page's "I have a code from the clinic" button.
    have_code: String,
}

impl PageWords {
    pub(super) fn new(lang: Lang) -> Self {
        let page = Catalogue::new(lang);
        // Page ids, read with `tr` rather than `t(…)`: the server's message catalogue does not
        // hold them, and the i18n test reads `t(…)` as an id the server sends.
        Self {
            lang,
            forgot: page.tr("sign-in-forgot-password"),
            have_code: page.tr("recover-have-clinic-code"),
        }
    }
}

/// What one letter says besides its fixed words.
#[derive(Debug, Clone, Copy)]
pub struct LetterFacts<'a> {
    pub patient_name: &'a str,
    pub holds: LetterHolds,
    /// The masked address the letter's email went to; `None`: no email address on file.
    pub email_to: Option<&'a str>,
    /// The clinic's `password.min_length`, which the step asking for a password names.
    pub min_length: usize,
}

impl Renderer {
    /// The letter's words in `lang` (the patient's language on file, English when none).
    pub fn letter(&self, lang: Lang, f: &LetterFacts<'_>) -> LetterText {
        let w = self.words(lang);
        // `words` falls back to the first catalogue; quote the same language's page.
        let lang = w.lang();
        let page = self
            .page_words
            .iter()
            .find(|p| p.lang == lang)
            .or_else(|| self.page_words.first());
        let (forgot, have_code) = page
            .map(|p| (p.forgot.as_str(), p.have_code.as_str()))
            .unwrap_or_default();
        let open = w.t("letter-step-open", &[]);
        let choose = w.t(
            "letter-step-choose",
            &[("min", carekey_i18n::Arg::Num(f.min_length as i64))],
        );
        let (intro, secret_label, steps) = match f.holds {
            LetterHolds::TemporaryPassword => (
                w.t("letter-intro-password", &[]),
                w.t("letter-temporary-password", &[]),
                vec![open, w.t("letter-step-sign-in", &[]), choose],
            ),
            LetterHolds::ActivationCode => (
                w.t("letter-intro-activation", &[]),
                w.t("letter-activation-code", &[]),
                vec![
                    open,
                    w.t(
                        "letter-step-forgot",
                        &[("forgot", s(forgot)), ("have-code", s(have_code))],
                    ),
                    w.t("letter-step-code", &[]),
                    choose,
                ],
            ),
        };
        let email = match f.email_to {
            Some(to) => LetterEmailLines {
                sent: w.t("letter-email-sent", &[("to", s(to))]),
                queued: w.t("letter-email-queued", &[("to", s(to))]),
                failed: w.t("letter-email-failed", &[("to", s(to))]),
                none: String::new(),
            },
            None => LetterEmailLines {
                none: w.t("letter-email-none", &[]),
                ..Default::default()
            },
        };
        LetterText {
            lang,
            dear: w.t("letter-dear", &[("name", s(f.patient_name))]),
            intro,
            portal_label: w.t("letter-portal", &[]),
            username_label: w.t("letter-username", &[]),
            secret_label,
            good_until_label: w.t("letter-good-until", &[]),
            steps_title: w.t("letter-steps", &[]),
            steps,
            keep_safe: w.t("letter-keep-safe", &[]),
            email,
            language_help: self.language_help.clone(),
        }
    }

    /// The language-help lines (rendered once, in `Renderer::new`).
    pub fn language_help(&self) -> Vec<Tagline> {
        self.language_help.clone()
    }

    /// The language-help lines, in the order every page and letter shows them: each
    /// catalogue's own (English, then Spanish), then the clinic's lines for other languages.
    /// Each says the help is free and gives the clinic's number as people write it there; with
    /// no number configured, it says to ask at the front desk.
    pub(super) fn render_language_help(&self) -> Vec<Tagline> {
        let phone = self.letterhead.clinic_phone.trim();
        let phone = (!phone.is_empty()).then(|| display_phone(phone, home_calling_code(phone)));
        let mut out: Vec<Tagline> = Lang::ALL
            .into_iter()
            .map(|lang| {
                let w = self.words(lang);
                let text = match &phone {
                    Some(p) => w.t("language-help", &[("phone", s(p))]),
                    None => w.t("language-help-no-phone", &[]),
                };
                Tagline {
                    lang: lang.code().to_owned(),
                    text,
                }
            })
            .collect();
        out.extend(self.letterhead.language_help.iter().cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::render::Letterhead;
    use super::*;

    fn renderer(phone: &str, extra: Vec<Tagline>) -> Renderer {
        Renderer::new(Letterhead {
            clinic_name: "Hillside Family Clinic".into(),
            clinic_phone: phone.into(),
            public_url: "https://portal.hillside.example".into(),
            address: "12 Main St".into(),
            sms_name: "Hillside Family Clinic".into(),
            language_help: extra,
        })
    }

    fn facts(holds: LetterHolds, email_to: Option<&str>) -> LetterFacts<'_> {
        LetterFacts {
            patient_name: "Lucía Ramírez",
            holds,
            email_to,
            min_length: 15,
        }
    }

    /// Every printed line, in reading order.
    fn lines(t: &LetterText) -> Vec<&str> {
        let mut out = vec![
            t.dear.as_str(),
            &t.intro,
            &t.portal_label,
            &t.username_label,
            &t.secret_label,
            &t.good_until_label,
            &t.steps_title,
        ];
        out.extend(t.steps.iter().map(String::as_str));
        out.push(&t.keep_safe);
        out
    }

    #[test]
    fn a_spanish_activation_letter_is_spanish_and_quotes_the_spanish_page() {
        let r = renderer("(503) 555-0100", vec![]);
        let t = r.letter(
            Lang::Es,
            &facts(LetterHolds::ActivationCode, Some("l•••@example.com")),
        );
        assert_eq!(t.lang, Lang::Es);
        assert_eq!(t.dear, "Estimado(a) Lucía Ramírez:");
        assert_eq!(t.secret_label, "Código de activación");
        assert_eq!(t.username_label, "Nombre de usuario");
        assert_eq!(
            t.steps,
            [
                "En su teléfono o computadora, abra la dirección del portal de arriba.",
                "Elija \"¿Olvidó su contraseña o su nombre de usuario?\" y luego \
                 \"Tengo un código de la clínica\".",
                "Escriba su nombre de usuario y el código de arriba.",
                "Elija su propia contraseña: por lo menos 15 caracteres. Tres o cuatro palabras \
                 sin relación entre sí funcionan bien.",
            ]
        );
        // The quoted names are the Spanish pages' own words.
        let page = Catalogue::new(Lang::Es);
        assert!(t.steps[1].contains(&page.tr("sign-in-forgot-password")));
        assert!(t.steps[1].contains(&page.tr("recover-have-clinic-code")));
        assert!(t.email.sent.contains("l•••@example.com"), "{:?}", t.email);
        assert!(t.email.failed.contains("l•••@example.com"));
        assert!(t.email.none.is_empty());
        // Nothing is left as an id or in English.
        let english = r.letter(
            Lang::En,
            &facts(LetterHolds::ActivationCode, Some("l•••@example.com")),
        );
        for (es, en) in lines(&t).into_iter().zip(lines(&english)) {
            assert!(!es.is_empty() && !es.starts_with("letter-"), "{es:?}");
            assert_ne!(es, en);
        }
    }

    #[test]
    fn an_english_password_letter_names_the_clinics_minimum() {
        let r = renderer("", vec![]);
        let t = r.letter(
            Lang::En,
            &LetterFacts {
                min_length: 20,
                ..facts(LetterHolds::TemporaryPassword, None)
            },
        );
        assert_eq!(t.lang, Lang::En);
        assert_eq!(t.dear, "Dear Lucía Ramírez,");
        assert_eq!(t.secret_label, "Temporary password");
        assert_eq!(t.steps.len(), 3);
        assert_eq!(
            t.steps[1],
            "Sign in with your username and the password above."
        );
        assert!(
            t.steps[2].contains("at least 20 characters"),
            "{}",
            t.steps[2]
        );
        // No email on file: only the line that says so.
        assert_eq!(
            t.email,
            LetterEmailLines {
                none: "We have no email address for you, so no email was sent.".into(),
                ..Default::default()
            }
        );
    }

    #[test]
    fn taglines_come_in_english_then_spanish_then_the_clinics_own() {
        let vi = Tagline {
            lang: "vi".into(),
            text: "Cần trợ giúp bằng ngôn ngữ khác? Miễn phí.".into(),
        };
        // A number configured in E.164 is shown as people write it here.
        let r = renderer("+15035550100", vec![vi.clone()]);
        let lines = r.language_help();
        assert_eq!(
            lines,
            [
                Tagline {
                    lang: "en".into(),
                    text: "Need help in another language? It is free. Call (503) 555-0100.".into()
                },
                Tagline {
                    lang: "es".into(),
                    text: "¿Necesita ayuda en otro idioma? Es gratis. Llame al (503) 555-0100."
                        .into()
                },
                vi,
            ]
        );
        // Every letter prints the same lines, whatever its language.
        let t = r.letter(Lang::Es, &facts(LetterHolds::TemporaryPassword, None));
        assert_eq!(t.language_help, lines);

        // Without a number, a line that sends the patient to the front desk.
        let none = renderer("", vec![]).language_help();
        assert_eq!(none.len(), 2);
        assert_eq!(
            none[0].text,
            "Need help in another language? It is free. Ask the front desk."
        );
        assert_eq!(
            none[1].text,
            "¿Necesita ayuda en otro idioma? Es gratis. Pregunte en la recepción."
        );
    }
}
