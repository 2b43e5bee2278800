import { createHmac } from 'node:crypto';
import { expect, Page, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, mailCount, pick, signIn, waitForMail } from './helpers';

/** RFC 4648 base32, as the page shows an authenticator key (groups of four, no padding). */
function base32(key: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of key.replace(/\s+/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The code an authenticator app shows (RFC 6238: HMAC-SHA1, 30 s, 6 digits), `steps` ahead. */
function totp(key: string, steps = 0): string {
  const counter = Math.floor(Date.now() / 30_000) + steps;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', base32(key)).update(msg).digest();
  const o = h[h.length - 1] & 0x0f;
  const bin = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

/** The demo patient's key and codes (`carekey demo-data` prints them). */
const IRIS_KEY = 'MNQX EZLL MV4S 2ZDF NVXS 22LS NFZS 2MBR';
const IRIS_PW = 'cedar-lantern-harbor-plum';

async function passwordStep(page: Page, user: string, pw: string) {
  await signIn(page, user, pw);
  await expect(page.getByRole('heading', { level: 1, name: 'Two-step verification' })).toBeVisible();
}

test('a patient adds an authenticator app, keeps the recovery codes, and the next sign-in asks for it', async ({ page }, info) => {
  const [user, pw, email, lastName] = pick(
    info,
    ['jade', 'saffron-kettle-meadow-pine', 'jade.whitaker@example.com', 'Whitaker'],
    ['ezra', 'violet-harbor-anchor-reed', 'ezra.lindgren@example.com', 'Lindgren'],
  );
  await signIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Two-step verification' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Two-step verification' })).toBeVisible();
  await expect(page.getByText('You have not added a second step yet.')).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  await page.getByLabel('Name for this app').fill('My phone');
  await page.getByRole('button', { name: 'Set up an app' }).click();
  await expect(page.getByRole('img', { name: 'A code for your authenticator app to scan' })).toBeVisible();
  // The key as a person would type it into the app, read off the page.
  const key = (await page.locator('#two-step-key').textContent()) ?? '';
  expect(key.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  // A wrong code adds nothing, and says so calmly.
  const wrong = totp(key) === '000000' ? '111111' : '000000';
  await page.getByLabel('The 6-digit code the app shows now').fill(wrong);
  await page.getByLabel('Current password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Turn it on' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'did not work' })).toBeVisible();

  const seen = await mailCount(email);
  await page.getByLabel('The 6-digit code the app shows now').fill(totp(key));
  await page.getByRole('button', { name: 'Turn it on' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Save your recovery codes' })).toBeVisible();
  const codes = await page.locator('#backup-codes li').allTextContents();
  expect(codes).toHaveLength(10);
  for (const c of codes) expect(c).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){3}$/);
  await expect(page.getByRole('link', { name: 'Download' })).toHaveAttribute('download', 'recovery-codes.txt');
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
  // Every contact hears that a second step was added.
  const notice = await waitForMail(email, seen);
  expect(notice.subject).toBe('A code app was added to your portal');
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  await expect(page.getByRole('button', { name: 'Remove My phone' })).toBeVisible();
  await expect(page.getByText('You have 10 recovery codes left.')).toBeVisible();

  await page.goto('/home');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toContainText('You have signed out');

  // The password alone opens nothing now.
  await passwordStep(page, user, pw);
  await page.goto('/home');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await passwordStep(page, user, pw);
  // The step the app was confirmed with is spent: the phone's next code (one step ahead).
  await page.getByLabel('6-digit code').fill(totp(key, 1));
  // This is the patient's own phone or computer: remembered for 30 days (SECURITY.md M7).
  await page.getByLabel('Do not ask for a code on this browser for 30 days').check();
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 3, name: 'Browsers that skip the code step' })).toBeVisible();
  await expectAccessible(page);
  await page.goto('/home');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toContainText('You have signed out');
  // The password alone, on this browser.
  await signIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);

  // The phone is lost, and the codes with it: the front desk resets two-step verification
  // after checking who is calling.
  const desk = await page.context().browser()!.newContext();
  const staff = await desk.newPage();
  await staff.goto('/staff');
  await staff.getByLabel('Username or email').fill('frontdesk');
  await staff.getByLabel('Password', { exact: true }).fill('front-desk-coffee-morning');
  await staff.getByRole('button', { name: 'Sign in' }).click();
  await staff.getByRole('link', { name: 'Patients' }).first().click();
  await staff.getByLabel('Name, date of birth or MRN').fill(lastName);
  await staff.getByRole('button', { name: 'Search', exact: true }).click();
  await staff.getByRole('link', { name: new RegExp(`^${lastName}, `) }).click();
  const widget = staff.getByRole('region', { name: 'Patient Portal / API Access' });
  await expect(widget.getByText('Authenticator app, Recovery codes')).toBeVisible();
  const resetForm = staff.getByRole('form', { name: 'Reset two-step verification' });
  await resetForm.getByRole('button', { name: 'Reset two-step verification' }).click();
  await expect(resetForm.getByRole('alert')).toContainText('Tick what you checked');
  await resetForm.getByLabel('Called back on the number on file').check();
  await resetForm.getByRole('button', { name: 'Reset two-step verification' }).click();
  await expect(widget.getByText('Not set up')).toBeVisible();
  await expectAccessible(staff);
  await desk.close();

  // Signed out everywhere, this browser forgotten; the password alone signs in again (no
  // second step is left to ask for), and a new app can be added.
  await page.goto('/settings/two-step');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await signIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);
});

test('the second step by keyboard alone, with "try another way" to a recovery code', async ({ page }, info) => {
  // The demo patient's recovery codes are single use: each project takes its own.
  const code = pick(info, 'dem0-c0de-0000-0001', 'dem0-c0de-0000-0002');
  await page.goto('/');
  await page.getByLabel('Username or email').focus();
  await page.keyboard.type('iris');
  await page.keyboard.press('Tab');
  await page.keyboard.type(IRIS_PW);
  await page.keyboard.press('Enter');
  const field = page.getByLabel('6-digit code');
  await expect(field).toBeFocused();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  // A wrong code: the message is announced and focus stays where the next try goes.
  await page.keyboard.type('000000');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert').filter({ hasText: 'That code did not work' })).toBeVisible();

  await page.getByRole('button', { name: 'Try another way' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Use a saved recovery code' }).focus();
  await page.keyboard.press('Enter');
  const recovery = page.getByLabel('Recovery code');
  await expect(recovery).toBeFocused();
  await page.keyboard.type(code.toUpperCase());
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Iris' })).toBeVisible();

  // The code is spent: the next sign-in cannot use it again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toContainText('You have signed out');
  await passwordStep(page, 'iris', IRIS_PW);
  await page.getByRole('button', { name: 'Try another way' }).click();
  await page.getByRole('button', { name: 'Use a saved recovery code' }).click();
  await page.getByLabel('Recovery code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'That code did not work' })).toBeVisible();
  // The demo key, as an authenticator app on a phone holds it, gets in.
  await page.getByRole('button', { name: 'Try another way' }).click();
  await page.getByRole('button', { name: 'Use my authenticator app' }).click();
  await page.getByLabel('6-digit code').fill(totp(IRIS_KEY, pick(info, 0, 1)));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/home$/);
});

/** The second CareKey (`playwright.config.ts`) runs with `mfa.staff = required`, the default. */
const REQUIRED = `http://127.0.0.1:${Number(process.env.E2E_SHORT_PORT ?? 3101)}`;

test('a clinic that requires a second step walks a new member of staff through adding one', async ({ page }, info) => {
  const [user, pw] = pick(info, ['nurse.amy', 'lagoon-pepper-violet-hill'], ['nurse.ben', 'granite-tulip-harbor-moon']);
  await page.goto(`${REQUIRED}/staff`);
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Straight to adding one: nothing else of the console is reachable yet.
  await expect(page).toHaveURL(/\/staff\/two-step$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Two-step verification' })).toBeVisible();
  await expect(page.getByText('Your clinic asks everyone to add a second sign-in step')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Patients' })).toHaveCount(0);
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
  await page.goto(`${REQUIRED}/staff/patients`);
  await expect(page).toHaveURL(/\/staff\/two-step$/);

  await page.getByRole('button', { name: 'Set up an app' }).click();
  const key = (await page.locator('#two-step-key').textContent()) ?? '';
  // Minutes after signing in, the password is not asked again.
  await expect(page.getByLabel('Current password', { exact: true })).toHaveCount(0);
  await page.getByLabel('The 6-digit code the app shows now').fill(totp(key));
  await page.getByRole('button', { name: 'Turn it on' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Save your recovery codes' })).toBeVisible();
  await expect(page.locator('#backup-codes li')).toHaveCount(10);
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  await expect(page).toHaveURL(/\/staff\/home$/);
  await page.getByRole('link', { name: 'Patients' }).first().click();
  await expect(page).toHaveURL(/\/staff\/patients$/);

  // The next sign-in asks for the app.
  await page.context().clearCookies();
  await page.goto(`${REQUIRED}/staff`);
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('6-digit code')).toBeFocused();
  await page.getByLabel('6-digit code').fill(totp(key, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/staff\/home$/);
});
