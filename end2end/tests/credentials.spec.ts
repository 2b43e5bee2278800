import { expect, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, signIn } from './helpers';

test('signed-in devices: see them and sign out everywhere else', async ({ page, browser }) => {
  // Another browser signed in as the same patient.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, 'maria', 'sunflower-teapot-harbor');
  await expect(otherPage.getByRole('heading', { level: 1, name: 'Welcome, Maria' })).toBeVisible();

  await signIn(page, 'maria', 'sunflower-teapot-harbor');
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Signed-in devices' })).toBeVisible();
  await expect(page.getByText('(this device)')).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await expect(page.getByRole('status').filter({ hasText: /We signed out \d+ other device/ })).toBeVisible();

  // The other browser is signed out at its next request.
  await otherPage.goto('/settings');
  await expect(otherPage.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await other.close();
});

test('common passwords: the list loads only when needed and the hint names the problem', async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('common-passwords')) fetched.push(r.url());
  });
  await signIn(page, 'maria', 'sunflower-teapot-harbor');
  await page.goto('/settings/password');
  await expect(page.getByRole('heading', { level: 1, name: 'Change password' })).toBeVisible();
  expect(fetched, 'not on the first page').toEqual([]);
  await page.getByLabel('New password', { exact: true }).fill('monkeymonkeymonkey');
  await expect(page.getByText('one of the passwords people use most')).toBeVisible();
  expect(fetched.length).toBe(1);
  await page.getByLabel('New password', { exact: true }).fill('lantern orchard bicycle spoon');
  await expect(page.getByText('This password meets all the rules.')).toBeVisible();
  await expectAccessible(page);
});
