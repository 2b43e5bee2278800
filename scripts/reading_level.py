#!/usr/bin/env python3
"""Reading level of every patient-facing message (issue 13, item 6).

Reads the patients' page catalogues (crates/i18n/locales/en.ftl, es.ftl) and the server's
emails, texts, call scripts and letters (en-messages.ftl, es-messages.ftl). The staff console
(en-staff.ftl) is not patient-facing and is not read.

Each message is resolved to the plain text a patient sees:
  - variables get realistic sample values (the clinic "Hillside Family Clinic", the phone
    "(503) 555-0100", 10 minutes, the code "12345678", the reference "PXJK", the username
    "maria", ...); `$call-us`, `$expiry`, `$statement` and `$not-you` are filled with the catalogue's own
    sentences for them, in the same language;
  - every variant of a select expression is its own text ("[one]" is measured with 1 minute,
    "[other]" with 10), so a plural or a kind of contact cannot hide a long sentence.

Then, per text, with textstat (pinned in scripts/setup.sh; nothing here is a hand-made formula):
  - English: Flesch-Kincaid grade (textstat.flesch_kincaid_grade) must be <= 8;
  - Spanish: Fernandez-Huerta (textstat.fernandez_huerta, after textstat.set_lang("es")) must
    be >= 70 ("fairly easy").

Short strings are not measured: a text of fewer than MIN_WORDS words (a button, a field label,
a title such as "Choose a new password") is not prose, and a formula built on averages per
sentence says nothing useful about three words. Every longer text is measured, however it is
used; one over the bar is rewritten, never exempted, and there is no list of exceptions.

Prints a table per language, worst first, then the worst English grade and the worst Spanish
score, and exits 1 if any text is over the bar (or a catalogue is missing or does not parse).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import textstat
from fluent.syntax import FluentParser, ast

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "crates" / "i18n" / "locales"

MIN_WORDS = 6
EN_MAX_GRADE = 8.0
ES_MIN_SCORE = 70.0

FILES = {
    "en": ["en.ftl", "en-messages.ftl"],
    "es": ["es.ftl", "es-messages.ftl"],
}

# Sample values. Counts are numbers: a plural variant sets its own count (1 for [one]).
COMMON = {
    "clinic": "Hillside Family Clinic",
    "phone": "(503) 555-0100",
    "minutes": 10,
    "seconds": 30,
    "hours": 2,
    "count": 3,
    "min": 15,
    "max": 256,
    "threshold": 5,
    "code": "12345678",
    "reference": "PXJK",
    "username": "maria",
    "name": "Maria",
    "destination": "m•••@example.org",
    "contact": "m•••@example.org",
    "new-value": "m•••@example.org",
    "to": "m•••@example.org",
    # A web address is tapped, not read: it is measured as the one word a reader takes it as
    # (textstat would count "https://portal.hillside.example/not-me#Rk9P…" as 13 syllables of
    # one word, and grade any text that carries a link as college prose).
    "url": "link",
    "link": "link",
    "spelled": "1, 2, 3, 4, 5, 6, 7, 8",
}
BY_LANG = {
    "en": {
        "level": "good",
        "field": "password",
        "when": "December 1 at 9:30 AM",
        "device": "Chrome on Android",
        "signed_in": "December 1",
        "active": "today",
        "where": "a text to •••-•••-0101",
        "masked": "•••-•••-0101",
    },
    "es": {
        "level": "buena",
        "field": "contraseña",
        "when": "el 1 de diciembre a las 9:30",
        "device": "Chrome en Android",
        "signed_in": "el 1 de diciembre",
        "active": "hoy",
        "where": "un texto al •••-•••-0101",
        "masked": "•••-•••-0101",
    },
}
# Variables that hold another message of the same catalogue, rendered with the samples.
FROM_CATALOGUE = {
    "call-us": ("call-us", {}),
    "expiry": ("expiry-minutes", {}),
    "duration": ("sign-in-pause-duration", {"minutes": 15}),
    "statement": ("password-changed-voice", {"how": "owner"}),
    # A notice text's end, as the catalogue words it when there is no link; the link forms
    # (not-you-sms-link*) are measured on their own.
    "not-you": ("not-you-sms-call", {}),
    # The letter quotes the page's link names (the page catalogue is read with the messages).
    "forgot": ("sign-in-forgot-password", {}),
    "have-code": ("recover-have-clinic-code", {}),
}


def plural_sample(key: str, default):
    """The count that makes a plural variant true: 1 for [one], the number for [0], and the
    sample for [other] (and for Spanish [many], which CLDR keeps for millions)."""
    if key == "one":
        return 1
    if key.isdigit():
        return int(key)
    if key == "many":
        return 1_000_000
    return default


def variant_key(v: ast.Variant) -> str:
    k = v.key
    return k.name if isinstance(k, ast.Identifier) else k.value


class Catalogue:
    def __init__(self, lang: str, names: list[str]):
        self.lang = lang
        self.messages: dict[str, tuple[str, ast.Pattern]] = {}
        self.errors: list[str] = []
        for name in names:
            path = LOCALES / name
            if not path.exists():
                self.errors.append(f"{name}: missing")
                continue
            res = FluentParser(with_spans=False).parse(path.read_text(encoding="utf-8"))
            for entry in res.body:
                if isinstance(entry, ast.Junk):
                    self.errors.append(f"{name}: does not parse: {entry.content[:60]!r}")
                elif isinstance(entry, ast.Message) and entry.value is not None:
                    self.messages[entry.id.name] = (name, entry.value)

    def selects(self, pattern: ast.Pattern) -> list[ast.SelectExpression]:
        out = []
        for el in pattern.elements:
            if isinstance(el, ast.Placeable):
                expr = el.expression
                if isinstance(expr, ast.SelectExpression):
                    out.append(expr)
                    for v in expr.variants:
                        out.extend(self.selects(v.value))
        return out

    def texts(self, msg_id: str, args: dict) -> list[tuple[str, str]]:
        """Every (variant label, text) of a message."""
        _, pattern = self.messages[msg_id]
        selects = self.selects(pattern)
        if not selects:
            return [("", self.render(pattern, args, {}))]
        out = []
        choices = [[(s, v) for v in s.variants] for s in selects]
        seen = set()
        for combo in itertools.product(*choices):
            chosen = {id(s): v for s, v in combo}
            local = dict(args)
            for s, v in combo:
                sel = s.selector
                if isinstance(sel, ast.VariableReference):
                    name = sel.id.name
                    default = local.get(name, COMMON.get(name))
                    if isinstance(default, (int, float)) or default is None:
                        local[name] = plural_sample(variant_key(v), default)
                    else:
                        local[name] = variant_key(v)
            text = self.render(pattern, local, chosen)
            label = ",".join(variant_key(v) for s, v in combo if self._reached(pattern, s, chosen))
            if text not in seen:
                seen.add(text)
                out.append((label, text))
        return out

    def _reached(self, pattern, select, chosen) -> bool:
        for el in pattern.elements:
            if isinstance(el, ast.Placeable) and isinstance(el.expression, ast.SelectExpression):
                s = el.expression
                if s is select:
                    return True
                if self._reached(chosen[id(s)].value, select, chosen):
                    return True
        return False

    def value(self, name: str, args: dict):
        if name in args:
            return args[name]
        if name in FROM_CATALOGUE and FROM_CATALOGUE[name][0] in self.messages:
            other, extra = FROM_CATALOGUE[name]
            _, pattern = self.messages[other]
            local = {**self.samples(), **extra}
            chosen = {}
            for s in self.selects(pattern):
                key = local.get(s.selector.id.name)
                want = "one" if key == 1 else str(key)
                pick = next((v for v in s.variants if variant_key(v) == want), None)
                chosen[id(s)] = pick or next(v for v in s.variants if v.default)
            return self.render(pattern, local, chosen)
        lang_value = BY_LANG[self.lang].get(name)
        return lang_value if lang_value is not None else COMMON.get(name, f"{{${name}}}")

    def samples(self) -> dict:
        return {**COMMON, **BY_LANG[self.lang]}

    def render(self, pattern: ast.Pattern, args: dict, chosen: dict) -> str:
        out = []
        for el in pattern.elements:
            if isinstance(el, ast.TextElement):
                out.append(el.value)
                continue
            expr = el.expression
            if isinstance(expr, ast.SelectExpression):
                out.append(self.render(chosen[id(expr)].value, args, chosen))
            elif isinstance(expr, ast.VariableReference):
                out.append(str(self.value(expr.id.name, args)))
            elif isinstance(expr, (ast.StringLiteral, ast.NumberLiteral)):
                out.append(expr.parse()["value"] if isinstance(expr, ast.StringLiteral) else expr.value)
            elif isinstance(expr, ast.MessageReference):
                _, p = self.messages[expr.id.name]
                out.append(self.render(p, args, chosen))
            else:
                out.append(str(expr))
        return "".join(out)


def measure(lang: str) -> tuple[list[tuple[float, str, str, int]], int, list[str]]:
    cat = Catalogue(lang, FILES[lang])
    textstat.set_lang("en_US" if lang == "en" else "es")
    rows, skipped = [], 0
    for msg_id, (file, _) in cat.messages.items():
        for label, text in cat.texts(msg_id, {}):
            text = " ".join(text.split())
            words = textstat.lexicon_count(text)
            if words < MIN_WORDS:
                skipped += 1
                continue
            if lang == "en":
                score = textstat.flesch_kincaid_grade(text)
            else:
                score = textstat.fernandez_huerta(text)
            name = f"{file}:{msg_id}" + (f"[{label}]" if label else "")
            rows.append((score, name, text, words))
    return rows, skipped, cat.errors


def main() -> int:
    failed = False
    worst = {}
    for lang in ("en", "es"):
        rows, skipped, errors = measure(lang)
        for e in errors:
            print(f"error: {e}")
            failed = True
        if lang == "en":
            rows.sort(key=lambda r: -r[0])
            over = [r for r in rows if r[0] > EN_MAX_GRADE]
            bar = f"Flesch-Kincaid grade <= {EN_MAX_GRADE:g}"
        else:
            rows.sort(key=lambda r: r[0])
            over = [r for r in rows if r[0] < ES_MIN_SCORE]
            bar = f"Fernandez-Huerta >= {ES_MIN_SCORE:g}"
        print(f"\n{lang}: {len(rows)} texts measured ({bar}); "
              f"{skipped} shorter than {MIN_WORDS} words not measured")
        print(f"{'score':>7}  {'words':>5}  message")
        for score, name, text, words in rows:
            flag = "  OVER" if any(r[1] == name for r in over) else ""
            print(f"{score:7.1f}  {words:5d}  {name}{flag}")
            if flag:
                print(f"{'':16}{text}")
        if rows:
            worst[lang] = rows[0]
        failed |= bool(over) or not rows
    print()
    if "en" in worst:
        print(f"worst English grade:  {worst['en'][0]:.1f}  ({worst['en'][1]})")
    if "es" in worst:
        print(f"worst Spanish score:  {worst['es'][0]:.1f}  ({worst['es'][1]})")
    print("reading level: " + ("FAILED" if failed else "every message is within the bar"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
