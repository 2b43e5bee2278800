import { expect, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, pick, signIn } from './helpers';

test('a patient signs in, sees their home page, and signs out', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await expect(page.getByRole('banner').getByText('Hillside Family Clinic')).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  await signIn(page, 'maria', 'sunflower-teapot-harbor');
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Maria' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Settings' })).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('status')).toContainText('You have signed out');
  await expectAccessible(page);

  // The session is gone on the server too: the home page sends us back to sign in.
  await page.goto('/home');
  await expect(page).toHaveURL(/\/$/);
});

test('the password can be shown and hidden', async ({ page }) => {
  await page.goto('/');
  const pw = page.getByLabel('Password', { exact: true });
  await pw.fill('sunflower-teapot-harbor');
  await expect(pw).toHaveAttribute('type', 'password');
  await expect(pw).toHaveAttribute('autocomplete', 'current-password');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(pw).toHaveAttribute('type', 'text');
  await page.getByRole('button', { name: 'Hide' }).click();
  await expect(pw).toHaveAttribute('type', 'password');
});

test('five wrong passwords show the calm locked-out message with the reset path', async ({ page }, info) => {
  const [user, password] = pick(info, ['sam', 'quiet-orchard-bicycle'], ['jchen', 'granite-maple-lantern']);
  await page.goto('/');
  const alert = page.getByRole('alert');
  for (let i = 1; i <= 5; i++) {
    await page.getByLabel('Username or email').fill(user);
    await page.getByLabel('Password', { exact: true }).fill(`not-the-right-one-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    if (i < 5) await expect(alert).toContainText('did not match our records');
  }
  await expect(alert).toContainText('Sign-in may be paused for now to keep the account safe');
  await expect(alert).toContainText('resetting your password');
  await expect(page.getByRole('link', { name: 'Forgot your password or username?' })).toBeVisible();
  await expectAccessible(page);

  // Even the right password does not get in while the pause lasts.
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  await expect(page).not.toHaveURL(/\/home$/);
  await expect(alert).toContainText('keep the account safe');

  await page.getByRole('link', { name: 'Forgot your password or username?' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeVisible();
  await expect(page.getByText('(503) 555-0100')).toBeVisible();
  await expectAccessible(page);
});

test('deep links load the app and survive a reload', async ({ page }) => {
  await page.goto('/forgot-password');
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeVisible();
  await expectAccessible(page);

  await signIn(page, 'maria', 'sunflower-teapot-harbor');
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await expectAccessible(page);

  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expectAccessible(page);
});

test('an account with a temporary password must choose its own first', async ({ page }, info) => {
  const user = pick(info, 'ana', 'leo');
  await signIn(page, user, 'welcome-temporary-2026');
  await expect(page).toHaveURL(/\/change-password$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Choose your own password' })).toBeVisible();
  await expectAccessible(page);

  // Nothing else opens until it is done.
  await page.goto('/home');
  await expect(page).toHaveURL(/\/change-password$/);

  // The sign-in just proved the temporary password: only the new one is asked for, twice.
  await expect(page.getByLabel('Temporary password', { exact: true })).toHaveCount(0);
  await expect(page.getByLabel('New password', { exact: true })).toBeVisible();
  await page.getByLabel('New password', { exact: true }).fill('short one');
  await expect(page.getByText('Use at least 15 characters')).toBeVisible();
  // The clinic's own name is among the first guesses: the hint says so while typing.
  await page.getByLabel('New password', { exact: true }).fill('hillside picnic by the lake');
  await expect(page.getByText('Leave out your name, username, email')).toBeVisible();
  await page.getByLabel('New password', { exact: true }).fill('pelican harbor sunrise walk');
  await expect(page.getByText('This password meets all the rules.')).toBeVisible();
  await page.getByLabel('Repeat new password', { exact: true }).fill('pelican harbor sunrise walk');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome, / })).toBeVisible();
});

test('staff sign in on the staff console, not on the patient portal', async ({ page }) => {
  await signIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await expect(page.getByRole('alert')).toContainText('did not match our records');

  await page.goto('/staff');
  await expect(page.getByRole('heading', { level: 1, name: 'Staff sign in' })).toBeVisible();
  await expectAccessible(page);
  await page.getByLabel('Username or email').fill('frontdesk');
  await page.getByLabel('Password', { exact: true }).fill('front-desk-coffee-morning');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/staff\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Hello, frontdesk' })).toBeVisible();
  await expectAccessible(page);
  await page.getByRole('button', { name: /frontdesk \(menu\)/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/staff$/);
});
