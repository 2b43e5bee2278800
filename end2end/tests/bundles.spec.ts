import { type CDPSession, expect, type Page, test } from '@playwright/test';
import { signIn } from './helpers';

// Issue 15, item 5: the sign-in page is the smallest bundle, with no recovery pages in it. The
// recovery pages are a bundle of their own under /recovery/, which the sign-in page fetches
// into the cache only when a patient may need it: a failed sign-in, or the "forgot" link
// pointed at, focused or touched. The home page a sign-in lands on is another (/landing/), and
// Settings and the other signed-in pages another (/portal/). Moving between the bundles is a
// page load, whether by a link or after a step.

/** Every path under /recovery/ the page asks for, in order. */
function recoveryRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/recovery/')) seen.push(path);
  });
  return seen;
}

/** The recovery wasm each time the browser received it: from the network or from its cache. */
async function wasmArrivals(page: Page): Promise<{ cdp: CDPSession; from: string[] }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const from: string[] = [];
  cdp.on('Network.responseReceived', (e) => {
    if (!/\/recovery\/[^/]+_bg\.wasm$/.test(new URL(e.response.url).pathname)) return;
    const cached = e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker;
    from.push(cached ? 'cache' : 'network');
  });
  return { cdp, from };
}

const forgotLink = (page: Page) => page.getByRole('link', { name: 'Forgot your password or username?' });

test('the sign-in page fetches nothing of the recovery pages until the "forgot" link is reached; then they open from the cache', async ({ page }) => {
  const seen = recoveryRequests(page);
  const { from } = await wasmArrivals(page);
  await page.goto('/');
  await expect(page.locator('html[data-app="started"]')).toHaveCount(1);
  await page.getByLabel('Username or email').fill('maria');
  await page.waitForLoadState('networkidle');
  expect(seen).toEqual([]);

  // A keyboard user tabbing to the link (and a mouse pointing at it, a finger touching it).
  const prefetched = page.waitForResponse((r) => /\/recovery\/[^/]+_bg\.wasm$/.test(new URL(r.url()).pathname));
  await forgotLink(page).focus();
  expect((await prefetched).status()).toBe(200);
  await expect.poll(() => from).toEqual(['network']);
  expect(seen.some((p) => p.endsWith('.js'))).toBe(true);

  await forgotLink(page).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeFocused();
  // The page load asked for the wasm again and the browser answered from what it had fetched.
  await expect.poll(() => from).toEqual(['network', 'cache']);
});

test('a failed sign-in fetches the recovery pages ahead, once', async ({ page }) => {
  const seen = recoveryRequests(page);
  await page.goto('/');
  await expect(page.locator('html[data-app="started"]')).toHaveCount(1);
  const prefetched = page.waitForResponse((r) => /\/recovery\/[^/]+_bg\.wasm$/.test(new URL(r.url()).pathname));
  // A name no account has: it fails as a wrong password does, and counts against nobody.
  for (const attempt of [1, 2]) {
    await page.getByLabel('Username or email').fill('nobody-by-this-name');
    await page.getByLabel('Password', { exact: true }).fill(`not-her-password-${attempt}`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('did not match');
  }
  await prefetched;
  await page.waitForLoadState('networkidle');
  expect(seen.filter((p) => p.endsWith('_bg.wasm'))).toHaveLength(1);
});

test('links between the bundles load the page that renders them', async ({ page }) => {
  await page.goto('/forgot-password');
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeFocused();
  // Within the recovery bundle: its router, no page load.
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1; });
  await page.getByRole('link', { name: 'Forgot your username?' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your username?' })).toBeFocused();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
  // To the sign-in page: the first page's bundle, not the recovery bundle's "not found".
  await page.getByRole('link', { name: 'Back to sign in' }).first().click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Page not found' })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBeUndefined();
});

test('an address no bundle renders shows "not found" with the way back to sign in', async ({ page }) => {
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
  await page.getByRole('link', { name: 'Back to sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
});

test('a sign-in lands on the home page\'s own bundle; Settings loads the portal, and home is one link back', async ({ page }) => {
  const files: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (/^\/(landing|portal)\/.+\.wasm$/.test(path)) files.push(path.split('/')[1]);
  });
  await signIn(page, 'maria', 'sunflower-teapot-harbor');
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome, / })).toBeFocused();
  expect(files).toEqual(['landing']);

  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeFocused();
  expect(files).toEqual(['landing', 'portal']);
  await page.getByRole('link', { name: 'Back to home' }).click();
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome, / })).toBeFocused();
  // Still signed in, in the same session: the home page names her again.
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});
