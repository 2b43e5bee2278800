//! The part of Fluent our catalogues use, read and formatted without the Fluent runtime.
//!
//! Every browser bundle carried `fluent-bundle`'s parser and resolver, `intl_pluralrules`,
//! `unic-langid` and the float formatting they pull in (issue 15, item 5: about 12 KB brotli of
//! the patient's first page). Our messages use three things only: text over one or more
//! lines, a variable (`{ $name }`), and a choice on a variable (`{ $n -> [one] … *[other] … }`,
//! also nested, with number or name keys). This reads those with Fluent's own rules (the
//! common indent of a message's lines is removed, blank lines kept, trailing blanks dropped)
//! and formats them as `fluent-bundle` does with `set_use_isolating(false)`.
//!
//! The test `tests/against_fluent.rs` formats every message of every catalogue here and with
//! `fluent-bundle`, with numbers and texts as arguments and with arguments missing, and
//! requires the same text: a catalogue that uses more of Fluent than this reads fails there,
//! not on a patient's page.

use crate::Arg;

/// One piece of a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Var(String),
    Select {
        var: String,
        variants: Vec<(Key, Vec<Part>)>,
        default: usize,
    },
    /// Fluent we do not read (a term, a function, a literal): written as Fluent writes an
    /// unresolvable reference, so it shows instead of vanishing.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    Num(i64),
    Name(String),
}

/// Every message of a catalogue with a value, in the order written (a later one with the same
/// id replaces an earlier one, as `add_resource_overriding` does).
pub(crate) fn parse(source: &str) -> Vec<(String, Vec<Part>)> {
    let text: Vec<char> = source.chars().filter(|c| *c != '\r').collect();
    let mut r = Reader { s: &text, i: 0 };
    let mut out = vec![];
    while r.i < r.s.len() {
        let line_start = r.i;
        if r.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            let id = r.identifier();
            r.skip_inline();
            if r.peek() == Some('=') {
                r.i += 1;
                if let Some(p) = r.maybe_pattern() {
                    out.push((id, p));
                }
            }
        }
        // Whatever the line was (a comment, a term, an attribute, a blank), go on from the
        // next line that starts at column 0.
        if r.i == line_start || r.peek() != Some('\n') {
            r.skip_line();
        }
        r.i += 1;
    }
    out
}

struct Reader<'a> {
    s: &'a [char],
    i: usize,
}

enum Raw {
    Text(String),
    /// The line break(s) and indent before a continuation line: `breaks` blank-or-not line
    /// ends, then `indent` spaces.
    Indent {
        breaks: usize,
        indent: usize,
    },
    Placeable(Part),
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn skip_line(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.i += 1;
        }
    }

    fn skip_inline(&mut self) -> usize {
        let start = self.i;
        while self.peek() == Some(' ') {
            self.i += 1;
        }
        self.i - start
    }

    /// Spaces and line ends.
    fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(' ' | '\n')) {
            self.i += 1;
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    /// From a line end at `i`: how many line ends (the blank lines after it included) come
    /// before the next line with text, where that line's text starts, and its indent.
    fn blank_block(&self, mut i: usize) -> (usize, usize, usize) {
        let mut breaks = 0;
        loop {
            // i is at a line end.
            breaks += 1;
            let mut j = i + 1;
            while self.at(j) == Some(' ') {
                j += 1;
            }
            if self.at(j) == Some('\n') {
                i = j;
                continue;
            }
            return (breaks, j, j - (i + 1));
        }
    }

    /// Whether a line whose text starts at `j` after `indent` spaces carries on a pattern:
    /// indented and not a variant, an attribute or a closing brace; or a placeable.
    fn continues(&self, j: usize, indent: usize) -> bool {
        match self.at(j) {
            None => false,
            Some('{') => true,
            Some('}' | '[' | '*' | '.') => false,
            Some(_) => indent > 0,
        }
    }

    /// The pattern after `=` or a variant key, inline or starting on the next lines.
    fn maybe_pattern(&mut self) -> Option<Vec<Part>> {
        self.skip_inline();
        match self.peek() {
            None => None,
            Some('\n') => {
                let (_, j, indent) = self.blank_block(self.i);
                if !self.continues(j, indent) {
                    return None;
                }
                self.i = j;
                Some(self.pattern(Some(indent)))
            }
            Some(_) => Some(self.pattern(None)),
        }
    }

    /// Fluent's pattern: the first line's indent (a block pattern) counts toward the common
    /// indent, an inline first line does not.
    fn pattern(&mut self, first_indent: Option<usize>) -> Vec<Part> {
        let mut raw = vec![];
        let mut common = usize::MAX;
        if let Some(indent) = first_indent {
            raw.push(Raw::Indent { breaks: 0, indent });
            common = indent;
        }
        while let Some(c) = self.peek() {
            match c {
                '{' => raw.push(Raw::Placeable(self.placeable())),
                '\n' => {
                    let (breaks, j, indent) = self.blank_block(self.i);
                    if !self.continues(j, indent) {
                        break;
                    }
                    self.i = j;
                    common = common.min(indent);
                    raw.push(Raw::Indent { breaks, indent });
                }
                // A stray brace ends the pattern (Fluent reports it as an error).
                '}' => break,
                _ => {
                    let start = self.i;
                    while self.peek().is_some_and(|c| !matches!(c, '{' | '}' | '\n')) {
                        self.i += 1;
                    }
                    raw.push(Raw::Text(self.s[start..self.i].iter().collect()));
                }
            }
        }
        dedent(raw, common)
    }

    fn placeable(&mut self) -> Part {
        self.i += 1;
        self.skip_blank();
        let part = if self.peek() == Some('$') {
            self.i += 1;
            let var = self.identifier();
            self.skip_blank();
            if self.peek() == Some('-') && self.at(self.i + 1) == Some('>') {
                self.i += 2;
                self.select(var)
            } else {
                Part::Var(var)
            }
        } else {
            let start = self.i;
            while self.peek().is_some_and(|c| !matches!(c, '}' | '\n' | ' ')) {
                self.i += 1;
            }
            Part::Unknown(self.s[start..self.i].iter().collect())
        };
        // Up to and past the closing brace; anything else inside is Fluent we do not read.
        while self.peek().is_some_and(|c| c != '}') {
            self.i += 1;
        }
        if self.peek() == Some('}') {
            self.i += 1;
        }
        part
    }

    fn select(&mut self, var: String) -> Part {
        let mut variants = vec![];
        let mut default = 0;
        loop {
            self.skip_blank();
            let is_default = self.peek() == Some('*');
            if is_default {
                self.i += 1;
            }
            if self.peek() != Some('[') {
                break;
            }
            self.i += 1;
            self.skip_blank();
            let word = self.identifier();
            let key = match word.parse::<i64>() {
                Ok(n) => Key::Num(n),
                Err(_) => Key::Name(word),
            };
            self.skip_blank();
            if self.peek() == Some(']') {
                self.i += 1;
            }
            if is_default {
                default = variants.len();
            }
            let value = self.maybe_pattern().unwrap_or_default();
            variants.push((key, value));
        }
        Part::Select {
            var,
            variants,
            default,
        }
    }
}

/// Fluent's dedent: the common indent comes off every continuation line, adjacent texts join,
/// and the pattern's trailing spaces and line ends go.
fn dedent(raw: Vec<Raw>, common: usize) -> Vec<Part> {
    let mut out: Vec<Part> = vec![];
    for r in raw {
        let text = match r {
            Raw::Placeable(p) => {
                out.push(p);
                continue;
            }
            Raw::Text(t) => t,
            Raw::Indent { breaks, indent } => {
                let mut t = "\n".repeat(breaks);
                t.push_str(&" ".repeat(indent.saturating_sub(common)));
                if t.is_empty() {
                    continue;
                }
                t
            }
        };
        match out.last_mut() {
            Some(Part::Text(prev)) => prev.push_str(&text),
            _ => out.push(Part::Text(text)),
        }
    }
    if let Some(Part::Text(last)) = out.last_mut() {
        let kept = last.trim_end_matches([' ', '\n']).len();
        last.truncate(kept);
        if last.is_empty() {
            out.pop();
        }
    }
    out
}

/// Writes `parts` with `args`, as `fluent-bundle` does without isolation marks.
pub(crate) fn write(out: &mut String, parts: &[Part], args: &[(&str, Arg)]) {
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Var(name) => match find(args, name) {
                Some(Arg::Str(s)) => out.push_str(s),
                Some(Arg::Num(n)) => out.push_str(&n.to_string()),
                // Fluent writes what it could not resolve.
                None => {
                    out.push_str("{$");
                    out.push_str(name);
                    out.push('}');
                }
            },
            Part::Select {
                var,
                variants,
                default,
            } => {
                let chosen = find(args, var).and_then(|arg| {
                    variants
                        .iter()
                        .find(|(key, _)| matches(key, arg))
                        .map(|(_, p)| p)
                });
                if let Some(p) = chosen.or_else(|| variants.get(*default).map(|(_, p)| p)) {
                    write(out, p, args);
                }
            }
            Part::Unknown(what) => {
                out.push('{');
                out.push_str(what);
                out.push('}');
            }
        }
    }
}

fn find<'a>(args: &'a [(&str, Arg)], name: &str) -> Option<&'a Arg> {
    args.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// A key against the selector: a number key by value, a name key by the text's equality or,
/// for a number, its plural category.
fn matches(key: &Key, arg: &Arg) -> bool {
    match (key, arg) {
        (Key::Num(k), Arg::Num(n)) => k == n,
        (Key::Name(k), Arg::Str(s)) => k == s,
        (Key::Name(k), Arg::Num(n)) => k == plural(*n),
        (Key::Num(_), Arg::Str(_)) => false,
    }
}

/// Cardinal plural categories for whole numbers (every count we pass is one), as the Fluent
/// runtime the catalogues were written against chooses them: `one` for 1 (and -1) in English
/// and Spanish, else `other`. (CLDR 38 gave Spanish `many` for multiples of a million; that
/// runtime's rules predate it, and no message of ours counts in millions.) A language whose
/// rules for whole numbers differ would choose by its `Lang` here.
fn plural(n: i64) -> &'static str {
    if n.unsigned_abs() == 1 {
        "one"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(source: &str, id: &str, args: &[(&str, Arg)]) -> String {
        let all = parse(source);
        let (_, parts) = all.iter().rev().find(|(i, _)| i == id).expect("message");
        let mut s = String::new();
        write(&mut s, parts, args);
        s
    }

    #[test]
    fn lines_lose_their_common_indent_and_keep_blank_lines() {
        let src = "a =\n    One\n      two\n\n    three\n\nb = x\n";
        assert_eq!(text(src, "a", &[]), "One\n  two\n\nthree");
        assert_eq!(text(src, "b", &[]), "x");
    }

    #[test]
    fn an_inline_first_line_does_not_count_toward_the_indent() {
        let src = "a = First\n        second\n";
        assert_eq!(text(src, "a", &[]), "First\nsecond");
    }

    #[test]
    fn choices_follow_numbers_then_plural_categories() {
        let src = "m = { $n ->\n    [0] none\n    [one] one item\n   *[other] { $n } items\n}\n";
        let f = |n| text(src, "m", &[("n", Arg::Num(n))]);
        assert_eq!(f(0), "none");
        assert_eq!(f(1), "one item");
        assert_eq!(f(-1), "one item");
        assert_eq!(f(7), "7 items");
        assert_eq!(text(src, "m", &[]), "{$n} items");
    }

    #[test]
    fn millions_are_other() {
        let src = "m = { $n ->\n    [many] muchos\n    [one] uno\n   *[other] otros\n}\n";
        let f = |n| text(src, "m", &[("n", Arg::Num(n))]);
        assert_eq!(f(2_000_000), "otros");
        assert_eq!(f(1), "uno");
        assert_eq!(f(2), "otros");
    }

    #[test]
    fn names_choose_by_text_and_nest() {
        let src = "m = { $what ->\n    [a] A { $left ->\n        [one] one left\n       *[other] { $left } left\n    }\n   *[b] B\n}\n";
        let args = [("what", Arg::Str("a".into())), ("left", Arg::Num(3))];
        assert_eq!(text(src, "m", &args), "A 3 left");
        assert_eq!(text(src, "m", &[("what", Arg::Str("z".into()))]), "B");
    }

    /// A fetched catalogue can be anything a proxy sends, or cut off mid-download: reading it
    /// must end, without a panic, whatever it holds.
    #[test]
    fn any_text_is_read_without_a_panic() {
        let page = "<!doctype html>\n<html><body>\nError = { oops\n  [x\n*[\n{ $a ->\n</body>";
        assert!(
            parse(page)
                .iter()
                .all(|(id, _)| id != "language-switch-failed")
        );
        let catalogue = crate::ES_FTL;
        let cuts: Vec<usize> = (0..catalogue.len())
            .step_by(37)
            .filter(|i| catalogue.is_char_boundary(*i))
            .collect();
        assert!(cuts.len() > 100);
        for cut in cuts {
            let mut s = String::new();
            for (_, parts) in parse(&catalogue[..cut]) {
                write(&mut s, &parts, &[("n", Arg::Num(1))]);
            }
        }
    }

    #[test]
    fn comments_terms_and_attributes_are_passed_over() {
        let src = "# note\n-brand = X\nm = Hi\n    .title = T\nn = { -brand }\n";
        assert_eq!(text(src, "m", &[]), "Hi");
        assert_eq!(text(src, "n", &[]), "{-brand}");
    }
}
