import { expect, Page, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, pick, signIn } from './helpers';

/** The newest sign-in code the development outbox holds for `to`, once there are more than `seen`. */
async function sentCode(baseURL: string, to: string, seen: number): Promise<string> {
  const codes = async () =>
    ((await (await fetch(`${baseURL}/dev/outbox.json`)).json()) as { to: string; kind: string; text: string }[])
      .filter((m) => m.to === to && m.kind === 'sign_in_code');
  await expect.poll(async () => (await codes()).length, { timeout: 15_000 }).toBeGreaterThan(seen);
  return /\b(\d{8})\b/.exec((await codes())[0].text)![1];
}

async function codesSent(baseURL: string, to: string): Promise<number> {
  const all = (await (await fetch(`${baseURL}/dev/outbox.json`)).json()) as { to: string; kind: string }[];
  return all.filter((m) => m.to === to && m.kind === 'sign_in_code').length;
}

async function signOut(page: Page) {
  await page.goto('/home');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toContainText('You have signed out');
}

test('a patient gets sign-in codes by text: added in Settings, then asked for at sign-in', async ({ page, baseURL }, info) => {
  const [user, pw, mobile, last4] = pick(
    info,
    ['sol', 'harbor-cobalt-willow-finch', '+15035550191', '0191'],
    ['tess', 'quarry-lilac-ember-drum', '+15035550192', '0192'],
  );
  await signIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Two-step verification' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Get codes by text or call' })).toBeVisible();
  await expect(page.getByLabel(`a text to •••-•••-${last4}`)).toBeChecked();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  let seen = await codesSent(baseURL!, mobile);
  await page.getByLabel('Current password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Send a code to check it' }).click();
  await expect(page.getByRole('status').filter({ hasText: `We sent a text to •••-•••-${last4}` })).toBeVisible();
  await expect(page.getByLabel('Code we sent')).toBeFocused();
  const code = await sentCode(baseURL!, mobile, seen);
  // A wrong code adds nothing.
  await page.getByLabel('Code we sent').fill(code === '00000000' ? '11111111' : '00000000');
  await page.getByRole('button', { name: 'Turn it on' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'did not work' })).toBeVisible();
  await page.getByLabel('Code we sent').fill(code);
  await page.getByRole('button', { name: 'Turn it on' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Save your recovery codes' })).toBeVisible();
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  await expect(page.getByText('Codes we send')).toBeVisible();
  await expectAccessible(page);

  // The next sign-in asks for a code, sent only when the patient asks, by keyboard alone.
  await signOut(page);
  await signIn(page, user, pw);
  await expect(page.getByRole('heading', { level: 1, name: 'Two-step verification' })).toBeVisible();
  await expect(page.getByLabel(`a text to •••-•••-${last4}`)).toBeChecked();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
  seen = await codesSent(baseURL!, mobile);
  // Nothing to type yet: focus is on the button that sends one.
  await expect(page.getByRole('button', { name: 'Send a code', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: `We sent a text to •••-•••-${last4}` })).toBeVisible();
  await expect(page.getByLabel('Code we sent')).toBeFocused();
  await page.keyboard.type(await sentCode(baseURL!, mobile, seen));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/home$/);
});
