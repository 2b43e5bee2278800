import { expect, Page, TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

/** Fails the test on any WCAG 2.2 A/AA violation axe finds on the current page. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
  expect(summary, 'accessibility violations').toEqual([]);
}

/** Nothing on the page may be wider than the screen (360 px phones). */
export async function expectNoHorizontalScroll(page: Page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
}

/** Demo accounts are split between the two projects so their lockouts never collide. */
export function pick<T>(info: TestInfo, phone: T, desktop: T): T {
  return info.project.name === 'phone' ? phone : desktop;
}

export async function signIn(page: Page, username: string, password: string) {
  await page.goto('/');
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export const MAIL_PORT = Number(process.env.E2E_MAIL_PORT ?? 3180);

export interface Mail { id: number; to: string[]; subject: string; text: string; html: string }
export interface DevMessage { id: number; kind: string; channel: string; to: string; subject: string; text: string }

/** Email the test SMTP server received for `to`, oldest first. */
export async function mailTo(to: string): Promise<Mail[]> {
  const r = await fetch(`http://127.0.0.1:${MAIL_PORT}/messages?to=${encodeURIComponent(to)}`);
  return (await r.json()) as Mail[];
}

/** How many messages `to` has had so far; pass it to `waitForMail` to get the next one. */
export async function mailCount(to: string): Promise<number> {
  return (await mailTo(to)).length;
}

/** Waits for the first message to `to` after the first `seen` ones and returns it. */
export async function waitForMail(to: string, seen: number): Promise<Mail> {
  await expect.poll(async () => (await mailTo(to)).length, { timeout: 15_000 }).toBeGreaterThan(seen);
  return (await mailTo(to))[seen];
}

/** Codes CareKey's development outbox holds for `to` (texts and calls), newest first. */
export async function devCodes(baseURL: string, to: string): Promise<DevMessage[]> {
  const r = await fetch(`${baseURL}/dev/outbox.json`);
  return ((await r.json()) as DevMessage[]).filter((m) => m.to === to && m.kind === 'reset_code');
}

/** Waits until `to` has more than `seen` codes and returns the newest. */
export async function waitForCode(baseURL: string, to: string, seen: number): Promise<DevMessage> {
  await expect.poll(async () => (await devCodes(baseURL, to)).length, { timeout: 15_000 }).toBeGreaterThan(seen);
  return (await devCodes(baseURL, to))[0];
}

/** The 8-digit code in a message; a voice script spells it "1, 2, 3, …". */
export function codeIn(text: string): string {
  const m = text.replace(/(\d), (?=\d)/g, '$1').match(/\b(\d{8})\b/);
  if (!m) throw new Error(`no code in: ${text}`);
  return m[1];
}
