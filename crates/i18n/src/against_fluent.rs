//! Our reader of Fluent (`ftl.rs`) against Fluent's own runtime: every message of every
//! catalogue, with every combination of arguments that can change its text (missing, a word,
//! each variant's name, numbers on both sides of each plural rule), must read the same.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use fluent_syntax::ast;
use unic_langid::langid;

use crate::{Arg, Catalogue, EN_STAFF_FTL, Lang, messages};

/// Variables and variant names of one message.
#[derive(Default)]
struct Shape {
    variables: Vec<String>,
    names: Vec<String>,
}

fn walk(p: &ast::Pattern<&str>, shape: &mut Shape) {
    for e in &p.elements {
        if let ast::PatternElement::Placeable { expression } = e {
            match expression {
                ast::Expression::Inline(ast::InlineExpression::VariableReference { id }) => {
                    shape.variables.push(id.name.to_owned());
                }
                ast::Expression::Select { selector, variants } => {
                    if let ast::InlineExpression::VariableReference { id } = selector {
                        shape.variables.push(id.name.to_owned());
                    }
                    for v in variants {
                        if let ast::VariantKey::Identifier { name } = v.key {
                            shape.names.push(name.to_owned());
                        }
                        walk(&v.value, shape);
                    }
                }
                // Anything else (a term, a function, a literal) ftl.rs writes as unresolved;
                // the comparison shows where Fluent would differ.
                _ => {}
            }
        }
    }
}

fn shapes(source: &str) -> Vec<(String, Shape)> {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{errors:?}"),
    };
    let mut out = vec![];
    for entry in resource.body {
        if let ast::Entry::Message(m) = entry {
            let mut shape = Shape::default();
            if let Some(value) = &m.value {
                walk(value, &mut shape);
            }
            let mut seen = vec![];
            shape.variables.retain(|v| {
                let first = !seen.contains(v);
                seen.push(v.clone());
                first
            });
            out.push((m.id.name.to_owned(), shape));
        }
    }
    out
}

fn fluent(lang: Lang, sources: &[&str]) -> FluentBundle<FluentResource> {
    let id = match lang {
        Lang::En => langid!("en-US"),
        Lang::Es => langid!("es-US"),
    };
    let mut bundle = FluentBundle::new(vec![id]);
    bundle.set_use_isolating(false);
    for s in sources {
        let resource = FluentResource::try_new((*s).to_owned()).unwrap_or_else(|(r, _)| r);
        bundle.add_resource_overriding(resource);
    }
    bundle
}

fn fluent_text(bundle: &FluentBundle<FluentResource>, id: &str, args: &[(&str, Arg)]) -> String {
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        match v {
            Arg::Str(s) => fa.set(*k, FluentValue::from(s.as_str())),
            Arg::Num(n) => fa.set(*k, FluentValue::from(*n)),
        }
    }
    let mut errors = vec![];
    bundle
        .format_pattern(pattern, Some(&fa), &mut errors)
        .into_owned()
}

/// Every combination of candidate values (`None`: the argument is not passed).
fn combinations(shape: &Shape) -> Vec<Vec<(&str, Arg)>> {
    let mut candidates: Vec<Option<Arg>> = vec![None, Some(Arg::Str("Ana".into()))];
    candidates.extend(shape.names.iter().map(|n| Some(Arg::Str(n.clone()))));
    candidates.extend([0, 1, 2, 5, -1, 21, 1_000_000].map(|n| Some(Arg::Num(n))));
    let mut all: Vec<Vec<(&str, Arg)>> = vec![vec![]];
    for var in &shape.variables {
        let mut next = vec![];
        for partial in &all {
            for c in &candidates {
                let mut args = partial.clone();
                if let Some(arg) = c {
                    args.push((var.as_str(), arg.clone()));
                }
                next.push(args);
            }
        }
        all = next;
    }
    all
}

/// Compares every message of `sources` (the last one's ids) and returns how many texts.
/// Our text for a message id and its arguments.
type Ours<'a> = &'a dyn Fn(&str, &[(&str, Arg)]) -> String;

fn compare(lang: Lang, sources: &[&str], ours: Ours) -> usize {
    let bundle = fluent(lang, sources);
    let mut compared = 0;
    for source in sources {
        for (id, shape) in shapes(source) {
            for args in combinations(&shape) {
                assert_eq!(
                    ours(&id, &args),
                    fluent_text(&bundle, &id, &args),
                    "{lang:?} {id} {args:?}"
                );
                compared += 1;
            }
        }
    }
    compared
}

#[test]
fn every_page_message_reads_as_fluent_reads_it() {
    let mut compared = 0;
    for lang in Lang::ALL {
        let c = Catalogue::new(lang);
        compared += compare(lang, &[lang.source(), EN_STAFF_FTL], &|id, args| {
            c.tr_args(id, args)
        });
    }
    assert!(compared > 2_000, "{compared}");
}

#[test]
fn every_server_message_reads_as_fluent_reads_it() {
    let mut compared = 0;
    for lang in Lang::ALL {
        let c = messages::MessageCatalogue::new(lang);
        compared += compare(lang, &[messages::source(lang)], &|id, args| c.tr(id, args));
    }
    assert!(compared > 1_000, "{compared}");
}

/// The files people edit, comments and all, read as their stripped copies do.
#[test]
fn the_edited_files_read_as_fluent_reads_them() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    for (lang, file) in [(Lang::En, "en.ftl"), (Lang::Es, "es.ftl")] {
        let text = std::fs::read_to_string(dir.join(file)).expect("catalogue file");
        let c = Catalogue::from_sources(&[&text]);
        compare(lang, &[&text], &|id, args| c.tr_args(id, args));
    }
}

/// Fluent's edge cases our catalogues could grow into: blank lines, deeper and shallower
/// lines, a choice on its own line, nested choices, a stray term, Spanish millions.
#[test]
fn fluent_edge_cases_read_the_same() {
    let source = "\
# comment
-term = Term
a = First
      deeper
    shallower

    after a blank line
b =
    { $n ->
        [0] none
        [one] one
           and more
       *[other] { $n } of { $what ->
            [x] X
           *[y] Y { $n }
        }
    }   and after
c = Before { $missing } after
d = { $n ->
    [many] muchos
   *[other] otros
}
e = trailing spaces   \n\
f =
    Line one

g = Text with attribute
    .title = Title
";
    for lang in Lang::ALL {
        let c = Catalogue::from_sources(&[source]);
        let n = compare(lang, &[source], &|id, args| c.tr_args(id, args));
        assert!(n > 100, "{n}");
        assert_eq!(c.tr("g"), "Text with attribute");
    }
}
