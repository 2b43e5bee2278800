//! The page catalogues as the apps carry them: without the translators' comment lines. The
//! browser apps compile the English catalogue in, so each comment byte would be downloaded by
//! every visitor (issue 13's first-page budget); the comments stay in `locales/` for people.

use std::path::Path;

/// The catalogues compiled into a browser bundle. The server's message catalogues
/// (`*-messages.ftl`) are read only by the server and keep their comments.
const PAGE_CATALOGUES: [&str; 3] = ["en.ftl", "es.ftl", "en-staff.ftl"];

fn main() {
    let out = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from);
    let Some(out) = out else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    for name in PAGE_CATALOGUES {
        let source = Path::new("locales").join(name);
        println!("cargo:rerun-if-changed={}", source.display());
        let text = match std::fs::read_to_string(&source) {
            Ok(t) => t,
            Err(e) => panic!("{}: {e}", source.display()),
        };
        if let Err(e) = std::fs::write(out.join(name), strip_comments(&text)) {
            panic!("{}: {e}", out.join(name).display());
        }
    }
}

/// In Fluent a line that starts with `#` is always a comment (a message's continuation lines
/// are indented), so dropping those lines changes no message.
fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(|line| [line, "\n"])
        .collect()
}
