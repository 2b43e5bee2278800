import { expect, Page, test } from '@playwright/test';
import { expectOnlyLanguage, expectMessageIn, Lang, messages, msg, pages, pattern } from './catalogue';
import { codeIn, expectAccessible, expectNoHorizontalScroll, mailCount, pick, waitForMail } from './helpers';

// Issue 13: the pages in the patient's language, chosen by the browser or by the switch on
// every page, and the emails that follow in it.

const es = (id: string, args?: Record<string, string>) => msg(pages.es, id, args);
const en = (id: string, args?: Record<string, string>) => msg(pages.en, id, args);

// Patients with nothing on file about language: the page's language decides their messages.
const people = {
  phone: { user: 'elena', first: 'Elena', email: 'elena.castro@example.com', masked: 'e•••@example.com' },
  desktop: { user: 'tomas', first: 'Tomás', email: 'tomas.herrera@example.com', masked: 't•••@example.com' },
};

/** The checks every page in a language gets: its language only, axe, and a 360 px fit. */
async function checkPage(page: Page, lang: Lang) {
  await expectOnlyLanguage(page, lang);
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
}

test.describe('a browser that prefers Spanish', () => {
  test.use({ locale: 'es-US' });

  test('forgot password by emailed code, entirely in Spanish, email included', async ({ page }, info) => {
    const p = pick(info, people.phone, people.desktop);
    const seen = await mailCount(p.email);
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: es('sign-in-title') })).toBeVisible();
    await checkPage(page, 'es');
    // The other language is one link away, named in its own language.
    const english = page.getByRole('link', { name: 'English' });
    await expect(english).toHaveAttribute('lang', 'en');
    await expect(english).toHaveAttribute('hreflang', 'en');

    await page.getByRole('link', { name: es('sign-in-forgot-password') }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('forgot-title') })).toBeFocused();
    await page.getByLabel(es('sign-in-identifier')).fill(p.user);
    await page.getByLabel(es('recover-channel-email-code')).check();
    await checkPage(page, 'es');
    await page.getByRole('button', { name: es('recover-send'), exact: true }).click();

    await expect(page.getByRole('heading', { level: 1, name: es('recover-check-email') })).toBeVisible();
    await checkPage(page, 'es');
    const shown = await page.getByText(pattern(pages.es, 'recover-reference-email')).textContent();
    const reference = /([A-Z0-9]{4})/.exec(shown ?? '')![1];

    // The email, from the real SMTP server, is in Spanish too: no account language on file,
    // so the page's language (sent with the request) chose it.
    const mail = await waitForMail(p.email, seen);
    expect(mail.subject).toBe(msg(messages.es, 'reset-code-subject', { reference }));
    expect(mail.text).toContain(msg(messages.es, 'reset-code-where'));
    expectMessageIn(`${mail.subject}\n${mail.text}`, 'es');

    await page.getByLabel(es('recover-code'), { exact: true }).fill(codeIn(mail.text));
    await page.getByRole('button', { name: es('recover-continue') }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('recover-new-title') })).toBeVisible();
    await expect(page.getByText(es('recover-confirmed-code', { contact: p.masked }))).toBeVisible();
    const fresh = 'girasol-cometa-naranja-rio';
    await page.getByLabel(es('change-new-password'), { exact: true }).fill(fresh);
    await expect(page.getByText(es('hint-all-met'))).toBeVisible();
    await page.getByLabel(es('change-repeat-password'), { exact: true }).fill(fresh);
    await checkPage(page, 'es');
    await page.getByRole('button', { name: es('recover-save') }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('recover-done-title') })).toBeVisible();
    await checkPage(page, 'es');

    // The notice that the password changed follows in Spanish.
    const notice = await waitForMail(p.email, seen + 1);
    expect(notice.subject).toBe(msg(messages.es, 'password-changed-subject'));
    expectMessageIn(`${notice.subject}\n${notice.text}`, 'es');

    await page.getByRole('link', { name: es('recover-done-sign-in') }).click();
    await page.getByLabel(es('sign-in-identifier')).fill(p.user);
    await page.getByLabel(es('sign-in-password'), { exact: true }).fill(fresh);
    await page.getByRole('button', { name: es('sign-in-submit') }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('home-greeting', { name: p.first }) })).toBeVisible();
    await checkPage(page, 'es');
  });

  test('every patient page is Spanish, with no English left', async ({ page }) => {
    await walk(page, 'es');
  });
});

test.describe('a browser that prefers English', () => {
  test.use({ locale: 'en-US' });

  test('every patient page is English, with no Spanish left', async ({ page }) => {
    await walk(page, 'en');
  });

  test('switching language mid-flow keeps the step and what was typed', async ({ page }, info) => {
    const p = pick(info, people.phone, people.desktop);
    const seen = await mailCount(p.email);
    await page.goto('/forgot-password');
    await page.getByLabel(en('sign-in-identifier')).fill(p.user);
    await page.getByLabel(en('recover-channel-email-code')).check();

    await page.getByRole('link', { name: 'Español' }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('forgot-title') })).toBeVisible();
    await expect(page.getByLabel(es('sign-in-identifier'))).toHaveValue(p.user);
    await expect(page.getByLabel(es('recover-channel-email-code'))).toBeChecked();
    // Focus stays on the switch (now "English"), where the keyboard user left it.
    await expect(page.getByRole('link', { name: 'English' })).toBeFocused();
    await checkPage(page, 'es');

    await page.getByRole('button', { name: es('recover-send'), exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('recover-check-email') })).toBeVisible();
    const mail = await waitForMail(p.email, seen);
    // The request was made from the Spanish page, so the code came in Spanish.
    expectMessageIn(mail.text, 'es');
    const code = codeIn(mail.text);
    await page.getByLabel(es('recover-code'), { exact: true }).fill(code.slice(0, 4));

    await page.getByRole('link', { name: 'English' }).click();
    await expect(page.getByRole('heading', { level: 1, name: en('recover-check-email') })).toBeVisible();
    await expect(page.getByLabel(en('recover-code'), { exact: true })).toHaveValue(code.slice(0, 4));
    await checkPage(page, 'en');
    await page.getByLabel(en('recover-code'), { exact: true }).fill(code);
    await page.getByRole('button', { name: en('recover-continue') }).click();
    await expect(page.getByRole('heading', { level: 1, name: en('recover-new-title') })).toBeVisible();
    await page.getByLabel(en('change-new-password'), { exact: true }).fill('half typed words here');

    await page.getByRole('link', { name: 'Español' }).click();
    await expect(page.getByRole('heading', { level: 1, name: es('recover-new-title') })).toBeVisible();
    await expect(page.getByLabel(es('change-new-password'), { exact: true })).toHaveValue('half typed words here');
    await checkPage(page, 'es');

    // The choice is remembered on this device: another page, and a reload, stay Spanish.
    await page.goto('/forgot-username');
    await expect(page.getByRole('heading', { level: 1, name: es('username-title') })).toBeVisible();
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('lang', 'es');
    await page.getByRole('link', { name: 'English' }).click();
    await expect(page.getByRole('heading', { level: 1, name: en('username-title') })).toBeVisible();
  });
});

/** Every patient page, signed out and signed in, in one language. */
async function walk(page: Page, lang: Lang) {
  const say = (id: string, args?: Record<string, string>) => msg(pages[lang], id, args);
  const heading = (id: string) => page.getByRole('heading', { level: 1, name: say(id) });

  await page.goto('/');
  await expect(heading('sign-in-title')).toBeVisible();
  await checkPage(page, lang);
  // A failed sign-in: the help that follows is in the language too. Nobody has this name.
  await page.getByLabel(say('sign-in-identifier')).fill('nadie-por-aqui');
  await page.getByLabel(say('sign-in-password'), { exact: true }).fill('no-es-la-contrasena');
  await page.getByRole('button', { name: say('sign-in-submit') }).click();
  await expect(page.getByRole('link', { name: say('sign-in-reset-link') })).toBeVisible();
  await checkPage(page, lang);

  await page.goto('/forgot-password');
  await expect(heading('forgot-title')).toBeVisible();
  await checkPage(page, lang);
  await page.getByRole('button', { name: say('recover-have-clinic-code') }).click();
  await expect(heading('recover-clinic-code-title')).toBeVisible();
  await checkPage(page, lang);

  await page.goto('/forgot-username');
  await expect(heading('username-title')).toBeVisible();
  await page.getByLabel(say('username-by-demographics')).check();
  await checkPage(page, lang);

  await page.goto('/reset');
  await expect(heading('recover-link-problem-title')).toBeVisible();
  await checkPage(page, lang);

  await page.goto('/no-such-page');
  await expect(heading('not-found-title')).toBeVisible();
  await checkPage(page, lang);

  // Signed in (lucía's account changes nothing here; the page language is this device's).
  await page.goto('/');
  await page.getByLabel(say('sign-in-identifier')).fill('lucia');
  await page.getByLabel(say('sign-in-password'), { exact: true }).fill('girasol-tetera-puerto-luna');
  await page.getByRole('button', { name: say('sign-in-submit') }).click();
  await expect(page.getByRole('heading', { level: 1, name: say('home-greeting', { name: 'Lucía' }) })).toBeVisible();
  await checkPage(page, lang);
  for (const [path, title] of [
    ['/settings', 'settings-title'],
    ['/settings/password', 'change-title'],
    ['/settings/username', 'username-change-title'],
    ['/settings/contact', 'contact-title'],
    ['/settings/language', 'language-title'],
  ]) {
    await page.goto(path);
    await expect(heading(title)).toBeVisible();
    await checkPage(page, lang);
  }
  await page.goto('/home');
  await page.getByRole('button', { name: say('sign-out') }).click();
  await expect(heading('sign-in-title')).toBeVisible();
}
