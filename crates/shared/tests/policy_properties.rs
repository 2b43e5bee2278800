//! Property tests of the password policy (SECURITY.md P1–P6): it never panics on anything a
//! form can send, counts what it says it counts, and gives the browser the same verdict as
//! the server.

use std::sync::Arc;

use carekey_shared::common::{CommonPasswords, LIST};
use carekey_shared::policy::{MAX_BYTES, PasswordPolicy, PolicyContext, PolicyIssue, normalize};
use proptest::prelude::*;

fn list() -> Arc<CommonPasswords> {
    static L: std::sync::OnceLock<Arc<CommonPasswords>> = std::sync::OnceLock::new();
    L.get_or_init(|| Arc::new(CommonPasswords::parse(LIST)))
        .clone()
}

fn ctx(current: Option<String>) -> PolicyContext {
    PolicyContext {
        words: vec![
            "maria".into(),
            "maria.lopez@example.com".into(),
            "Hillside Family Clinic".into(),
        ],
        current,
        common: Some(list()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any input of up to 1 KiB (and a little beyond), any Unicode: a verdict, never a panic.
    #[test]
    fn never_panics(s in "\\PC{0,300}", current in proptest::option::of("\\PC{0,40}")) {
        let s: String = s.chars().take_while({
            let mut bytes = 0;
            move |c| { bytes += c.len_utf8(); bytes <= MAX_BYTES + 8 }
        }).collect();
        for require_mix in [false, true] {
            let p = PasswordPolicy { min_chars: 15, require_mix };
            let _ = p.check_with(&s, &ctx(current.clone()));
        }
    }

    /// P1/P2: "too short" exactly when the normalised password has fewer code points than the
    /// minimum, "too long" exactly when it has more than 256 (or over 1 KiB of bytes).
    #[test]
    fn length_rules_count_normalised_code_points(s in "\\PC{0,300}", min in 15usize..=64) {
        let p = PasswordPolicy { min_chars: min, require_mix: false };
        let issues = p.check(&s);
        if s.len() > MAX_BYTES {
            prop_assert_eq!(issues, vec![PolicyIssue::TooLong { max: 256 }]);
        } else {
            let n = normalize(&s).chars().count();
            prop_assert_eq!(issues.contains(&PolicyIssue::TooShort { min }), n < min);
            prop_assert_eq!(issues.contains(&PolicyIssue::TooLong { max: 256 }), n > 256);
        }
    }

    /// The context rules only add issues: a hint never disappears because more is known.
    #[test]
    fn context_only_adds_issues(s in "\\PC{0,80}") {
        let p = PasswordPolicy::default();
        let plain = p.check(&s);
        let with = p.check_with(&s, &ctx(Some("summer sun and sand 2024".into())));
        for i in plain {
            prop_assert!(with.contains(&i));
        }
    }

    /// P6: composed and decomposed spellings of the same text get the same verdict.
    #[test]
    fn nfc_and_nfd_get_the_same_verdict(words in proptest::collection::vec("[a-z]{2,8}", 2..6), accent in 0usize..4) {
        let base = words.join(" ");
        let (nfc, nfd) = match accent {
            0 => (format!("{base} caf\u{e9}"), format!("{base} cafe\u{301}")),
            1 => (format!("\u{c5}ngstr\u{f6}m {base}"), format!("A\u{30a}ngstro\u{308}m {base}")),
            2 => (format!("{base} ni\u{f1}o"), format!("{base} nin\u{303}o")),
            _ => (format!("{base} \u{fb01}ne"), format!("{base} fine")),
        };
        let p = PasswordPolicy::default();
        prop_assert_eq!(p.check_with(&nfc, &ctx(None)), p.check_with(&nfd, &ctx(None)));
    }
}

/// The browser normalises with the JavaScript engine's `String.prototype.normalize("NFKC")`,
/// the server with Rust's tables; everything else in the verdict is the same compiled code.
/// This runs random strings through Node (the same ICU-based NFKC as Chromium) and compares.
#[test]
fn browser_and_server_normalise_alike() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let node = std::process::Command::new("node").arg("--version").output();
    if node.is_err() {
        println!("skipped: node is not installed (scripts/setup.sh installs it)");
        return;
    }
    let mut runner = TestRunner::deterministic();
    let strategy = "\\PC{0,40}";
    let mut samples: Vec<String> = (0..3_000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    // Characters whose NFKC forms are known troublemakers.
    samples.extend(
        [
            "ﬁ",
            "①",
            "Ｈｅｌｌｏ",
            "ẛ̣",
            "\u{212b}",
            "ｶﾞ",
            "㍿",
            "x\u{301}\u{323}",
        ]
        .map(String::from),
    );
    let json = serde_json::to_string(&samples).unwrap();
    let dir = std::env::temp_dir().join(format!("carekey-nfkc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.json");
    std::fs::write(&input, json).unwrap();
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg("const fs=require('fs');const a=JSON.parse(fs.readFileSync(process.argv[1],'utf8'));process.stdout.write(JSON.stringify(a.map(s=>s.normalize('NFKC'))))")
        .arg(&input)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let js: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    let mut differ = vec![];
    for (s, j) in samples.iter().zip(&js) {
        if &normalize(s) != j {
            differ.push(s.escape_unicode().to_string());
        }
    }
    // Unicode versions can differ by a few new characters between ICU and the Rust crate;
    // anything more would mean the browser's hints disagree with the server.
    assert!(
        differ.len() <= 3,
        "{} of {} differ: {:?}",
        differ.len(),
        samples.len(),
        &differ[..differ.len().min(10)]
    );
}
