//! The server's emails, texts and call scripts, one catalogue per language
//! (`locales/<lang>-messages.ftl`). The server renders from these when it sends a message, so
//! what a patient reads is decided by their language at that moment, never stored as text.
//!
//! Kept apart from the page catalogue (`en.ftl`): the browser bundles must not carry the
//! server's wording.

use crate::{Arg, Catalogue, Lang};

/// The catalogue for `lang`. Adding a language is adding `locales/<lang>-messages.ftl` and its
/// arm here; the compiler asks for the arm as soon as the `Lang` exists, and this crate's tests
/// check that the new file has every message the server uses, with the same variables.
pub fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../locales/en-messages.ftl"),
        Lang::Es => include_str!("../locales/es-messages.ftl"),
    }
}

/// One language's messages, parsed once and shared by every thread that renders.
#[derive(Debug)]
pub struct MessageCatalogue {
    lang: Lang,
    catalogue: Catalogue,
}

impl MessageCatalogue {
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            catalogue: Catalogue::from_sources(&[source(lang)]),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message for `id` with `args` filled in, or the id itself if missing, so a gap shows
    /// in the message (and in the tests) instead of an empty line.
    pub fn tr(&self, id: &str, args: &[(&str, Arg)]) -> String {
        self.catalogue.tr_args(id, args)
    }

    pub fn has(&self, id: &str) -> bool {
        self.catalogue.has(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn every_catalogue_parses_and_can_be_shared_between_threads() {
        for lang in Lang::ALL {
            assert!(fluent_bundle::FluentResource::try_new(source(lang).to_owned()).is_ok());
        }
        assert_send_sync::<MessageCatalogue>();
    }

    #[test]
    fn minutes_and_hours_follow_plural_rules() {
        let c = MessageCatalogue::new(Lang::En);
        let m = |n: i64| c.tr("expiry-minutes", &[("minutes", Arg::Num(n))]);
        assert_eq!(m(1), "1 minute");
        assert_eq!(m(10), "10 minutes");
        let h = |n: i64| c.tr("expiry-hours", &[("hours", Arg::Num(n))]);
        assert_eq!(h(1), "1 hour");
        assert_eq!(h(2), "2 hours");
    }

    #[test]
    fn spanish_minutes_and_hours_follow_spanish_plural_rules() {
        let c = MessageCatalogue::new(Lang::Es);
        let m = |n: i64| c.tr("expiry-minutes", &[("minutes", Arg::Num(n))]);
        assert_eq!(m(1), "1 minuto");
        assert_eq!(m(10), "10 minutos");
        let h = |n: i64| c.tr("expiry-hours", &[("hours", Arg::Num(n))]);
        assert_eq!(h(1), "1 hora");
        assert_eq!(h(2), "2 horas");
        let s = c.tr(
            "call-us",
            &[
                ("clinic", Arg::Str("Hillside".into())),
                ("phone", Arg::Str("(503) 555-0100".into())),
            ],
        );
        assert_eq!(s, "llame a Hillside al (503) 555-0100");
    }

    #[test]
    fn arguments_are_inserted_without_isolation_marks() {
        let c = MessageCatalogue::new(Lang::En);
        let s = c.tr(
            "call-us",
            &[
                ("clinic", Arg::Str("Hillside".into())),
                ("phone", Arg::Str("(503) 555-0100".into())),
            ],
        );
        assert_eq!(s, "call Hillside at (503) 555-0100");
    }
}
