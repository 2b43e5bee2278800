import { expect, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, pick, signIn, DevMessage } from './helpers';

// Issue 13: the language on file decides the language of the clinic's messages.

test('choosing Español in Settings makes the next notice Spanish', async ({ page, baseURL }, info) => {
  const [user, password, mobile] = pick(info,
    ['nico', 'lantern-quarry-maple-drum', '+15035550151'],
    ['pilar', 'orchid-harbor-velvet-kite', '+15035550152']);
  const notices = async (): Promise<DevMessage[]> => {
    const r = await fetch(`${baseURL}/dev/outbox.json`);
    return ((await r.json()) as DevMessage[]).filter((m) => m.to === mobile && m.kind === 'password_notice');
  };
  const before = (await notices()).length;

  await signIn(page, user, password);
  await expect(page).toHaveURL(/\/home$/);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Language for messages' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Language for messages' })).toBeVisible();
  await expect(page.getByText('You have not chosen one yet')).toBeVisible();
  // Each choice is named in its own language, and marked with it.
  const spanish = page.getByRole('radio', { name: 'Español' });
  await expect(page.locator('label[for="language-es"]')).toHaveAttribute('lang', 'es');
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  // Saving with nothing chosen asks calmly.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toContainText('Please choose a language.');
  await spanish.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved. Your next messages will be in this language.' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText('');
  await page.reload();
  await expect(page.getByRole('radio', { name: 'Español' })).toBeChecked();

  // The next notice, about a password change made on this English page, is in Spanish.
  await page.goto('/settings/password');
  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByLabel('New password', { exact: true }).fill('marigold ferry lantern evening');
  await page.getByLabel('Repeat new password', { exact: true }).fill('marigold ferry lantern evening');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your password has been changed.')).toBeVisible();
  await expect.poll(async () => (await notices()).length, { timeout: 15_000 }).toBeGreaterThan(before);
  const notice = (await notices())[0];
  expect(notice.text).toContain('contraseña');
});

test('the sign-in page offers free language help in English and Spanish, each marked with its language', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  const help = page.locator('.language-help p');
  await expect(help).toHaveCount(2);
  await expect(help.nth(0)).toHaveAttribute('lang', 'en');
  await expect(help.nth(0)).toHaveText('Need help in another language? It is free. Call (503) 555-0100.');
  await expect(help.nth(1)).toHaveAttribute('lang', 'es');
  await expect(help.nth(1)).toHaveText('¿Necesita ayuda en otro idioma? Es gratis. Llame al (503) 555-0100.');
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
});
