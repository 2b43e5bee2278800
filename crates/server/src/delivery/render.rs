//! The words of an outbound message: subject, text and HTML of an email, the text of an SMS,
//! the lines of a call. Rendered from Fluent (`carekey-i18n`, feature `messages`) when the
//! dispatcher sends a message and when Twilio fetches a call's script, in the language queued
//! with the message, with the clinic's letterhead from configuration.
//!
//! The catalogue holds the sentences; this module holds only the layout (which paragraphs, in
//! which order, which one is shown large) and the formats that are not words: the Web OTP
//! line that ends a text, the HTML around the paragraphs, the digits spelled with pauses.

use carekey_i18n::messages::MessageCatalogue;
use carekey_i18n::{Arg, Lang};
use carekey_shared::{ContactKind, Tagline};

use super::outbound::{
    Channel, LetterHolds, NoticeChannel, Outbound, PasswordChange, Queued, TwoStepChange,
};

/// The clinic, as every message presents it. From configuration, given to the renderer once:
/// a queued message does not carry it, so a corrected phone number reaches messages already
/// waiting.
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    pub clinic_name: String,
    pub clinic_phone: String,
    /// The configured public origin, e.g. `https://portal.example.org` (never the Host header).
    pub public_url: String,
    /// The clinic's postal address, printed under the credentials email; may be empty.
    pub address: String,
    /// The clinic's name in texts (`clinic.sms_name`, or `clinic.name` when it fits): at
    /// most 40 GSM-7 characters, so every text is one segment.
    pub sms_name: String,
    /// The clinic's own language-help lines (`clinic.language_help`), after the catalogues'
    /// English and Spanish ones.
    pub language_help: Vec<Tagline>,
}

/// Marks a catalogue id named outside a `t(…)` call, so the catalogue test (crates/i18n)
/// finds it among the ids the server uses.
const fn id(s: &'static str) -> &'static str {
    s
}

const RESET_CODE: CodeIds = CodeIds {
    sms: id("reset-code-sms"),
    voice_intro: id("reset-code-voice-intro"),
    subject: id("reset-code-subject"),
    intro: id("reset-code-intro"),
    after: &[id("reset-code-where"), id("reset-not-you")],
};

const CONTACT_CODE: CodeIds = CodeIds {
    sms: id("contact-code-sms"),
    voice_intro: id("contact-code-voice-intro"),
    subject: id("contact-code-subject"),
    intro: id("contact-code-intro"),
    after: &[id("contact-code-not-you")],
};

const SIGN_IN_CODE: CodeIds = CodeIds {
    sms: id("sign-in-code-sms"),
    voice_intro: id("sign-in-code-voice-intro"),
    subject: id("sign-in-code-subject"),
    intro: id("sign-in-code-intro"),
    after: &[id("sign-in-code-where"), id("sign-in-code-not-you")],
};

/// The catalogue ids of one kind of code message, by part.
struct CodeIds {
    sms: &'static str,
    voice_intro: &'static str,
    subject: &'static str,
    intro: &'static str,
    /// Email paragraphs after the code and its reference.
    after: &'static [&'static str],
}

impl Letterhead {
    /// The origin without its scheme: what the Web OTP line names.
    fn host(&self) -> &str {
        self.public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, h)| h)
    }
}

/// A message in words, for the transport of its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    Email {
        subject: String,
        text: String,
        html: String,
    },
    Sms {
        text: String,
    },
    /// Read out by a voice call, line by line (SECURITY.md A4).
    Voice(Script),
}

/// The lines of a call: `code` and `again` spell the code digit by digit; `repeat` offers to
/// play it again and `goodbye` ends the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The language it is read in: Twilio picks the voice by it (`<Say language="es-US">`),
    /// so Spanish digits are read as Spanish numbers.
    pub lang: Lang,
    pub intro: String,
    pub code: String,
    pub again: String,
    pub outro: String,
    pub repeat: String,
    pub goodbye: String,
}

impl Rendered {
    pub fn channel(&self) -> Channel {
        match self {
            Rendered::Email { .. } => Channel::Email,
            Rendered::Sms { .. } => Channel::Sms,
            Rendered::Voice(_) => Channel::Voice,
        }
    }

    /// The voice script as it is spoken through once, for the development outbox.
    pub fn voice_script(&self) -> Option<String> {
        match self {
            Rendered::Voice(s) => Some(format!("{} {} {} {}", s.intro, s.code, s.again, s.outro)),
            _ => None,
        }
    }
}

/// "12345678" → "1, 2, 3, 4, 5, 6, 7, 8": speech engines read each character with a pause.
pub fn spell(chars: &str) -> String {
    chars
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders queued messages. Built once at start-up (each language's catalogue is parsed
/// once) and shared by the dispatcher and the Twilio script endpoint.
#[derive(Debug)]
pub struct Renderer {
    pub(super) letterhead: Letterhead,
    catalogues: Vec<MessageCatalogue>,
    /// Each language's page words that the printed letter quotes (`super::letter`).
    pub(super) page_words: Vec<super::letter::PageWords>,
    /// The language-help lines, rendered once: they depend on configuration only, and every
    /// page load asks for them (`portal_info`).
    pub(super) language_help: Vec<Tagline>,
}

impl Renderer {
    pub fn new(letterhead: Letterhead) -> Self {
        let mut r = Self {
            letterhead,
            catalogues: Lang::ALL.into_iter().map(MessageCatalogue::new).collect(),
            page_words: Lang::ALL
                .into_iter()
                .map(super::letter::PageWords::new)
                .collect(),
            language_help: Vec::new(),
        };
        r.language_help = r.render_language_help();
        r
    }

    pub(super) fn words(&self, lang: Lang) -> Words<'_> {
        // Every language in `Lang::ALL` has a catalogue; the fallback only keeps this total.
        let c = self
            .catalogues
            .iter()
            .find(|c| c.lang() == lang)
            .or_else(|| self.catalogues.first());
        Words::new(c, &self.letterhead)
    }

    pub fn render(&self, q: &Queued) -> Rendered {
        self.words(q.lang).render(&q.message, q.report.as_deref())
    }

    /// Every kind of text, in every language, as this letterhead would send it with the
    /// longest username and code lifetime there can be; answers those that would not go as one
    /// segment (`crate::sms`), by name. The server warns at start-up about any (a long
    /// `public_url` host lengthens every code's Web OTP line), and a test keeps it empty for
    /// the longest `clinic.sms_name` allowed.
    pub fn texts_over_one_segment(&self) -> Vec<String> {
        let username = "u".repeat(64);
        let code = |via| Outbound::ResetCode {
            via,
            code: "12345678".into(),
            reference: "WXYZ".into(),
            expires_in_minutes: 59,
        };
        let mut kinds = vec![
            ("reset code", code(Channel::Sms)),
            (
                "contact code",
                Outbound::ContactCode {
                    via: Channel::Sms,
                    code: "12345678".into(),
                    reference: "WXYZ".into(),
                    expires_in_minutes: 59,
                },
            ),
            (
                "sign-in code",
                Outbound::SignInCode {
                    via: Channel::Sms,
                    code: "12345678".into(),
                    reference: "WXYZ".into(),
                    expires_in_minutes: 59,
                },
            ),
            (
                "username",
                Outbound::Username {
                    via: NoticeChannel::Sms,
                    username: username.clone(),
                },
            ),
            (
                "username changed",
                Outbound::UsernameChanged {
                    via: NoticeChannel::Sms,
                    username,
                },
            ),
        ];
        for how in [
            PasswordChange::ByOwner,
            PasswordChange::Reset,
            PasswordChange::ResetByClinic,
        ] {
            kinds.push((
                "password changed",
                Outbound::PasswordChanged {
                    via: NoticeChannel::Sms,
                    how,
                },
            ));
        }
        for what in [
            TwoStepChange::AppAdded,
            TwoStepChange::AppRemoved,
            TwoStepChange::PasskeyAdded,
            TwoStepChange::PasskeyRemoved,
            TwoStepChange::BackupCodeUsed { left: 9 },
            TwoStepChange::BackupCodesRenewed,
            TwoStepChange::ResetByClinic,
            TwoStepChange::DeviceRemembered,
            TwoStepChange::SentCodeAdded,
            TwoStepChange::SentCodeRemoved,
        ] {
            kinds.push((
                "two-step changed",
                Outbound::TwoStepChanged {
                    via: NoticeChannel::Sms,
                    what,
                },
            ));
        }
        for kind in [
            ContactKind::Email,
            ContactKind::Mobile,
            ContactKind::Landline,
        ] {
            kinds.push((
                "contact changed",
                Outbound::ContactChanged {
                    via: NoticeChannel::Sms,
                    kind,
                    masked_new_value: Some("m•••@example.org".into()),
                },
            ));
        }
        let mut over = vec![];
        for lang in Lang::ALL {
            for (name, message) in &kinds {
                let q = Queued {
                    lang,
                    message: message.clone(),
                    // As long as a real one (`secrets::new_short_token`).
                    report: Some("A".repeat(22)),
                };
                if let Rendered::Sms { text } = self.render(&q)
                    && !crate::sms::fits_one_segment(&text)
                {
                    over.push(format!(
                        "{name} ({}): {} characters",
                        lang.tag(),
                        text.chars().count()
                    ));
                }
            }
        }
        over
    }

    /// What a call hears when its script may no longer be played.
    pub fn goodbye(&self, lang: Lang) -> String {
        self.words(lang).t("voice-goodbye", &[])
    }
}

/// One paragraph of an email.
enum Para {
    Text(String),
    /// A code or username: shown large in the HTML part.
    Shown(String),
    /// A link: in the HTML, a button-like link with `label` and then the address in full, so
    /// the patient can check it is the clinic's own portal before opening it.
    Link {
        url: String,
        label: String,
    },
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

/// A subject and paragraphs to an email with a text part and a simple HTML part (no remote
/// images, no scripts: mail clients and scanners treat both with suspicion). Every value is
/// escaped in the HTML, the clinic's name included.
fn email(subject: String, paras: Vec<Para>) -> Rendered {
    let text = paras
        .iter()
        .map(|p| match p {
            Para::Text(s) | Para::Shown(s) => s.as_str(),
            Para::Link { url, .. } => url.as_str(),
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;font-size:16px;line-height:1.5\">",
    );
    for p in &paras {
        match p {
            Para::Text(s) => html.push_str(&format!("<p>{}</p>", escape(s))),
            Para::Shown(s) => html.push_str(&format!(
                "<p style=\"font-size:28px;letter-spacing:4px;font-weight:bold\">{}</p>",
                escape(s)
            )),
            Para::Link { url, label } => html.push_str(&format!(
                "<p><a href=\"{0}\">{1}</a></p><p style=\"word-break:break-all\">{0}</p>",
                escape(url),
                escape(label)
            )),
        }
    }
    html.push_str("</body></html>");
    Rendered::Email {
        subject,
        text,
        html,
    }
}

/// One language's catalogue with the letterhead's values that most messages use.
pub(super) struct Words<'a> {
    c: Option<&'a MessageCatalogue>,
    lh: &'a Letterhead,
    call_us: String,
    sms_call_us: String,
}

pub(super) fn s(v: &str) -> Arg {
    Arg::Str(v.to_owned())
}

impl<'a> Words<'a> {
    pub(super) fn lang(&self) -> Lang {
        self.c.map(MessageCatalogue::lang).unwrap_or_default()
    }

    fn new(c: Option<&'a MessageCatalogue>, lh: &'a Letterhead) -> Self {
        let mut w = Self {
            c,
            lh,
            call_us: String::new(),
            sms_call_us: String::new(),
        };
        let call_us = |name: &str| {
            if lh.clinic_phone.is_empty() {
                w.with(id("call-us-no-phone"), &[("clinic", s(name))])
            } else {
                w.with(
                    id("call-us"),
                    &[("clinic", s(name)), ("phone", s(&lh.clinic_phone))],
                )
            }
        };
        let (long, short) = (call_us(&lh.clinic_name), call_us(&lh.sms_name));
        w.call_us = long;
        w.sms_call_us = short;
        w
    }

    /// The message `id` with exactly `args`.
    fn with(&self, id: &str, args: &[(&str, Arg)]) -> String {
        match self.c {
            Some(c) => c.tr(id, args),
            None => id.to_owned(),
        }
    }

    /// The message `id` with `args`, plus `$clinic`, `$call-us` and `$url`, which any message
    /// may use.
    pub(super) fn t(&self, id: &str, args: &[(&str, Arg)]) -> String {
        self.with_clinic(id, &self.lh.clinic_name, &self.call_us, args)
    }

    /// A text's words: as `t`, with the clinic's short name for texts, so the text stays one
    /// segment (`crate::sms`).
    fn t_sms(&self, id: &str, args: &[(&str, Arg)]) -> String {
        self.with_clinic(id, &self.lh.sms_name, &self.sms_call_us, args)
    }

    fn with_clinic(&self, id: &str, clinic: &str, call_us: &str, args: &[(&str, Arg)]) -> String {
        let mut all = vec![
            ("clinic", s(clinic)),
            ("call-us", s(call_us)),
            ("url", s(&self.lh.public_url)),
        ];
        all.extend(args.iter().cloned());
        self.with(id, &all)
    }

    /// "10 minutes", "1 hour": whole hours when the lifetime is a multiple of one.
    fn expiry(&self, minutes: u32) -> String {
        if minutes >= 60 && minutes.is_multiple_of(60) {
            self.t(
                "expiry-hours",
                &[("hours", Arg::Num(i64::from(minutes / 60)))],
            )
        } else {
            self.t(
                "expiry-minutes",
                &[("minutes", Arg::Num(i64::from(minutes)))],
            )
        }
    }

    /// A code by text, ending with the Web OTP line (`@host #code`, SECURITY.md R10) so the
    /// phone can offer to fill the code in. That line is a format the phone reads, so it is
    /// not in the catalogue and never translated.
    fn sms_code(&self, sentence: String, code: &str) -> Rendered {
        Rendered::Sms {
            text: format!("{sentence}\n\n@{} #{code}", self.lh.host()),
        }
    }

    /// A code by call: the code spelled twice, the reference spelled too (SECURITY.md A4, R10).
    fn voice_code(&self, intro: String, code: &str, reference: &str, expiry: &str) -> Rendered {
        let spelled = spell(code);
        Rendered::Voice(Script {
            lang: self.lang(),
            intro,
            code: self.t("voice-code", &[("spelled", s(&spelled))]),
            again: self.t("voice-code-again", &[("spelled", s(&spelled))]),
            outro: self.t(
                "voice-outro",
                &[("spelled", s(&spell(reference))), ("expiry", s(expiry))],
            ),
            repeat: self.t("voice-repeat", &[]),
            goodbye: self.t("voice-goodbye", &[]),
        })
    }

    /// A notice by call, for a patient with no email and no texting phone: said twice, then
    /// who to call if it was not them, then "press 1" (the same pace as a code, SECURITY.md A4).
    /// `statement` names no new username or contact: whoever answers a shared landline hears it.
    fn voice_notice(&self, statement: String) -> Rendered {
        Rendered::Voice(Script {
            lang: self.lang(),
            intro: self.t("voice-notice-intro", &[]),
            again: self.t("voice-notice-again", &[("statement", s(&statement))]),
            code: statement,
            outro: self.t("voice-notice-not-you", &[]),
            repeat: self.t("voice-notice-repeat", &[]),
            goodbye: self.t("voice-goodbye", &[]),
        })
    }

    /// A username read one character at a time, with its symbols said as words ("maria.l" →
    /// "m, a, r, i, a, dot, l"): a speech engine reads "maria.l" as a word and skips the dot.
    fn spell_username(&self, username: &str) -> String {
        username
            .to_lowercase()
            .chars()
            .map(|c| match c {
                '.' => self.t("voice-char-dot", &[]),
                '-' => self.t("voice-char-dash", &[]),
                '_' => self.t("voice-char-underscore", &[]),
                '@' => self.t("voice-char-at", &[]),
                c => c.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The "this wasn't me" page for a notice's token, on the configured origin (R8), the
    /// token in the fragment (R2).
    fn not_me_url(&self, token: &str) -> String {
        format!("{}/not-me#{token}", self.lh.public_url)
    }

    /// A notice by text: its sentence, then its "this wasn't me" link and the clinic's number
    /// (a phone that cannot open links can still call), or the link alone when both would
    /// split the text, or who to call when there is no link. One segment always (`crate::sms`).
    fn notice_sms(&self, id: &str, args: &[(&str, Arg)], report: Option<&str>) -> Rendered {
        let mut tails = vec![];
        if let Some(token) = report {
            let link = s(&self.not_me_url(token));
            if !self.lh.clinic_phone.is_empty() {
                tails.push(self.t_sms(
                    "not-you-sms-link-call",
                    &[("link", link.clone()), ("phone", s(&self.lh.clinic_phone))],
                ));
            }
            tails.push(self.t_sms("not-you-sms-link", &[("link", link)]));
        } else {
            tails.push(self.t_sms("not-you-sms-call", &[]));
        }
        let texts: Vec<String> = tails
            .into_iter()
            .map(|tail| {
                let mut all = args.to_vec();
                all.push(("not-you", s(&tail)));
                self.t_sms(id, &all)
            })
            .collect();
        let text = texts
            .iter()
            .find(|t| crate::sms::fits_one_segment(t))
            .or(texts.last())
            .cloned()
            .unwrap_or_default();
        Rendered::Sms { text }
    }

    /// A notice email's "this wasn't me" paragraphs (SECURITY.md M8), after its own "if this
    /// was not you" paragraph.
    fn not_me_paras(&self, report: Option<&str>) -> Vec<Para> {
        match report {
            Some(token) => vec![
                Para::Text(self.t("not-me-intro", &[])),
                Para::Link {
                    url: self.not_me_url(token),
                    label: self.t("not-me-button", &[]),
                },
            ],
            None => vec![],
        }
    }

    fn render(&self, m: &Outbound, report: Option<&str>) -> Rendered {
        match m {
            Outbound::ResetCode {
                via,
                code,
                reference,
                expires_in_minutes,
            } => self.reset_code(*via, code, reference, *expires_in_minutes),
            Outbound::ResetLink {
                token,
                reference,
                expires_in_minutes,
            } => self.reset_link(token, reference, *expires_in_minutes),
            Outbound::Username { via, username } => self.username(*via, username),
            Outbound::CredentialsSetUp { username, letter } => {
                self.credentials(username, *letter, report)
            }
            Outbound::ContactCode {
                via,
                code,
                reference,
                expires_in_minutes,
            } => self.contact_code(*via, code, reference, *expires_in_minutes),
            Outbound::SignInCode {
                via,
                code,
                reference,
                expires_in_minutes,
            } => self.code(&SIGN_IN_CODE, *via, code, reference, *expires_in_minutes),
            Outbound::ContactChanged {
                via,
                kind,
                masked_new_value,
            } => self.contact_changed(*via, *kind, masked_new_value.as_deref(), report),
            Outbound::UsernameChanged { via, username } => {
                self.username_changed(*via, username, report)
            }
            Outbound::PasswordChanged { via, how } => self.password_changed(*via, *how, report),
            Outbound::TwoStepChanged { via, what } => self.two_step_changed(*via, *what, report),
        }
    }

    fn reset_code(&self, via: Channel, code: &str, reference: &str, minutes: u32) -> Rendered {
        self.code(&RESET_CODE, via, code, reference, minutes)
    }

    /// A code by text, call or email: the words differ by purpose (`ids`), the layout not.
    fn code(
        &self,
        ids: &CodeIds,
        via: Channel,
        code: &str,
        reference: &str,
        minutes: u32,
    ) -> Rendered {
        let expiry = self.expiry(minutes);
        let args = [
            ("code", s(code)),
            ("reference", s(reference)),
            ("expiry", s(&expiry)),
        ];
        match via {
            Channel::Sms => self.sms_code(self.t_sms(ids.sms, &args), code),
            Channel::Voice => {
                self.voice_code(self.t(ids.voice_intro, &[]), code, reference, &expiry)
            }
            Channel::Email => {
                let mut paras = vec![
                    Para::Text(self.t(ids.intro, &[])),
                    Para::Shown(code.to_owned()),
                    Para::Text(self.t("code-reference", &args)),
                ];
                paras.extend(ids.after.iter().map(|id| Para::Text(self.t(id, &[]))));
                email(self.t(ids.subject, &args), paras)
            }
        }
    }

    fn reset_link(&self, token: &str, reference: &str, minutes: u32) -> Rendered {
        // The configured origin, never the request's Host (SECURITY.md R8); the token in the
        // fragment, so it reaches no server log or Referer header (R2).
        let url = format!("{}/reset#t={token}", self.lh.public_url);
        let args = [
            ("reference", s(reference)),
            ("expiry", s(&self.expiry(minutes))),
        ];
        email(
            self.t("reset-link-subject", &args),
            vec![
                Para::Text(self.t("reset-link-intro", &[])),
                Para::Text(self.t("reset-link-open", &[])),
                Para::Link {
                    url,
                    label: self.t("reset-link-button", &[]),
                },
                Para::Text(self.t("reset-link-reference", &args)),
                Para::Text(self.t("reset-link-not-you", &[])),
            ],
        )
    }

    fn username(&self, via: NoticeChannel, username: &str) -> Rendered {
        match via {
            NoticeChannel::Sms => Rendered::Sms {
                text: self.t_sms("username-sms", &[("username", s(username))]),
            },
            NoticeChannel::Voice => {
                let spelled = self.spell_username(username);
                Rendered::Voice(Script {
                    lang: self.lang(),
                    intro: self.t("username-voice-intro", &[]),
                    code: self.t("username-voice", &[("spelled", s(&spelled))]),
                    again: self.t("username-voice-again", &[("spelled", s(&spelled))]),
                    outro: self.t("username-voice-outro", &[]),
                    repeat: self.t("username-voice-repeat", &[]),
                    goodbye: self.t("voice-goodbye", &[]),
                })
            }
            NoticeChannel::Email => email(
                self.t("username-subject", &[]),
                vec![
                    Para::Text(self.t("username-intro", &[])),
                    Para::Shown(username.to_owned()),
                    Para::Text(self.t("sign-in-at", &[])),
                    Para::Text(self.t("username-not-you", &[])),
                ],
            ),
        }
    }

    fn credentials(&self, username: &str, letter: LetterHolds, report: Option<&str>) -> Rendered {
        let what = match letter {
            LetterHolds::ActivationCode => self.t("credentials-letter-activation", &[]),
            LetterHolds::TemporaryPassword => self.t("credentials-letter-password", &[]),
        };
        let mut paras = vec![
            Para::Text(self.t("credentials-intro", &[])),
            Para::Shown(username.to_owned()),
            Para::Text(what),
            Para::Text(self.t("sign-in-at", &[])),
            Para::Text(self.t("credentials-not-you", &[])),
        ];
        paras.extend(self.not_me_paras(report));
        let address = self.lh.address.trim();
        if !address.is_empty() {
            paras.push(Para::Text(address.to_owned()));
        }
        email(self.t("credentials-subject", &[]), paras)
    }

    fn contact_code(&self, via: Channel, code: &str, reference: &str, minutes: u32) -> Rendered {
        self.code(&CONTACT_CODE, via, code, reference, minutes)
    }

    fn contact_changed(
        &self,
        via: NoticeChannel,
        kind: ContactKind,
        masked_new_value: Option<&str>,
        report: Option<&str>,
    ) -> Rendered {
        let new_value = match masked_new_value {
            Some(v) => v.to_owned(),
            None => self.t("contact-none", &[]),
        };
        let kind = match kind {
            ContactKind::Email => "email",
            ContactKind::Mobile => "mobile",
            ContactKind::Landline => "landline",
        };
        let args = [("kind", s(kind)), ("new-value", s(&new_value))];
        match via {
            NoticeChannel::Sms => self.notice_sms(id("contact-changed-sms"), &args[..1], report),
            NoticeChannel::Voice => self.voice_notice(self.t("contact-changed-voice", &args)),
            NoticeChannel::Email => email(
                self.t("contact-changed-subject", &args),
                [
                    Para::Text(self.t("contact-changed-intro", &args)),
                    Para::Text(self.t("nothing-to-do", &[])),
                    Para::Text(self.t("contact-changed-not-you", &[])),
                ]
                .into_iter()
                .chain(self.not_me_paras(report))
                .collect(),
            ),
        }
    }

    fn username_changed(
        &self,
        via: NoticeChannel,
        username: &str,
        report: Option<&str>,
    ) -> Rendered {
        match via {
            NoticeChannel::Sms => self.notice_sms(
                id("username-changed-sms"),
                &[("username", s(username))],
                report,
            ),
            NoticeChannel::Voice => self.voice_notice(self.t("username-changed-voice", &[])),
            NoticeChannel::Email => email(
                self.t("username-changed-subject", &[]),
                [
                    Para::Text(self.t("username-changed-intro", &[])),
                    Para::Shown(username.to_owned()),
                    Para::Text(self.t("username-changed-not-you", &[])),
                ]
                .into_iter()
                .chain(self.not_me_paras(report))
                .collect(),
            ),
        }
    }

    fn password_changed(
        &self,
        via: NoticeChannel,
        how: PasswordChange,
        report: Option<&str>,
    ) -> Rendered {
        let how = match how {
            PasswordChange::ByOwner => "owner",
            PasswordChange::Reset => "reset",
            PasswordChange::ResetByClinic => "clinic",
        };
        let args = [("how", s(how))];
        match via {
            NoticeChannel::Sms => self.notice_sms(id("password-changed-sms"), &args, report),
            NoticeChannel::Voice => self.voice_notice(self.t("password-changed-voice", &args)),
            NoticeChannel::Email => email(
                self.t("password-changed-subject", &[]),
                [
                    Para::Text(self.t("password-changed-intro", &args)),
                    Para::Text(self.t("nothing-to-do", &[])),
                    Para::Text(self.t("password-changed-not-you", &[])),
                ]
                .into_iter()
                .chain(self.not_me_paras(report))
                .collect(),
            ),
        }
    }
}

impl Words<'_> {
    fn two_step_changed(
        &self,
        via: NoticeChannel,
        what: TwoStepChange,
        report: Option<&str>,
    ) -> Rendered {
        let (word, left) = match what {
            TwoStepChange::AppAdded => ("app_added", 0),
            TwoStepChange::AppRemoved => ("app_removed", 0),
            TwoStepChange::PasskeyAdded => ("passkey_added", 0),
            TwoStepChange::PasskeyRemoved => ("passkey_removed", 0),
            TwoStepChange::BackupCodeUsed { left } => ("code_used", left),
            TwoStepChange::BackupCodesRenewed => ("codes_renewed", 0),
            TwoStepChange::ResetByClinic => ("clinic_reset", 0),
            TwoStepChange::DeviceRemembered => ("device_remembered", 0),
            TwoStepChange::SentCodeAdded => ("sent_code_added", 0),
            TwoStepChange::SentCodeRemoved => ("sent_code_removed", 0),
        };
        let args = [("what", s(word)), ("left", Arg::Num(i64::from(left)))];
        match via {
            NoticeChannel::Sms => self.notice_sms(id("two-step-changed-sms"), &args, report),
            NoticeChannel::Voice => self.voice_notice(self.t("two-step-changed-voice", &args)),
            NoticeChannel::Email => email(
                self.t("two-step-changed-subject", &args),
                [
                    Para::Text(self.t("two-step-changed-intro", &args)),
                    Para::Text(self.t("nothing-to-do", &[])),
                    Para::Text(self.t("password-changed-not-you", &[])),
                ]
                .into_iter()
                .chain(self.not_me_paras(report))
                .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> Renderer {
        Renderer::new(Letterhead {
            clinic_name: "Hillside Family Clinic".into(),
            clinic_phone: "(503) 555-0100".into(),
            public_url: "https://portal.hillside.example".into(),
            address: "12 Main St".into(),
            language_help: vec![],
            sms_name: "Hillside Family Clinic".into(),
        })
    }

    fn en(message: Outbound) -> Queued {
        Queued {
            lang: Lang::En,
            message,
            report: None,
        }
    }

    fn reset_code(via: Channel) -> Queued {
        en(Outbound::ResetCode {
            via,
            code: "01234567".into(),
            reference: "K7QM".into(),
            expires_in_minutes: 10,
        })
    }

    #[test]
    fn every_text_is_one_segment_with_the_longest_sms_name_allowed() {
        let longest = "Hillside Family Medicine & Wellness Ctr.";
        assert_eq!(longest.chars().count(), crate::sms::MAX_SMS_NAME);
        let r = Renderer::new(Letterhead {
            clinic_name: "Clínica de Medicina Familiar de las Colinas del Este".into(),
            sms_name: longest.into(),
            clinic_phone: "(503) 555-0100".into(),
            public_url: "https://portal.hillside.example".into(),
            address: String::new(),
            language_help: vec![],
        });
        assert_eq!(r.texts_over_one_segment(), Vec::<String>::new());
        // The check does catch a text that would split: a name texts cannot carry.
        let r = Renderer::new(Letterhead {
            sms_name: "Clínica de Medicina Familiar".into(),
            ..r.letterhead.clone()
        });
        assert!(!r.texts_over_one_segment().is_empty());
    }

    #[test]
    fn a_notice_text_keeps_its_link_and_drops_the_number_only_when_both_do_not_fit() {
        let notice = |sms_name: &str, lang| {
            let r = Renderer::new(Letterhead {
                sms_name: sms_name.into(),
                ..renderer().letterhead.clone()
            });
            match r.render(&Queued {
                lang,
                message: Outbound::PasswordChanged {
                    via: NoticeChannel::Sms,
                    how: PasswordChange::ResetByClinic,
                },
                report: Some("A".repeat(22)),
            }) {
                Rendered::Sms { text } => text,
                other => panic!("not a text: {other:?}"),
            }
        };
        for lang in Lang::ALL {
            let short = notice("Hillside", lang);
            assert!(
                short.contains(&format!("/not-me#{}", "A".repeat(22))),
                "{short}"
            );
            assert!(short.contains("555-0100"), "{short}");
            let long = notice("Hillside Family Medicine & Wellness Ctr.", lang);
            assert!(long.contains("/not-me#"), "{long}");
            assert!(crate::sms::fits_one_segment(&long), "{long}");
        }
        // A notice queued without a link (before links existed) says whom to call.
        let r = renderer().render(&en(Outbound::PasswordChanged {
            via: NoticeChannel::Sms,
            how: PasswordChange::ByOwner,
        }));
        let Rendered::Sms { text } = r else { panic!() };
        assert!(
            text.ends_with("If not you, call Hillside Family Clinic at (503) 555-0100."),
            "{text}"
        );
    }

    #[test]
    fn a_spanish_call_is_read_by_the_spanish_voice() {
        let q = Queued {
            lang: Lang::Es,
            ..reset_code(Channel::Voice)
        };
        let r = renderer().render(&q);
        let Rendered::Voice(script) = &r else {
            panic!("not a call")
        };
        assert_eq!(script.lang, Lang::Es);
        let xml = super::super::twilio::call_twiml(&r, "https://p.example/r").unwrap_or_default();
        assert_eq!(xml.matches(r#"<Say language="es-US">"#).count(), 5, "{xml}");
        assert!(!xml.contains("en-US"), "{xml}");
    }

    #[test]
    fn a_call_spells_a_username_with_its_symbols_as_words_twice() {
        let r = renderer().render(&en(Outbound::Username {
            via: NoticeChannel::Voice,
            username: "Maria.L-2_x".into(),
        }));
        let script = r.voice_script().unwrap_or_default();
        let spelled = "m, a, r, i, a, dot, l, dash, 2, underscore, x";
        assert_eq!(script.matches(spelled).count(), 2, "{script}");
        let Rendered::Voice(s) = r else {
            panic!("not a call")
        };
        assert_eq!(s.repeat, "To hear your username again, press 1.");
    }

    #[test]
    fn a_notice_by_call_names_no_new_username_or_contact() {
        for m in [
            Outbound::UsernameChanged {
                via: NoticeChannel::Voice,
                username: "secret.name".into(),
            },
            Outbound::ContactChanged {
                via: NoticeChannel::Voice,
                kind: ContactKind::Email,
                masked_new_value: Some("n•••@example.org".into()),
            },
        ] {
            let script = renderer().render(&en(m)).voice_script().unwrap_or_default();
            assert!(
                !script.contains("secret") && !script.contains("example.org"),
                "{script}"
            );
            assert!(script.contains("(503) 555-0100"), "{script}");
        }
    }

    #[test]
    fn sms_names_purpose_expiry_reference_and_ends_with_web_otp_line() {
        let Rendered::Sms { text } = renderer().render(&reset_code(Channel::Sms)) else {
            panic!("not an sms")
        };
        assert!(text.contains("password reset code is 01234567"));
        assert!(text.contains("reference K7QM"));
        assert!(text.contains("expires in 10 minutes"));
        assert!(
            text.ends_with("\n\n@portal.hillside.example #01234567"),
            "{text}"
        );
    }

    #[test]
    fn email_code_has_the_reference_in_the_subject_and_escaped_html() {
        let mut r = renderer();
        r.letterhead.clinic_name = "Smith & <Sons>".into();
        let Rendered::Email {
            subject,
            text,
            html,
        } = r.render(&reset_code(Channel::Email))
        else {
            panic!("not an email")
        };
        assert!(subject.contains("K7QM"));
        assert!(text.contains("01234567") && text.contains("did not ask"));
        assert!(html.contains("Smith &amp; &lt;Sons&gt;"));
        assert!(!html.contains("<Sons>"));
    }

    #[test]
    fn link_puts_the_token_in_the_fragment_of_the_configured_origin() {
        let Rendered::Email { text, html, .. } = renderer().render(&en(Outbound::ResetLink {
            token: "tok_123".into(),
            reference: "K7QM".into(),
            expires_in_minutes: 60,
        })) else {
            panic!("not an email")
        };
        assert!(text.contains("https://portal.hillside.example/reset#t=tok_123"));
        assert!(html.contains("href=\"https://portal.hillside.example/reset#t=tok_123\""));
        assert!(text.contains("expires in 1 hour"));
    }

    #[test]
    fn voice_spells_the_code_twice_and_the_reference() {
        let script = renderer()
            .render(&reset_code(Channel::Voice))
            .voice_script()
            .unwrap();
        assert_eq!(script.matches("1, 2, 3, 4, 5, 6, 7").count(), 2, "{script}");
        assert!(script.contains("expires in 10 minutes"));
        assert!(script.contains("reference is K, 7, Q, M"), "R10: {script}");
    }

    /// The credentials email cannot carry the password or the activation code: the message
    /// has no field for either, only the username and which one the letter holds.
    #[test]
    fn the_credentials_email_names_the_username_and_nothing_secret() {
        for letter in [LetterHolds::TemporaryPassword, LetterHolds::ActivationCode] {
            let q = en(Outbound::CredentialsSetUp {
                username: "maria".into(),
                letter,
            });
            let json: serde_json::Value = serde_json::to_value(&q.message).unwrap();
            let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["letter", "type", "username"]);
            let Rendered::Email { text, .. } = renderer().render(&q) else {
                panic!("not an email")
            };
            assert!(text.contains("\n\nmaria\n\n"), "{text}");
            assert!(
                text.ends_with("12 Main St"),
                "the letterhead's address: {text}"
            );
        }
    }
}

/// The rendered English and Spanish of every kind and channel, against `snapshots/en.txt` and
/// `snapshots/es.txt`: a change of wording shows up as a diff a reviewer (or the translator)
/// reads. `CAREKEY_UPDATE_SNAPSHOTS=1` rewrites the files.
#[cfg(test)]
mod snapshot {
    use super::super::twilio::{call_twiml, hangup_twiml};
    use super::*;

    const EN: &str = include_str!("snapshots/en.txt");
    const ES: &str = include_str!("snapshots/es.txt");

    fn hillside() -> Letterhead {
        Letterhead {
            clinic_name: "Hillside Family Clinic".into(),
            clinic_phone: "(503) 555-0100".into(),
            public_url: "https://portal.hillside.example".into(),
            address: "12 Main St\nSalem, OR 97301".into(),
            language_help: vec![],
            sms_name: "Hillside Family Clinic".into(),
        }
    }

    /// A name that needs escaping, no phone, a blank address.
    fn smith() -> Letterhead {
        Letterhead {
            clinic_name: "Smith & <Sons>".into(),
            clinic_phone: String::new(),
            public_url: "http://127.0.0.1:3000".into(),
            address: "  ".into(),
            language_help: vec![],
            sms_name: "Smith & <Sons>".into(),
        }
    }

    fn cases() -> Vec<(String, Letterhead, Outbound)> {
        let code = |via, minutes| Outbound::ResetCode {
            via,
            code: "01234567".into(),
            reference: "K7QM".into(),
            expires_in_minutes: minutes,
        };
        let contact_code = |via| Outbound::ContactCode {
            via,
            code: "98765432".into(),
            reference: "Z2XW".into(),
            expires_in_minutes: 10,
        };
        let sign_in_code = |via| Outbound::SignInCode {
            via,
            code: "24681357".into(),
            reference: "M4PK".into(),
            expires_in_minutes: 5,
        };
        let link = |minutes| Outbound::ResetLink {
            token: "tok_123-abc".into(),
            reference: "K7QM".into(),
            expires_in_minutes: minutes,
        };
        let fixed = [
            ("reset code by email", hillside(), code(Channel::Email, 10)),
            ("reset code by text", hillside(), code(Channel::Sms, 10)),
            (
                "reset code by text, 1 minute",
                hillside(),
                code(Channel::Sms, 1),
            ),
            ("reset code by call", hillside(), code(Channel::Voice, 10)),
            (
                "reset code by email, no phone",
                smith(),
                code(Channel::Email, 15),
            ),
            (
                "sign-in code by text",
                hillside(),
                sign_in_code(Channel::Sms),
            ),
            (
                "sign-in code by call",
                hillside(),
                sign_in_code(Channel::Voice),
            ),
            (
                "sign-in code by email",
                hillside(),
                sign_in_code(Channel::Email),
            ),
            ("reset link", hillside(), link(60)),
            ("reset link, 2 hours, no phone", smith(), link(120)),
            ("reset link, 90 minutes", hillside(), link(90)),
            (
                "contact code by email",
                hillside(),
                contact_code(Channel::Email),
            ),
            (
                "contact code by text",
                hillside(),
                contact_code(Channel::Sms),
            ),
            (
                "contact code by call",
                hillside(),
                contact_code(Channel::Voice),
            ),
        ];
        let mut out: Vec<(String, Letterhead, Outbound)> = fixed
            .into_iter()
            .map(|(name, lh, m)| (name.to_owned(), lh, m))
            .collect();
        for (via, name) in [
            (NoticeChannel::Email, "email"),
            (NoticeChannel::Sms, "text"),
            (NoticeChannel::Voice, "call"),
        ] {
            let username = Outbound::Username {
                via,
                username: "maria".into(),
            };
            out.push((format!("username by {name}"), hillside(), username));
            let changed = Outbound::UsernameChanged {
                via,
                username: "Maria.L".into(),
            };
            out.push((format!("username changed, by {name}"), hillside(), changed));
            for how in [
                PasswordChange::ByOwner,
                PasswordChange::Reset,
                PasswordChange::ResetByClinic,
            ] {
                out.push((
                    format!("password {how:?}, by {name}"),
                    hillside(),
                    Outbound::PasswordChanged { via, how },
                ));
            }
            for what in [
                TwoStepChange::AppAdded,
                TwoStepChange::AppRemoved,
                TwoStepChange::PasskeyAdded,
                TwoStepChange::PasskeyRemoved,
                TwoStepChange::BackupCodeUsed { left: 0 },
                TwoStepChange::BackupCodeUsed { left: 1 },
                TwoStepChange::BackupCodeUsed { left: 9 },
                TwoStepChange::BackupCodesRenewed,
                TwoStepChange::ResetByClinic,
                TwoStepChange::DeviceRemembered,
                TwoStepChange::SentCodeAdded,
                TwoStepChange::SentCodeRemoved,
            ] {
                out.push((
                    format!("two-step {what:?}, by {name}"),
                    hillside(),
                    Outbound::TwoStepChanged { via, what },
                ));
            }
            for (kind, new) in [
                (ContactKind::Email, Some("m•••@example.org")),
                (ContactKind::Mobile, Some("(•••) •••-0199")),
                (ContactKind::Landline, None),
            ] {
                out.push((
                    format!("contact {kind:?} changed, by {name}"),
                    hillside(),
                    Outbound::ContactChanged {
                        via,
                        kind,
                        masked_new_value: new.map(str::to_owned),
                    },
                ));
            }
        }
        for (letter, lh) in [
            (LetterHolds::TemporaryPassword, hillside()),
            (LetterHolds::ActivationCode, hillside()),
            (LetterHolds::TemporaryPassword, smith()),
        ] {
            let name = format!("credentials, {letter:?}, {}", lh.clinic_name);
            out.push((
                name,
                lh,
                Outbound::CredentialsSetUp {
                    username: "maria".into(),
                    letter,
                },
            ));
        }
        out
    }

    fn document(lang: Lang) -> String {
        let language = match lang {
            Lang::En => "English",
            Lang::Es => "Spanish",
        };
        let mut doc = format!(
            "# The rendered {language} of every message (delivery/render.rs, snapshot test).\n",
        );
        for (name, lh, message) in cases() {
            let r = Renderer::new(lh);
            // Every notice as it is queued now, with its "this wasn't me" link (a call cannot
            // carry one and says who to call instead); codes ignore it.
            let rendered = r.render(&Queued {
                lang,
                message,
                report: Some("Rk9PQkFSQkFaUVVYMTIzNA".into()),
            });
            doc.push_str(&format!("\n=== {name}\n"));
            match &rendered {
                Rendered::Email {
                    subject,
                    text,
                    html,
                } => doc.push_str(&format!(
                    "Subject: {subject}\n--- text\n{text}\n--- html\n{html}\n"
                )),
                Rendered::Sms { text } => doc.push_str(&format!("--- text\n{text}\n")),
                Rendered::Voice(_) => {
                    let script = rendered.voice_script().unwrap_or_default();
                    let twiml = call_twiml(&rendered, "https://p.example/twilio/voice/9?t=ab&r=1")
                        .unwrap_or_default();
                    doc.push_str(&format!("--- script\n{script}\n--- twiml\n{twiml}\n"));
                }
            }
        }
        let goodbye = Renderer::new(hillside()).goodbye(lang);
        doc.push_str(&format!(
            "\n=== hang up\n{}\n",
            hangup_twiml(&goodbye, lang)
        ));
        doc
    }

    fn check(lang: Lang, snapshot: &str, file: &str) {
        let doc = document(lang);
        if std::env::var_os("CAREKEY_UPDATE_SNAPSHOTS").is_some() {
            let path = format!(
                "{}/src/delivery/snapshots/{file}",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::write(path, &doc).unwrap();
            return;
        }
        for (i, (want, got)) in snapshot.lines().zip(doc.lines()).enumerate() {
            assert_eq!(want, got, "snapshots/{file} line {}", i + 1);
        }
        assert_eq!(snapshot, doc, "snapshots/{file}: lines added or missing");
    }

    #[test]
    fn rendered_english_matches_the_snapshot() {
        check(Lang::En, EN, "en.txt");
    }

    /// Beside the catalogue checks (same ids and variables), this is where the Spanish of every
    /// email, text and call is read whole, by a reviewer and by the translator.
    #[test]
    fn rendered_spanish_matches_the_snapshot() {
        check(Lang::Es, ES, "es.txt");
    }
}
