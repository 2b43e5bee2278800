//! No string left behind (issue 13, item 7): every language's catalogues hold the same
//! messages as the English ones, each with the same variables, and every selector keeps its
//! variants: a Spanish file that drops `$minutes`, forgets a message or loses the `[mobile]`
//! variant of a notice fails here, not in a patient's inbox.
//!
//! Read from the syntax tree (fluent-syntax, the parser fluent-bundle uses), not from lines.

use std::collections::{BTreeMap, BTreeSet};

use carekey_i18n::{Arg, Catalogue, EN_FTL, ES_FTL, Lang};
use fluent_syntax::ast::{
    CallArguments, Entry, Expression, InlineExpression, Pattern, PatternElement, VariantKey,
};
use fluent_syntax::parser;

const EN_MESSAGES: &str = include_str!("../locales/en-messages.ftl");
const ES_MESSAGES: &str = include_str!("../locales/es-messages.ftl");

/// What a message needs from its caller and how it branches.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    /// Every `$variable` used anywhere in the message.
    variables: BTreeSet<String>,
    /// For each selector on a variable, the keys of its non-plural variants (`[email]`).
    /// Plural keys (`[one]`, `[other]`, `[many]`, numbers) follow each language's own rules,
    /// so they are compared elsewhere.
    keys: BTreeMap<String, BTreeSet<String>>,
}

const PLURAL_KEYS: &[&str] = &["zero", "one", "two", "few", "many", "other"];

fn shapes(source: &str) -> BTreeMap<String, Shape> {
    let resource = parser::parse(source).unwrap_or_else(|(_, errors)| {
        panic!("catalogue does not parse: {errors:?}");
    });
    let mut out = BTreeMap::new();
    for entry in resource.body {
        if let Entry::Message(m) = entry {
            let mut shape = Shape::default();
            if let Some(value) = &m.value {
                walk_pattern(value, &mut shape);
            }
            for attr in &m.attributes {
                walk_pattern(&attr.value, &mut shape);
            }
            out.insert(m.id.name.to_owned(), shape);
        }
    }
    out
}

fn walk_pattern(p: &Pattern<&str>, shape: &mut Shape) {
    for el in &p.elements {
        if let PatternElement::Placeable { expression } = el {
            walk_expression(expression, shape);
        }
    }
}

fn walk_expression(e: &Expression<&str>, shape: &mut Shape) {
    match e {
        Expression::Inline(i) => walk_inline(i, shape),
        Expression::Select { selector, variants } => {
            walk_inline(selector, shape);
            let name = match selector {
                InlineExpression::VariableReference { id } => id.name.to_owned(),
                other => format!("{other:?}"),
            };
            let keys = shape.keys.entry(name).or_default();
            for v in variants {
                if let VariantKey::Identifier { name } = v.key
                    && !PLURAL_KEYS.contains(&name)
                {
                    keys.insert(name.to_owned());
                }
            }
            for v in variants {
                walk_pattern(&v.value, shape);
            }
        }
    }
}

fn walk_inline(i: &InlineExpression<&str>, shape: &mut Shape) {
    match i {
        InlineExpression::VariableReference { id } => {
            shape.variables.insert(id.name.to_owned());
        }
        InlineExpression::FunctionReference { arguments, .. } => walk_args(arguments, shape),
        InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => walk_args(arguments, shape),
        InlineExpression::Placeable { expression } => walk_expression(expression, shape),
        _ => {}
    }
}

fn walk_args(args: &CallArguments<&str>, shape: &mut Shape) {
    for a in &args.positional {
        walk_inline(a, shape);
    }
    for a in &args.named {
        walk_inline(&a.value, shape);
    }
}

/// `(file, English source, Spanish source)` for each bundle a patient sees.
fn pairs() -> [(&'static str, &'static str, &'static str); 2] {
    [
        ("page catalogue (en.ftl / es.ftl)", EN_FTL, ES_FTL),
        (
            "message catalogue (en-messages.ftl / es-messages.ftl)",
            EN_MESSAGES,
            ES_MESSAGES,
        ),
    ]
}

#[test]
fn the_tree_walk_finds_variables_and_keys() {
    let en = shapes(EN_MESSAGES);
    let changed = &en["contact-changed-intro"];
    let vars: Vec<&str> = changed.variables.iter().map(String::as_str).collect();
    assert_eq!(vars, ["clinic", "kind", "new-value"]);
    let keys: Vec<&str> = changed.keys["kind"].iter().map(String::as_str).collect();
    assert_eq!(keys, ["email", "landline", "mobile"]);
    let pages = shapes(EN_FTL);
    assert!(pages["idle-body"].variables.contains("minutes"));
    assert!(pages.len() > 150, "found {} messages", pages.len());
}

#[test]
fn every_message_exists_in_both_languages() {
    for (what, en, es) in pairs() {
        let en = shapes(en);
        let es = shapes(es);
        let only_en: Vec<&String> = en.keys().filter(|id| !es.contains_key(*id)).collect();
        let only_es: Vec<&String> = es.keys().filter(|id| !en.contains_key(*id)).collect();
        assert!(
            only_en.is_empty(),
            "{what}: missing in Spanish: {only_en:#?}"
        );
        assert!(only_es.is_empty(), "{what}: only in Spanish: {only_es:#?}");
    }
}

#[test]
fn every_message_has_the_same_variables_and_variants_in_both_languages() {
    let mut differ = vec![];
    for (what, en, es) in pairs() {
        let es = shapes(es);
        for (id, en_shape) in shapes(en) {
            let Some(es_shape) = es.get(&id) else {
                continue;
            };
            if en_shape.variables != es_shape.variables {
                differ.push(format!(
                    "{what}: {id}: English {:?}, Spanish {:?}",
                    en_shape.variables, es_shape.variables
                ));
            }
            if en_shape.keys != es_shape.keys {
                differ.push(format!(
                    "{what}: {id}: English variants {:?}, Spanish {:?}",
                    en_shape.keys, es_shape.keys
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
}

/// Spanish plural categories (CLDR) are `one`, `many` and `other`: a `[few]` or `[two]`
/// copied from another language would never be chosen.
#[test]
fn spanish_plurals_use_spanish_categories() {
    let mut wrong = vec![];
    for (what, _, es) in pairs() {
        for entry in parser::parse(es).unwrap().body {
            let Entry::Message(m) = entry else { continue };
            let Some(value) = &m.value else { continue };
            for el in &value.elements {
                let PatternElement::Placeable {
                    expression: Expression::Select { variants, .. },
                } = el
                else {
                    continue;
                };
                for v in variants {
                    if let VariantKey::Identifier { name } = v.key
                        && ["zero", "two", "few"].contains(&name)
                    {
                        wrong.push(format!("{what}: {}: [{name}]", m.id.name));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every Spanish page message formats with its variables filled, and counts pick the singular
/// for 1 ("1 minuto", never "1 minutos").
#[test]
fn spanish_counts_of_one_are_singular() {
    let c = Catalogue::new(Lang::Es);
    let numeric = [
        "minutes",
        "seconds",
        "hours",
        "days",
        "count",
        "min",
        "max",
        "threshold",
    ];
    let bad = [
        "1 minutos",
        "1 segundos",
        "1 horas",
        "1 días",
        "1 veces",
        "1 caracteres",
        "1 dispositivos",
    ];
    let mut checked = 0;
    for (id, shape) in shapes(ES_FTL) {
        let args: Vec<(&str, Arg)> = shape
            .variables
            .iter()
            .map(|v| {
                let arg = if numeric.contains(&v.as_str()) {
                    Arg::Num(1)
                } else {
                    Arg::Str("X".into())
                };
                (v.as_str(), arg)
            })
            .collect();
        let text = c.tr_args(&id, &args);
        assert!(
            !text.contains("{$") && !text.contains("{ $"),
            "{id}: {text}"
        );
        if args.iter().any(|(_, a)| matches!(a, Arg::Num(_))) {
            checked += 1;
            for b in bad {
                assert!(!text.contains(b), "{id} says {b:?}: {text}");
            }
        }
    }
    assert!(checked >= 10, "checked only {checked} messages with counts");
}
