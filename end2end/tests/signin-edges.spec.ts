import { expect, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, pick, signIn, DevMessage } from './helpers';

// Issue 11: the places where a patient got stuck at sign-in, asking for a username, or on a
// browser that cannot run the portal.

test('a paused account on a later visit gets one helpful answer, the same as for anyone', async ({ browser, page }, info) => {
  const [user, password] = pick(info,
    ['kai', 'meadow-lantern-copper-finch'],
    ['lin', 'harbor-thistle-violet-drum']);
  // Five wrong passwords in another browser pause the account.
  const elsewhere = await browser.newContext();
  const other = await elsewhere.newPage();
  for (let i = 1; i <= 5; i++) {
    await signIn(other, user, `not-the-right-one-${i}`);
    await expect(other.getByRole('alert')).toContainText('did not match our records');
  }
  await elsewhere.close();

  // Later, in a new browser, the right password: the pause is explained, with the way out.
  await signIn(page, user, password);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('did not match our records');
  await expect(alert).toContainText('5 tries in a row that do not match pause sign-in for 15 minutes');
  await expect(alert).toContainText('even the right password does not work');
  await expect(alert.getByRole('link', { name: 'Reset your password' })).toBeVisible();
  await expect(alert).toContainText('Call Hillside Family Clinic at (503) 555-0100');
  await expect(page).not.toHaveURL(/\/home$/);
  await expectNoHorizontalScroll(page);
  await expectAccessible(page);
  const paused = await alert.innerText();

  // Someone who is not a patient here reads exactly the same words (SECURITY.md E1).
  await signIn(page, 'nobody-by-this-name', password);
  await expect(alert).toContainText('did not match our records');
  expect(await alert.innerText()).toBe(paused);

  await alert.getByRole('link', { name: 'Reset your password' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeVisible();
});

test('a landline-only patient asking for their username gets a call that spells it', async ({ page, baseURL }, info) => {
  const [first, last, dob, zip, phone, spelled] = pick(info,
    ['Grace', 'Kim', '1941-02-25', '97219', '+15035550133', 'g, r, a, c, e'],
    ['Walter', 'Brown', '1938-08-08', '97203', '+15035550144', 'w, a, l, t']);
  const callsTo = async (): Promise<DevMessage[]> => {
    const r = await fetch(`${baseURL}/dev/outbox.json`);
    return ((await r.json()) as DevMessage[]).filter((m) => m.to === phone && m.kind === 'username');
  };
  const before = (await callsTo()).length;

  await page.goto('/forgot-username');
  await page.getByLabel('With my name, date of birth and ZIP code').check();
  await page.getByLabel('First name').fill(first);
  await page.getByLabel('Last name').fill(last);
  await page.getByLabel('Date of birth', { exact: true }).fill(dob);
  await page.getByLabel('ZIP code', { exact: true }).fill(zip);
  await page.getByRole('button', { name: 'Send my username' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Check your email or phone' })).toBeVisible();
  await expect(page.getByText('A home phone gets a call that reads the username out')).toBeVisible();
  await expectAccessible(page);

  await expect.poll(async () => (await callsTo()).length, { timeout: 15_000 }).toBeGreaterThan(before);
  const call = (await callsTo())[0];
  expect(call.channel).toBe('voice');
  expect(call.text.split(spelled).length - 1).toBe(2);
});

test('a browser without WebAssembly gets a plain message instead of a blank page', async ({ page }) => {
  await page.addInitScript(() => {
    delete (window as unknown as { WebAssembly?: unknown }).WebAssembly;
  });
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'The patient portal could not open' })).toBeVisible();
  await expect(page.getByText('Update your browser, or open this page in another one')).toBeVisible();
  await expect(page.getByText('please call Hillside Family Clinic at (503) 555-0100')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Reload the page' })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
  await expectNoHorizontalScroll(page);
  await expectAccessible(page);
});

test('an app that fails to load shows the same message, on the portal and the staff console', async ({ page }) => {
  await page.route(/\.wasm$/, (route) => route.abort('connectionreset'));
  await page.goto('/forgot-password');
  await expect(page.getByRole('heading', { level: 1, name: 'The patient portal could not open' })).toBeVisible();
  await expect(page.getByText('please call Hillside Family Clinic at (503) 555-0100')).toBeVisible();
  await expectAccessible(page);

  await page.goto('/staff');
  await expect(page.getByRole('heading', { level: 1, name: 'The staff console could not open' })).toBeVisible();
  await expectAccessible(page);

  // With the app's code reachable again, a reload is all it takes.
  await page.unroute(/\.wasm$/);
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'The patient portal could not open' })).toBeHidden();
});
