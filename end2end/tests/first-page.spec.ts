import { expect, type Page, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll } from './helpers';

// Issue 15, item 4: the server draws the sign-in page into the page it sends, so the heading
// and the form are there before the app's code arrives; the app takes the page over without
// losing what was typed, where the cursor was, or a press of Enter.

/** Holds the app's code back until the returned function is called. */
async function holdTheApp(page: Page): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  await page.route(/\.wasm$/, async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

const started = (page: Page) => page.evaluate(() => document.documentElement.getAttribute('data-app'));

test('the sign-in page is there before the app, and what was typed into it survives the app starting', async ({ page }) => {
  const release = await holdTheApp(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
  await expect(page.getByRole('banner').getByText('Hillside Family Clinic')).toBeVisible();
  await expect(page).toHaveTitle('Sign in to your patient portal');
  expect(await started(page)).toBeNull();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  const name = page.getByLabel('Username or email');
  const password = page.getByLabel('Password', { exact: true });
  await name.pressSequentially('maria');
  await password.click();
  await page.keyboard.type('sunflower-');
  // "Show", pressed before the app ran, still shows the password once it runs.
  await page.getByRole('button', { name: 'Show' }).click();
  await password.click();
  await page.keyboard.press('End');
  expect(await started(page)).toBeNull();
  const where = async () => {
    const boxes = await Promise.all([page.getByRole('heading', { level: 1 }), name, password]
      .map((l) => l.boundingBox()));
    // (Not the password field's width: "Show", pressed before, reads "Hide" once the app runs.)
    return boxes.map((b) => [b?.x, b?.y, b?.height]);
  };
  const drawn = await where();

  release();
  await expect(page.locator('html[data-app="started"]')).toHaveCount(1);
  // Nothing moved: the heading and both fields are where the drawn page had them.
  expect(await where()).toEqual(drawn);
  // The cursor stayed in the password field: the rest of it goes on where it was.
  await expect(password).toBeFocused();
  await page.keyboard.type('teapot-harbor');
  await expect(name).toHaveValue('maria');
  await expect(password).toHaveValue('sunflower-teapot-harbor');
  await expect(password).toHaveAttribute('type', 'text');
  // One page, not the drawn one beside the app's.
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
  await expect(page.locator('#first-page')).toHaveCount(0);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Maria' })).toBeVisible();
});

test('Enter pressed before the app has loaded signs in once it has, and the password never goes in the address', async ({ page }) => {
  const addresses: string[] = [];
  page.on('request', (r) => addresses.push(r.url()));
  const release = await holdTheApp(page);
  await page.goto('/');
  await page.getByLabel('Username or email').fill('maria');
  await page.getByLabel('Password', { exact: true }).fill('sunflower-teapot-harbor');
  await page.getByLabel('Password', { exact: true }).press('Enter');
  await expect(page).toHaveURL(/\/$/);
  expect(await started(page)).toBeNull();
  release();
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Maria' })).toBeVisible();
  expect(addresses.filter((a) => a.includes('sunflower'))).toEqual([]);
});

test.describe('in Spanish', () => {
  test.use({ locale: 'es-US' });

  test('a Spanish browser gets the drawn page in Spanish, and the app keeps it', async ({ page }) => {
    const release = await holdTheApp(page);
    await page.goto('/');
    const heading = page.getByRole('heading', { level: 1, name: 'Entre a su portal de pacientes' });
    await expect(heading).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'es');
    await expect(page.getByRole('link', { name: 'English' })).toBeVisible();
    await expectAccessible(page);
    await page.getByLabel('Nombre de usuario o correo electrónico').fill('elena');
    release();
    await expect(page.locator('html[data-app="started"]')).toHaveCount(1);
    await expect(heading).toBeVisible();
    await expect(page.getByLabel('Nombre de usuario o correo electrónico')).toHaveValue('elena');
    await expect(page.locator('html')).toHaveAttribute('lang', 'es');
  });

  test('a device that chose English gets the drawn page in English next time', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('link', { name: 'English' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
    const release = await holdTheApp(page);
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    expect(await started(page)).toBeNull();
    release();
  });
});

test('a browser without JavaScript is not shown a form it cannot send', async ({ browser }) => {
  // (Chromium with scripts turned off by Playwright still parses <noscript> as text, so its
  // message is not what this test reads; the page's CSS is.)
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.locator('#first-page')).toHaveCount(1);
  await expect(page.getByLabel('Username or email')).toBeHidden();
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeHidden();
  await context.close();
});
