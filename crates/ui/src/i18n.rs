//! Access to the translation catalogue from components.

pub use carekey_i18n::Arg;
use carekey_i18n::{Catalogue, Lang};

/// The pages' language. One for now; the language switch (issue 13) makes it the person's
/// choice, and every request that leads to a message says which it is.
const PAGE_LANG: Lang = Lang::En;

thread_local! {
    // The browser runs the app on one thread; the catalogue is parsed once at start-up.
    static CATALOGUE: Catalogue = Catalogue::new(PAGE_LANG);
}

/// The language the pages are in: sent with a recovery request, so its message is written in
/// it when the account has no language on file.
pub fn lang() -> Lang {
    PAGE_LANG
}

/// The text for a message id in the person's language.
pub fn t(id: &str) -> String {
    CATALOGUE.with(|c| c.tr(id))
}

/// The text for a message id with named arguments filled in.
pub fn t_args(id: &str, args: &[(&str, String)]) -> String {
    let args: Vec<(&str, Arg)> = args
        .iter()
        .map(|(k, v)| (*k, Arg::Str(v.clone())))
        .collect();
    CATALOGUE.with(|c| c.tr_args(id, &args))
}

/// Numeric argument (plural rules apply).
pub fn t_num(id: &str, name: &str, n: f64) -> String {
    CATALOGUE.with(|c| c.tr_args(id, &[(name, Arg::Num(n))]))
}

/// Words and numbers together. A count must travel as `Arg::Num`, never as text: only a
/// number lets the catalogue choose "1 minute" or "5 minutes" (or another language's forms).
pub fn t_with(id: &str, args: &[(&str, Arg)]) -> String {
    CATALOGUE.with(|c| c.tr_args(id, args))
}
