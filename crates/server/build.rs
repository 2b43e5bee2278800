//! A release build embeds `dist/` (`http::apps`): a rebuilt browser app must rebuild the
//! binary, or a clinic would deploy last week's pages. Debug builds read `dist/` at run time
//! and need no rebuild.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist");
    // Also while `dist/` is missing: cargo then re-runs this each time, so the first build
    // after the apps are built picks them up.
    if release {
        println!("cargo:rerun-if-changed={}", dist.display());
    }
}
