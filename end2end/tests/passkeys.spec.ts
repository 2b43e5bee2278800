import { CDPSession, expect, Page, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, pick } from './helpers';

/**
 * Passkeys (issue 12, SECURITY.md M1, M3) in a real Chromium with its virtual WebAuthn
 * authenticator (DevTools protocol), against the CareKey whose address is a host name
 * (playwright.config.ts): WebAuthn binds a passkey to a domain, never to an IP address.
 */
const BASE = `http://localhost:${Number(process.env.E2E_PASSKEY_PORT ?? 3102)}`;

/** A platform authenticator with a fingerprint reader: resident keys, user verification. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function passwordSignIn(page: Page, user: string, pw: string) {
  await page.goto(`${BASE}/`);
  await expect(page.getByLabel('Username or email')).toHaveAttribute('autocomplete', 'username webauthn');
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

test('a patient adds a passkey in Settings and then signs in with it alone', async ({ page }, info) => {
  const [user, pw] = pick(
    info,
    ['jade', 'saffron-kettle-meadow-pine'],
    ['ezra', 'violet-harbor-anchor-reed'],
  );
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  await passwordSignIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Two-step verification' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Add a passkey' })).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  const form = page.locator('form').filter({ has: page.getByLabel('Name for this passkey') });
  await form.getByLabel('Name for this passkey').fill('This computer');
  // The password is checked before the browser makes anything.
  await form.getByLabel('Current password', { exact: true }).fill('not-my-password-at-all');
  await form.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(form.getByRole('alert')).toContainText('current password');
  expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(0);

  await form.getByLabel('Current password', { exact: true }).fill(pw);
  await form.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Save your recovery codes' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Your passkey is ready' })).toBeVisible();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  // Discoverable, so it can sign in with no username typed.
  expect(credentials[0].isResidentCredential).toBe(true);
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'This computer' })).toContainText('Passkey');

  // Autofill: the sign-in page asks for a passkey as it opens (conditional mediation).
  // Chromium's virtual authenticator answers such a request as a person picking the
  // suggestion would, so signing out lands on the sign-in page and it signs straight in.
  await page.goto(`${BASE}/home`);
  const byAutofill = page.waitForResponse(
    (r) => r.url().endsWith('/api/passkey_sign_in') && r.request().method() === 'POST',
  );
  await page.getByRole('button', { name: 'Sign out' }).click();
  expect((await byAutofill).status()).toBe(200);
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

  // A browser whose autofill offers no passkeys: the button. (The authenticator checks
  // nobody while signing out, so the sign-out page's own autofill cannot sign in.)
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toContainText('You have signed out');
  await page.goto(`${BASE}/`);
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
});

test('a passkey that cannot check it is you does not sign in (M3), and then can', async ({ page }, info) => {
  const [user, pw] = pick(info, ['maria', 'sunflower-teapot-harbor'], ['jchen', 'granite-maple-lantern']);
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  // The button and the second step here; autofill is the other test's.
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await passwordSignIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Two-step verification' }).click();
  const form = page.locator('form').filter({ has: page.getByLabel('Name for this passkey') });
  await form.getByLabel('Current password', { exact: true }).fill(pw);
  await form.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('button', { name: 'I have saved my codes' }).click();
  await page.goto(`${BASE}/home`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toContainText('You have signed out');

  // No fingerprint or PIN checked: one factor, so no session (the password is still asked).
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  await page.goto(`${BASE}/`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert')).toContainText(/No passkey was used|did not work/);
  await expect(page).not.toHaveURL(/\/home$/);
  await expectAccessible(page);

  // The second step after a password can be the passkey too, once it checks it is you.
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Two-step verification' })).toBeVisible();
  await expect(page.getByText('Use your passkey.')).toBeVisible();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Use my passkey' }).click();
  await expect(page).toHaveURL(/\/home$/);
});
