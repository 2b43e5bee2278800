//! The one translation layer. Components never hold English: they ask for a message id, and the
//! catalogue for the patient's language answers. The server compiles every catalogue in
//! ([`Catalogue::new`]). The browser apps compile in English only and fetch another language's
//! page catalogue when a page starts or switches to it ([`Catalogue::from_source`]): Spanish
//! would otherwise weigh on every English reader's first page (issue 13, about 7 KB brotli).

mod ftl;

#[cfg(test)]
mod against_fluent;

// The page catalogues without their comment lines (build.rs): the browser downloads these.
pub const EN_FTL: &str = include_str!(concat!(env!("OUT_DIR"), "/en.ftl"));
/// US Spanish, "usted". Same ids and variables as `EN_FTL` (tests/catalogues.rs).
pub const ES_FTL: &str = include_str!(concat!(env!("OUT_DIR"), "/es.ftl"));
/// The staff console's own messages: compiled only into the staff bundle (and the tests), so
/// they add nothing to the patient's pages.
#[cfg(any(feature = "staff", test))]
pub const EN_STAFF_FTL: &str = include_str!(concat!(env!("OUT_DIR"), "/en-staff.ftl"));

/// The server's emails, texts and call scripts: compiled only into the server (feature
/// `messages`) and this crate's tests.
#[cfg(any(feature = "messages", test))]
pub mod messages;

/// A language CareKey speaks. The server stores it with every queued message (as `"en"` or
/// `"es"`), so a message is rendered in its recipient's language when it is sent, not when it
/// was queued. The browser sends it with a recovery request (the page's language), so it is a
/// wire type too.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Also the language of anything that names none (a call whose script is gone).
    #[default]
    En,
    /// US Spanish. The staff console stays English (its catalogue is `en-staff.ftl` in both).
    Es,
}

impl Lang {
    /// Every language with catalogues; the tests check each one has every message.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The language we have for a tag as browsers, cookies and files write it ("es", "es-MX",
    /// "en_US", "ES"): its primary subtag.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The language's own name for itself ("Español"), the same in every catalogue, so a
    /// person finds theirs whatever the page's language.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// The two-letter code: the `lang` attribute of a word in that language, and its wire form.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The BCP 47 tag: `<html lang>`, Twilio's `<Say language>` (its voices are `en-US` and
    /// `es-US`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en-US",
            Lang::Es => "es-US",
        }
    }

    /// Every catalogue in this crate. Only [`Catalogue::new`] calls it: a browser app that
    /// never calls that carries no catalogue it does not name (the linker drops the rest).
    fn source(self) -> &'static str {
        match self {
            Lang::En => EN_FTL,
            Lang::Es => ES_FTL,
        }
    }
}

/// One language's messages, read once. Plain data: the server shares one between threads.
#[derive(Debug)]
pub struct Catalogue {
    /// Sorted by id, each id once.
    messages: Vec<(String, Vec<ftl::Part>)>,
}

impl Catalogue {
    /// The language's page catalogue, compiled in. The server's way; the browser apps use
    /// [`Catalogue::from_source`] so that they carry only English.
    pub fn new(lang: Lang) -> Self {
        Self::from_source(lang, lang.source())
    }

    /// The page catalogue for `lang` from its `.ftl` text: [`EN_FTL`], or the file a browser
    /// app fetched (`/locales/<code>.ftl`).
    pub fn from_source(lang: Lang, source: &str) -> Self {
        #[cfg(any(feature = "staff", test))]
        {
            // The staff console is English only; a Spanish bundle still resolves its ids.
            let staff = match lang {
                Lang::En | Lang::Es => EN_STAFF_FTL,
            };
            Self::from_sources(&[source, staff])
        }
        #[cfg(not(any(feature = "staff", test)))]
        {
            // `source` is already the language's; `lang` only chooses the staff catalogue,
            // which this build does not carry.
            let _ = lang;
            Self::from_sources(&[source])
        }
    }

    /// Later sources' messages replace earlier ones with the same id.
    pub(crate) fn from_sources(sources: &[&str]) -> Self {
        let mut messages: Vec<(String, Vec<ftl::Part>)> =
            sources.iter().flat_map(|s| ftl::parse(s)).collect();
        // The stable sort keeps the written order within an id; reversed first, the last
        // written comes first and is the one `dedup` keeps.
        messages.reverse();
        messages.sort_by(|a, b| a.0.cmp(&b.0));
        messages.dedup_by(|a, b| a.0 == b.0);
        Self { messages }
    }

    fn get(&self, id: &str) -> Option<&[ftl::Part]> {
        let at = self
            .messages
            .binary_search_by(|(m, _)| m.as_str().cmp(id))
            .ok()?;
        self.messages.get(at).map(|(_, parts)| parts.as_slice())
    }

    /// The message for `id`, or the id itself if missing, so a gap is visible, never blank.
    pub fn tr(&self, id: &str) -> String {
        self.tr_args(id, &[])
    }

    /// Arguments are written as they are: no Unicode isolation marks around them (they
    /// confuse screen readers reading phone numbers, clutter copy-paste and land in texts and
    /// the words a speech engine reads out; our arguments are never mixed-direction text).
    pub fn tr_args(&self, id: &str, args: &[(&str, Arg)]) -> String {
        let Some(parts) = self.get(id) else {
            return id.to_owned();
        };
        let mut out = String::new();
        ftl::write(&mut out, parts, args);
        out
    }

    pub fn has(&self, id: &str) -> bool {
        self.get(id).is_some()
    }
}

/// A message argument. A count is a whole number: the plural rules choose by it, and nothing
/// we say counts in fractions.
#[derive(Debug, Clone)]
pub enum Arg {
    Str(String),
    Num(i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_catalogue_parses_cleanly() {
        use fluent_bundle::FluentResource;
        assert!(FluentResource::try_new(EN_STAFF_FTL.to_owned()).is_ok());
        for lang in Lang::ALL {
            assert!(
                FluentResource::try_new(lang.source().to_owned()).is_ok(),
                "{lang:?}"
            );
            assert!(
                FluentResource::try_new(messages::source(lang).to_owned()).is_ok(),
                "{lang:?}"
            );
        }
    }

    #[test]
    fn arguments_are_substituted() {
        for lang in Lang::ALL {
            let c = Catalogue::new(lang);
            let s = c.tr_args("home-greeting", &[("name", Arg::Str("Maria".into()))]);
            assert!(s.contains("Maria"), "{lang:?}: {s}");
        }
    }

    #[test]
    fn spanish_is_spanish_and_the_staff_console_stays_english() {
        let es = Catalogue::new(Lang::Es);
        assert_eq!(es.tr("sign-in-password"), "Contraseña");
        assert_eq!(
            es.tr("staff-sign-in-title"),
            Catalogue::new(Lang::En).tr("staff-sign-in-title")
        );
    }

    /// The apps carry the catalogues without comment lines (build.rs, and the build hook for a
    /// fetched one): every message must read exactly as in the file people edit.
    #[test]
    fn dropping_comments_changes_no_message() {
        for (lang, file) in [(Lang::En, "en.ftl"), (Lang::Es, "es.ftl")] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("locales")
                .join(file);
            let edited = std::fs::read_to_string(path).expect("catalogue file");
            assert!(
                edited.lines().any(|l| l.starts_with('#')),
                "{file} has comments"
            );
            assert!(!lang.source().lines().any(|l| l.starts_with('#')), "{file}");
            let from_file = Catalogue::from_source(lang, &edited);
            let carried = Catalogue::new(lang);
            let ids: Vec<&str> = edited
                .lines()
                .filter_map(|l| l.split_once(" =").map(|(id, _)| id))
                .filter(|id| !id.is_empty() && !id.starts_with([' ', '#', '-', '.']))
                .collect();
            assert!(ids.len() > 100, "{file}: {}", ids.len());
            for id in ids {
                let args = [
                    ("name", Arg::Str("Ana".into())),
                    ("count", Arg::Num(2)),
                    ("minutes", Arg::Num(5)),
                ];
                assert!(carried.has(id), "{file}: {id}");
                assert_eq!(
                    carried.tr_args(id, &args),
                    from_file.tr_args(id, &args),
                    "{id}"
                );
            }
        }
    }

    #[test]
    fn missing_id_shows_itself() {
        assert_eq!(Catalogue::new(Lang::En).tr("no-such-id"), "no-such-id");
    }

    /// Every `t("…")` / `t_args("…")` in the browser crates names a message that exists, so no
    /// page ever shows a raw id to a patient.
    #[test]
    fn every_id_used_by_the_ui_exists() {
        for lang in Lang::ALL {
            every_id_used_by_the_ui_exists_in(lang);
        }
    }

    fn every_id_used_by_the_ui_exists_in(lang: Lang) {
        let c = Catalogue::new(lang);
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = vec![];
        let mut seen = 0;
        for dir in [
            "ui/src",
            "client/src",
            "recovery/src",
            "landing/src",
            "portal/src",
            "staff/src",
        ] {
            for file in rs_files(&root.join(dir)) {
                let text = std::fs::read_to_string(&file).unwrap();
                for id in used_ids(&text) {
                    seen += 1;
                    if !c.has(&id) {
                        missing.push(format!("{}: {id}", file.display()));
                    }
                }
            }
        }
        assert!(
            seen > 20,
            "expected the UI to use the catalogue, found {seen} uses"
        );
        assert!(
            missing.is_empty(),
            "{lang:?}: missing messages: {missing:#?}"
        );
    }

    /// The same for the server's emails, texts and call scripts, in every language's
    /// catalogue (a Spanish file missing a message fails here, not in a patient's inbox); and
    /// the other way round, every message in a catalogue is one the server still sends.
    #[test]
    fn every_id_used_by_the_server_exists_in_every_language() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut used = std::collections::BTreeSet::new();
        for file in rs_files(&root.join("server/src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            used.extend(used_ids(&text));
        }
        assert!(
            used.len() > 40,
            "expected the server to render from the catalogue, found {} ids",
            used.len()
        );
        for lang in Lang::ALL {
            let c = messages::MessageCatalogue::new(lang);
            let missing: Vec<&String> = used.iter().filter(|id| !c.has(id)).collect();
            assert!(
                missing.is_empty(),
                "{lang:?}: missing messages: {missing:#?}"
            );
            let unused: Vec<&str> = defined_ids(messages::source(lang))
                .into_iter()
                .filter(|id| !used.contains(*id))
                .collect();
            assert!(
                unused.is_empty(),
                "{lang:?}: messages nothing sends: {unused:#?}"
            );
        }
    }

    /// The ids a catalogue defines (`id = …` at the start of a line).
    fn defined_ids(ftl: &str) -> Vec<&str> {
        ftl.lines()
            .filter_map(|l| l.split_once(" ="))
            .map(|(id, _)| id)
            .filter(|id| {
                id.starts_with(|c: char| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            .collect()
    }

    fn rs_files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = vec![];
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                out.extend(rs_files(&p));
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
        out
    }

    fn used_ids(text: &str) -> Vec<String> {
        let mut out = vec![];
        for pat in ["t(", "t_args(", "t_num(", "t_with(", "t_sms(", "id("] {
            let mut from = 0;
            while let Some(i) = text[from..].find(pat) {
                let at = from + i;
                from = at + pat.len();
                // Only the functions themselves, not `expect("…")` or `set_title("…")`.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                // rustfmt puts a long call's first argument on the next line.
                let Some(rest) = text[from..].trim_start().strip_prefix('"') else {
                    continue;
                };
                from = text.len() - rest.len();
                if let Some(end) = text[from..].find('"') {
                    let id = &text[from..from + end];
                    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        out.push(id.to_owned());
                    }
                }
            }
        }
        out
    }
}
