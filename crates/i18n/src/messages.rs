//! The server's emails, texts and call scripts, one catalogue per language
//! (`locales/<lang>-messages.ftl`). The server renders from these when it sends a message, so
//! what a patient reads is decided by their language at that moment, never stored as text.
//!
//! Kept apart from the page catalogue (`en.ftl`) for two reasons: the browser bundles must not
//! carry the server's wording, and the server renders on many threads at once, so this bundle
//! is the thread-safe kind (`fluent_bundle::concurrent`).

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;

use crate::{Arg, Lang, fluent_args, parse};

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
pub struct MessageCatalogue {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for MessageCatalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MessageCatalogue({:?})", self.lang)
    }
}

impl MessageCatalogue {
    pub fn new(lang: Lang) -> Self {
        let mut bundle = FluentBundle::new_concurrent(vec![lang.id()]);
        // Isolation marks around arguments would land in emails, texts and the words a speech
        // engine reads out; our arguments are never mixed-direction text.
        bundle.set_use_isolating(false);
        bundle.add_resource_overriding(parse(source(lang)));
        Self { lang, bundle }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message for `id` with `args` filled in, or the id itself if missing, so a gap shows
    /// in the message (and in the tests) instead of an empty line.
    pub fn tr(&self, id: &str, args: &[(&str, Arg)]) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let args = fluent_args(args);
        let mut errors = vec![];
        self.bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned()
    }

    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn every_catalogue_parses_and_can_be_shared_between_threads() {
        for lang in Lang::ALL {
            assert!(FluentResource::try_new(source(lang).to_owned()).is_ok());
        }
        assert_send_sync::<MessageCatalogue>();
    }

    #[test]
    fn minutes_and_hours_follow_plural_rules() {
        let c = MessageCatalogue::new(Lang::En);
        let m = |n: f64| c.tr("expiry-minutes", &[("minutes", Arg::Num(n))]);
        assert_eq!(m(1.0), "1 minute");
        assert_eq!(m(10.0), "10 minutes");
        let h = |n: f64| c.tr("expiry-hours", &[("hours", Arg::Num(n))]);
        assert_eq!(h(1.0), "1 hour");
        assert_eq!(h(2.0), "2 hours");
    }

    #[test]
    fn spanish_minutes_and_hours_follow_spanish_plural_rules() {
        let c = MessageCatalogue::new(Lang::Es);
        let m = |n: f64| c.tr("expiry-minutes", &[("minutes", Arg::Num(n))]);
        assert_eq!(m(1.0), "1 minuto");
        assert_eq!(m(10.0), "10 minutos");
        let h = |n: f64| c.tr("expiry-hours", &[("hours", Arg::Num(n))]);
        assert_eq!(h(1.0), "1 hora");
        assert_eq!(h(2.0), "2 horas");
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
