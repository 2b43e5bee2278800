import { expect, Page, Request, test } from '@playwright/test';
import { msg, pages } from './catalogue';
import { expectAccessible, expectNoHorizontalScroll } from './helpers';

// Issue 13: the Spanish pages' words are a file of their own (/locales/es.ftl), fetched only
// when a page is in Spanish, so an English reader's first page does not carry them.

const es = (id: string, args?: Record<string, string>) => msg(pages.es, id, args);
const en = (id: string, args?: Record<string, string>) => msg(pages.en, id, args);

/** Every request for a page catalogue this page makes from now on. */
function catalogueRequests(page: Page): Request[] {
  const seen: Request[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/locales/')) seen.push(r);
  });
  return seen;
}

test('an English reader never downloads the Spanish words, on either bundle', async ({ page }) => {
  const asked = catalogueRequests(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: en('sign-in-title') })).toBeVisible();
  await page.getByRole('link', { name: en('sign-in-forgot-password') }).click();
  await expect(page.getByRole('heading', { level: 1, name: en('forgot-title') })).toBeVisible();
  // The signed-in pages' bundle starts too (and sends a visitor without a session to sign in).
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 1, name: en('sign-in-title') })).toBeVisible();
  expect(asked.map((r) => r.url())).toEqual([]);
  await expect(page.locator('link[data-catalogue]')).toHaveCount(0);
});

test.describe('a browser that prefers Spanish', () => {
  test.use({ locale: 'es-US' });

  test('downloads the Spanish words once, before the first page draws', async ({ page }) => {
    const asked = catalogueRequests(page);
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: es('sign-in-title') })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'es');
    // app-check.js asks for the file beside the app's own (a preload), and the app is handed
    // that download: one request in all, not a second one from the app.
    await expect(page.locator('link[rel="preload"][data-catalogue="es"]')).toHaveCount(1);
    expect(asked.map((r) => new URL(r.url()).pathname)).toEqual(['/locales/es.ftl']);
    const response = await asked[0].response();
    expect(response?.status()).toBe(200);
    // Not a copy that never changes: a new release's words are picked up at once.
    expect(response?.headers()['cache-control']).toBe('no-cache');
  });

  test('when the Spanish words cannot be fetched, the pages open in English and the switch says why', async ({ page }) => {
    await page.route('**/locales/es.ftl', (route) => route.abort('connectionfailed'));
    await page.goto('/');
    // Not "the portal could not open": English is inside the app.
    await expect(page.getByRole('heading', { level: 1, name: en('sign-in-title') })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.locator('#app-unavailable')).toHaveCount(0);

    const spanish = page.getByRole('link', { name: 'Español' });
    await spanish.click();
    const status = page.locator('.language-switch [role="alert"]');
    await expect(status).toHaveText(en('language-switch-failed', { language: 'Español' }));
    await expect(page.getByRole('heading', { level: 1, name: en('sign-in-title') })).toBeVisible();
    await expectAccessible(page);
    await expectNoHorizontalScroll(page);

    // The connection is back: the same link works, and the note goes.
    await page.unroute('**/locales/es.ftl');
    await spanish.click();
    await expect(page.getByRole('heading', { level: 1, name: es('sign-in-title') })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'es');
    await expect(page.getByRole('link', { name: 'English' })).toBeFocused();
    await expect(page.locator('.language-switch [role="alert"]')).toHaveCount(0);
  });
});
