//! Access to the translation catalogue from components.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

pub use carekey_i18n::Arg;
use carekey_i18n::{Catalogue, EN_FTL, Lang};

thread_local! {
    // The browser runs the app on one thread. English until a patient app picks the page
    // language (`language::provide_page_language`); the staff console stays English.
    static PAGE_LANG: Cell<Lang> = const { Cell::new(Lang::En) };
    // The catalogue in use, parsed when first needed and again only after a switch.
    static CATALOGUE: RefCell<Option<(Lang, Catalogue)>> = const { RefCell::new(None) };
    // Page catalogues fetched from the server (`language::load`). English is compiled in, so
    // an English reader's first page carries no other language.
    static FETCHED: RefCell<HashMap<Lang, String>> = RefCell::new(HashMap::new());
}

/// Whether the pages can be drawn in `lang` now, without a fetch.
pub(crate) fn has_catalogue(lang: Lang) -> bool {
    lang == Lang::En || FETCHED.with(|f| f.borrow().contains_key(&lang))
}

/// Keeps a fetched page catalogue if it is one: a proxy's error page served with 200 must not
/// become the page's words.
pub(crate) fn add_catalogue(lang: Lang, source: String) -> bool {
    if !Catalogue::from_source(lang, &source).has("language-switch-failed") {
        return false;
    }
    FETCHED.with(|f| f.borrow_mut().insert(lang, source));
    true
}

fn build(lang: Lang) -> Catalogue {
    FETCHED.with(|f| match f.borrow().get(&lang) {
        Some(source) => Catalogue::from_source(lang, source),
        // English, and (never by design: the switch fetches first) a language not fetched.
        None => Catalogue::from_source(Lang::En, EN_FTL),
    })
}

/// The language the pages are in: sent with a recovery request, so its message is written in
/// it when the account has no language on file.
pub fn lang() -> Lang {
    PAGE_LANG.with(Cell::get)
}

/// Only the language switch calls this; it re-renders the pages after.
pub(crate) fn set_page_lang(lang: Lang) {
    PAGE_LANG.with(|l| l.set(lang));
}

fn with_catalogue<R>(f: impl FnOnce(&Catalogue) -> R) -> R {
    let lang = lang();
    CATALOGUE.with(|cell| {
        let mut slot = cell.borrow_mut();
        match slot.as_ref() {
            Some((l, c)) if *l == lang => f(c),
            _ => {
                let c = build(lang);
                let out = f(&c);
                *slot = Some((lang, c));
                out
            }
        }
    })
}

/// The text for a message id in the person's language.
pub fn t(id: &str) -> String {
    with_catalogue(|c| c.tr(id))
}

/// The text for a message id with named arguments filled in.
pub fn t_args(id: &str, args: &[(&str, String)]) -> String {
    let args: Vec<(&str, Arg)> = args
        .iter()
        .map(|(k, v)| (*k, Arg::Str(v.clone())))
        .collect();
    with_catalogue(|c| c.tr_args(id, &args))
}

/// Numeric argument (plural rules apply).
pub fn t_num(id: &str, name: &str, n: f64) -> String {
    with_catalogue(|c| c.tr_args(id, &[(name, Arg::Num(n))]))
}

/// Words and numbers together. A count must travel as `Arg::Num`, never as text: only a
/// number lets the catalogue choose "1 minute" or "5 minutes" (or another language's forms).
pub fn t_with(id: &str, args: &[(&str, Arg)]) -> String {
    with_catalogue(|c| c.tr_args(id, args))
}
