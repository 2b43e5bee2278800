import { expect, test } from '@playwright/test';
import { expectAccessible, signIn } from './helpers';

test('after 13 quiet minutes a dialog offers to stay signed in; at 15 the portal signs out', async ({ page }) => {
  await page.clock.install();
  await signIn(page, 'maria', 'sunflower-teapot-harbor');
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Maria' })).toBeVisible();
  // The home page's own request counts as activity: let it finish before time jumps ahead.
  await expect(page.getByText(/Your last sign-in was|This is your first sign-in/)).toBeVisible();

  await page.clock.fastForward('13:01');
  const dialog = page.getByRole('alertdialog', { name: 'Are you still there?' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('you will be signed out in 2 minutes');
  await expect(dialog.getByRole('button', { name: 'Stay signed in' })).toBeFocused();
  await expectAccessible(page);

  await dialog.getByRole('button', { name: 'Stay signed in' }).click();
  await expect(dialog).toBeHidden();

  // Escape dismisses the warning too, which also means "stay".
  await page.clock.fastForward('13:01');
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  await page.clock.fastForward('15:01');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('status')).toContainText('signed you out after a period without activity');
  await expectAccessible(page);
  // The server session ended too.
  await page.goto('/home');
  await expect(page).toHaveURL(/\/$/);
});
