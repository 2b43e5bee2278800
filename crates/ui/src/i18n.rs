//! Access to the translation catalogue from components.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

pub use carekey_i18n::Arg;
use carekey_i18n::{Catalogue, EN_FTL, Lang};

thread_local! {
    // The browser runs the app on one thread. English until a patient app picks the page
    // language (`language::mount`); the staff console stays English.
    static PAGE_LANG: Cell<Lang> = const { Cell::new(Lang::En) };
    // Every catalogue parsed so far, each once: English (compiled in) when first needed, any
    // other when it is fetched (`language::load`), so switching back and forth parses nothing.
    static CATALOGUES: RefCell<HashMap<Lang, Catalogue>> = RefCell::new(HashMap::new());
}

/// Whether the pages can be drawn in `lang` now, without a fetch.
pub(crate) fn has_catalogue(lang: Lang) -> bool {
    lang == Lang::En || CATALOGUES.with(|c| c.borrow().contains_key(&lang))
}

/// Keeps a fetched page catalogue if it is one: a proxy's error page served with 200 must not
/// become the page's words.
pub(crate) fn add_catalogue(lang: Lang, source: &str) -> bool {
    let catalogue = Catalogue::from_source(lang, source);
    if !catalogue.has("language-switch-failed") {
        return false;
    }
    CATALOGUES.with(|c| c.borrow_mut().insert(lang, catalogue));
    true
}

/// The language the pages are in: sent with a recovery request, so its message is written in
/// it when the account has no language on file.
pub fn lang() -> Lang {
    PAGE_LANG.with(Cell::get)
}

/// Only `language` calls this: before the app mounts, and on a switch (which re-renders).
pub(crate) fn set_page_lang(lang: Lang) {
    PAGE_LANG.with(|l| l.set(lang));
}

fn with_catalogue<R>(f: impl FnOnce(&Catalogue) -> R) -> R {
    // A language not fetched (never by design: the switch fetches first) reads as English.
    let lang = Some(lang())
        .filter(|l| has_catalogue(*l))
        .unwrap_or(Lang::En);
    CATALOGUES.with(|cell| {
        let mut all = cell.borrow_mut();
        f(all
            .entry(lang)
            .or_insert_with(|| Catalogue::from_source(Lang::En, EN_FTL)))
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
pub fn t_num(id: &str, name: &str, n: i64) -> String {
    with_catalogue(|c| c.tr_args(id, &[(name, Arg::Num(n))]))
}

/// Words and numbers together. A count must travel as `Arg::Num`, never as text: only a
/// number lets the catalogue choose "1 minute" or "5 minutes" (or another language's forms).
pub fn t_with(id: &str, args: &[(&str, Arg)]) -> String {
    with_catalogue(|c| c.tr_args(id, args))
}
