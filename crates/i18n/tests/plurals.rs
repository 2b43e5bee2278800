//! "It expires in 1 minutes": every count in the patients' catalogue goes through a plural
//! selector, so English says "1 minute" and a later Spanish file can say "1 minuto".
//!
//! Counts are recognised by their variable's name (`NUMERIC`): the convention for anyone adding
//! a message is to name a count after what it counts, and to pass it as a number (`t_num`,
//! `t_with` with `Arg::Num`), never as text.

use carekey_i18n::{Arg, Catalogue, EN_FTL, Lang};

const NUMERIC: &[&str] = &[
    "minutes", "seconds", "hours", "days", "count", "min", "max", "left",
];

/// `(id, body)` for every message: its first line and the indented lines under it.
fn messages(ftl: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = vec![];
    for line in ftl.lines() {
        if line.starts_with(|c: char| c.is_ascii_lowercase())
            && let Some((id, rest)) = line.split_once(" =")
        {
            out.push((id.trim(), rest.to_owned()));
            continue;
        }
        let continues = line.starts_with(' ') || line.starts_with('}');
        if let Some((_, body)) = out.last_mut().filter(|_| continues) {
            body.push('\n');
            body.push_str(line);
        }
    }
    out
}

/// The variables a message uses, each once.
fn variables(body: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for part in body.split('$').skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[test]
fn the_catalogue_is_read_as_expected() {
    let all = messages(EN_FTL);
    assert!(all.len() > 100, "found {} messages", all.len());
    let idle = all.iter().find(|(id, _)| *id == "idle-body").unwrap();
    assert!(idle.1.contains("{ $minutes ->"), "{}", idle.1);
    assert_eq!(variables(&idle.1), ["minutes"]);
}

#[test]
fn every_count_picks_a_plural_form() {
    let mut plain = vec![];
    for (id, body) in messages(EN_FTL) {
        for v in variables(&body) {
            if NUMERIC.contains(&v.as_str()) && !body.contains(&format!("{{ ${v} ->")) {
                plain.push(format!("{id}: ${v}"));
            }
        }
    }
    assert!(
        plain.is_empty(),
        "counts without a plural selector: {plain:#?}"
    );
}

#[test]
fn one_of_anything_is_singular() {
    let c = Catalogue::new(Lang::En);
    let plural_after_one = [
        "1 minutes",
        "1 seconds",
        "1 hours",
        "1 days",
        "1 times",
        "1 characters",
        "1 more characters",
        "1 other devices",
    ];
    let mut checked = 0;
    for (id, body) in messages(EN_FTL) {
        let vars = variables(&body);
        if !vars.iter().any(|v| NUMERIC.contains(&v.as_str())) {
            continue;
        }
        let args: Vec<(&str, Arg)> = vars
            .iter()
            .map(|v| {
                let arg = if NUMERIC.contains(&v.as_str()) {
                    Arg::Num(1)
                } else {
                    Arg::Str("X".into())
                };
                (v.as_str(), arg)
            })
            .collect();
        let text = c.tr_args(id, &args);
        checked += 1;
        for bad in plural_after_one {
            assert!(!text.contains(bad), "{id} says {bad:?}: {text}");
        }
        // And the other form still says the plural.
        let many: Vec<(&str, Arg)> = args
            .iter()
            .map(|(k, a)| match a {
                Arg::Num(_) => (*k, Arg::Num(5)),
                other => (*k, other.clone()),
            })
            .collect();
        let text = c.tr_args(id, &many);
        assert!(text.contains('5'), "{id} with 5: {text}");
    }
    assert!(checked >= 10, "checked only {checked} messages with counts");
}

/// "expires in 1 minute" / "vence en 1 minuto", in every language.
#[test]
fn the_recovery_pages_say_one_minute() {
    for (lang, one_minute, ten_minutes) in [
        (Lang::En, "expires in 1 minute.", "expires in 10 minutes."),
        (Lang::Es, "ence en 1 minuto.", "ence en 10 minutos."),
    ] {
        let c = Catalogue::new(lang);
        for id in [
            "recover-sent-email-link",
            "recover-sent-email-code",
            "recover-sent-sms",
            "recover-sent-voice",
        ] {
            let one = c.tr_args(id, &[("minutes", Arg::Num(1))]);
            assert!(one.contains(one_minute), "{id}: {one}");
            let ten = c.tr_args(id, &[("minutes", Arg::Num(10))]);
            assert!(ten.contains(ten_minutes), "{id}: {ten}");
        }
    }
}
