import { expect, Page, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, mailCount, pick, signIn, waitForMail } from './helpers';

async function staffSignIn(page: Page, user: string, password: string) {
  await page.goto('/staff');
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('"this was not me" in a notice signs out everywhere and tells the clinic', async ({ page, context, browser }, info) => {
  const [user, pw, email, mrn, name] = pick(
    info,
    ['quinn', 'maple-violin-orchard-tide', 'quinn.abernathy@example.com', '100034', /Abernathy, Quinn/],
    ['reza', 'copper-lagoon-thistle-bell', 'reza.karimi@example.com', '100035', /Karimi, Reza/],
  );
  // Someone who knows the password changes it.
  await signIn(page, user, pw);
  await expect(page).toHaveURL(/\/home$/);
  const seen = await mailCount(email);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Change password' }).click();
  const fresh = pick(info, 'orchard-lantern-quill-harbor', 'thistle-canyon-violin-moss');
  await page.getByLabel('Current password', { exact: true }).fill(pw);
  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('Repeat new password', { exact: true }).fill(fresh);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your password has been changed.')).toBeVisible();

  // The notice carries the link.
  const notice = await waitForMail(email, seen);
  expect(notice.subject).toContain('password was changed');
  const link = /(http:\/\/\S+\/not-me#\S+)/.exec(notice.text)![1];
  expect(notice.html).toContain('This was not me');

  // A mail scanner opens it first: nothing happens until Continue.
  const scanner = await context.newPage();
  await scanner.goto(link);
  await expect(scanner.getByRole('button', { name: 'Continue' })).toBeVisible();
  await scanner.close();
  await page.goto('/home');
  await expect(page.getByRole('heading', { level: 1, name: /Welcome/ })).toBeVisible();

  // The real owner, in another browser, reports it.
  const own = await browser.newContext({ viewport: page.viewportSize()! });
  const mine = await own.newPage();
  await mine.goto(link);
  await expect(mine.getByRole('heading', { level: 1, name: 'Was this not you?' })).toBeFocused();
  expect(mine.url()).not.toContain('#');
  await expectAccessible(mine);
  await expectNoHorizontalScroll(mine);
  await mine.getByRole('button', { name: 'Continue' }).click();
  await expect(mine.getByRole('heading', { level: 1, name: 'Thank you. Your account is safer now.' })).toBeFocused();
  await expect(mine.getByText(/^Call .+\.$/)).toBeVisible();
  await expectAccessible(mine);
  await own.close();

  // The other browser is signed out.
  await page.reload();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByLabel('Username or email')).toBeVisible();

  // The clinic sees it first thing in the chart, and marks it handled once they have spoken.
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await page.getByRole('link', { name: 'Patients' }).first().click();
  await page.getByLabel('Name, date of birth or MRN').fill(mrn);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('link', { name }).click();
  const widget = page.getByRole('region', { name: 'Patient Portal / API Access' });
  await expect(widget.getByText('Patient reported unrecognised activity')).toBeVisible();
  await expectAccessible(page);
  await widget.getByRole('button', { name: 'Mark as handled' }).click();
  await expect(widget.getByText('Patient reported unrecognised activity')).toHaveCount(0);
});
