import { expect, Page } from '@playwright/test';
import { readFileSync } from 'fs';
import path from 'path';

// The same Fluent catalogues the apps and the server are built from, read by the tests so a
// Spanish page is checked against what the translators wrote, not against copies of it.

const LOCALES = path.resolve(__dirname, '../../crates/i18n/locales');

export type Lang = 'en' | 'es';

/** id → the message's source text (placeables left as written). */
export type Catalogue = Map<string, string>;

export function load(file: string): Catalogue {
  const out: Catalogue = new Map();
  let id: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    if (id) out.set(id, lines.join('\n').trim());
    id = null;
    lines = [];
  };
  for (const line of readFileSync(path.join(LOCALES, file), 'utf8').split('\n')) {
    const m = /^([a-zA-Z][\w-]*)\s*=\s?(.*)$/.exec(line);
    if (m) {
      flush();
      id = m[1];
      lines = [m[2]];
    } else if (/^\s+\S/.test(line) && id) {
      lines.push(line.trim());
    } else {
      flush();
    }
  }
  flush();
  return out;
}

export const pages: Record<Lang, Catalogue> = { en: load('en.ftl'), es: load('es.ftl') };
export const messages: Record<Lang, Catalogue> = {
  en: load('en-messages.ftl'),
  es: load('es-messages.ftl'),
};

/** A message with `{ $name }` filled in; only for messages without select expressions. */
export function msg(cat: Catalogue, id: string, args: Record<string, string> = {}): string {
  const source = cat.get(id);
  if (source === undefined) throw new Error(`no message ${id}`);
  return source.replace(/\{\s*\$(\w+)\s*\}/g, (_, name: string) => {
    if (!(name in args)) throw new Error(`${id} needs $${name}`);
    return args[name];
  });
}

/** A regular expression for a message, any argument matching anything. */
export function pattern(cat: Catalogue, id: string): RegExp {
  const source = cat.get(id);
  if (source === undefined) throw new Error(`no message ${id}`);
  const parts = source.split(/\{[^{}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('.+'));
}

/**
 * The literal runs of text in a catalogue's messages (what is outside `{ … }`), with at least
 * two words: long enough that finding one on a page means that language's text is there.
 * Runs that read the same in the other language are left out.
 */
export function fragments(cat: Catalogue, other: Catalogue): string[] {
  const otherText = [...other.values()].join('\n');
  const out = new Set<string>();
  for (const source of cat.values()) {
    let depth = 0;
    let run = '';
    const runs: string[] = [];
    for (const ch of source) {
      if (ch === '{') {
        if (depth === 0) runs.push(run);
        run = '';
        depth++;
      } else if (ch === '}') {
        depth = Math.max(0, depth - 1);
      } else if (depth === 0) {
        run += ch;
      }
    }
    runs.push(run);
    for (const r of runs) {
      for (const piece of r.split('\n')) {
        const text = piece.replace(/^[\s.,:;!?¡¿()"“”'’-]+|[\s.,:;!?¡¿()"“”'’-]+$/g, '');
        if (text.split(/\s+/).length >= 2 && text.length >= 8 && !otherText.includes(text)) {
          out.add(text);
        }
      }
    }
  }
  return [...out];
}

/**
 * Everything on the page a person can read or hear as page text: visible text, accessible
 * names given by attribute, and the title. Text inside an element marked with another
 * language (the "English" link on a Spanish page, the language-help lines) is that
 * language's, correctly marked, and left out.
 */
export async function readableText(page: Page, lang: Lang): Promise<string> {
  return page.evaluate((lang) => {
    const own = (el: Element | null) => {
      const tagged = el?.closest('[lang]');
      const l = (tagged?.getAttribute('lang') ?? lang).toLowerCase();
      return l === lang || l.startsWith(`${lang}-`);
    };
    const out: string[] = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !own(el) || !el.checkVisibility()) continue;
      out.push(n.textContent ?? '');
    }
    for (const el of document.body.querySelectorAll('[aria-label], [placeholder], [title]')) {
      if (!own(el)) continue;
      for (const a of ['aria-label', 'placeholder', 'title']) {
        const v = el.getAttribute(a);
        if (v) out.push(v);
      }
    }
    return out.join('\n');
  }, lang);
}

/**
 * The page is in `lang`: `<html lang>` says so, and none of the other language's catalogue
 * text is on it (outside what is marked as the other language).
 */
export async function expectOnlyLanguage(page: Page, lang: Lang) {
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  const other: Lang = lang === 'en' ? 'es' : 'en';
  const text = await readableText(page, lang);
  const found = fragments(pages[other], pages[lang]).filter((f) => text.includes(f));
  expect(found, `${other} text on a page in ${lang} (${page.url()})`).toEqual([]);
}

/** A rendered message (email text or subject) holds none of the other language's wording. */
export function expectMessageIn(text: string, lang: Lang) {
  const other: Lang = lang === 'en' ? 'es' : 'en';
  const found = fragments(messages[other], messages[lang]).filter((f) => text.includes(f));
  expect(found, `${other} wording in a message meant to be ${lang}`).toEqual([]);
}
