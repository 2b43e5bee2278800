import { expect, Page, test } from '@playwright/test';
import { expectAccessible, expectNoHorizontalScroll, pick, signIn } from './helpers';

async function staffSignIn(page: Page, user: string, password: string) {
  await page.goto('/staff');
  await page.getByLabel('Username or email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Counts print-dialog requests instead of opening one (headless Chromium has no printer). */
async function watchPrinting(page: Page) {
  await page.addInitScript(() => {
    (window as unknown as { printed: number }).printed = 0;
    window.print = () => { (window as unknown as { printed: number }).printed += 1; };
  });
}

async function openChart(page: Page, query: string, name: RegExp) {
  await page.getByRole('link', { name: 'Patients' }).first().click();
  await page.getByLabel('Name, date of birth or MRN').fill(query);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Patient Portal / API Access' })).toBeVisible();
}

test('an admin resets a staff user\'s password, typing their own as the check', async ({ page }, info) => {
  const [user, display] = pick(info, ['nurse.amy', 'nurse.amy'], ['nurse.ben', 'nurse.ben']);
  const fresh = pick(info, 'harbor-lilac-meadow-stone', 'violet-pepper-canyon-road');
  await staffSignIn(page, 'admin', 'violet-canyon-river-stone');
  await page.getByRole('link', { name: 'Users' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await page.getByRole('button', { name: user, exact: true }).click();
  await expect(page.getByRole('heading', { level: 2, name: display })).toBeVisible();
  await page.getByLabel(`New password for ${user}`, { exact: true }).fill(fresh);
  await page.getByLabel('Repeat new password', { exact: true }).fill(fresh);
  // The user's password in "Your Password" is the seed's classic mistake: refused, calmly.
  await page.getByLabel('Your password', { exact: true }).fill('lagoon-pepper-violet-hill');
  await page.getByRole('button', { name: 'Reset password', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'current password was not correct' })).toBeVisible();
  await page.getByLabel('Your password', { exact: true }).fill('violet-canyon-river-stone');
  await page.getByRole('button', { name: 'Reset password', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${user} was signed out everywhere` })).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);

  // The user signs in with it and must choose their own at once.
  const other = await page.context().browser()!.newContext();
  const theirs = await other.newPage();
  await staffSignIn(theirs, user, fresh);
  await expect(theirs).toHaveURL(/\/staff\/change-password$/);
  await other.close();
});

test('an admin resets a staff user\'s two-step verification, typing their own password as the check', async ({ page }, info) => {
  const user = pick(info, 'nurse.amy', 'nurse.ben');
  await staffSignIn(page, 'admin', 'violet-canyon-river-stone');
  await page.getByRole('link', { name: 'Users' }).first().click();
  await page.getByRole('button', { name: user, exact: true }).click();
  await expect(page.getByRole('heading', { level: 3, name: 'Two-step verification' })).toBeVisible();
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Reset two-step verification' }) });
  await form.getByRole('button', { name: 'Reset two-step verification' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Type your own password' })).toBeVisible();
  await form.getByLabel('Your password, to confirm', { exact: true }).fill('not-the-admins-password');
  await form.getByRole('button', { name: 'Reset two-step verification' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'current password was not correct' })).toBeVisible();
  await form.getByLabel('Your password, to confirm', { exact: true }).fill('violet-canyon-river-stone');
  await form.getByRole('button', { name: 'Reset two-step verification' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${user} was signed out everywhere and has no second step now` })).toBeVisible();
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
});

test('staff reset a patient\'s portal password from the chart after confirming; the letter prints and the email is sent', async ({ page }, info) => {
  const [user, query, name, patient, email] = pick(info,
    ['tom', 'Baker', /Baker, Tom/, 'Tom Baker', 't•••@example.com'],
    ['uma', 'Patel', /Patel, Uma/, 'Uma Patel', 'u•••@example.com']);
  await watchPrinting(page);
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, query, name);
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
  // Nothing that replaces a password is one click away: the form opens under Credentials.
  await expect(page.getByRole('heading', { level: 3, name: 'Credentials' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save and print letter' })).toBeHidden();
  const reset = page.getByRole('button', { name: 'Reset', exact: true });
  await expect(reset).toHaveAttribute('aria-expanded', 'false');
  await reset.click();
  await expect(reset).toHaveAttribute('aria-expanded', 'true');
  await page.getByLabel('Use a password CareKey makes (easy to read aloud)').check();
  await page.getByRole('button', { name: 'Save and print letter' }).click();
  // It asks first, naming the patient, with the safe answer focused.
  const confirm = page.getByRole('alertdialog', { name: `Replace ${patient}'s password?` });
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText(`The password ${patient} uses now stops working at once`);
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await expectAccessible(page);
  await confirm.getByRole('button', { name: 'Confirm' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Credentials letter' })).toBeVisible();
  const letter = page.getByRole('article', { name: 'Credentials letter' });
  await expect(letter.getByText(user, { exact: true })).toBeVisible();
  const secret = letter.locator('dd.mono').nth(1);
  const temp = (await secret.textContent())!.trim();
  expect(temp).toMatch(/^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}-\d{2}$/);
  // On one line (a break after a hyphen reads as part of the password), in a monospace font.
  const lines = await secret.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.bottom))).size;
  });
  expect(lines).toBe(1);
  expect(await secret.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/);
  await expectNoHorizontalScroll(page);
  await expect.poll(() => page.evaluate(() => (window as unknown as { printed: number }).printed)).toBeGreaterThan(0);
  // The email status comes from the outbox and turns to "sent" once the SMTP server took it.
  await expect(page.getByRole('status').filter({ hasText: `An email with this news was sent to ${email}` }))
    .toBeVisible({ timeout: 20_000 });
  await expectAccessible(page);

  // The patient signs in with it and is made to choose their own.
  const other = await page.context().browser()!.newContext();
  const patientPage = await other.newPage();
  await signIn(patientPage, user, temp);
  await expect(patientPage).toHaveURL(/\/change-password$/);
  await expect(patientPage.getByRole('heading', { level: 1, name: 'Choose your own password' })).toBeVisible();
  await other.close();
});

test('a reset can be called off: Cancel and Escape leave the password as it was', async ({ page }, info) => {
  const [user, password, query, name, patient] = pick(info,
    ['yara', 'meadow-lantern-copper-fig', 'Lindqvist', /Lindqvist, Yara/, 'Yara Lindqvist'],
    ['zeke', 'harbor-thistle-pepper-oak', 'Okafor', /Okafor, Zeke/, 'Zeke Okafor']);
  await watchPrinting(page);
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, query, name);
  const reset = page.getByRole('button', { name: 'Reset', exact: true });
  const save = page.getByRole('button', { name: 'Save and print letter' });
  await reset.click();
  await save.click();
  const confirm = page.getByRole('alertdialog', { name: `Replace ${patient}'s password?` });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(save).toBeFocused();
  // Escape is a cancel too; a changed username is named before it happens.
  await page.getByLabel('Username', { exact: true }).fill(`${user}.new`);
  await page.getByLabel(/No password: print an activation letter/).check();
  await save.click();
  const activation = page.getByRole('alertdialog', { name: `Print an activation letter for ${patient}?` });
  await expect(activation).toContainText(`Their username changes from ${user} to ${user}.new.`);
  await page.keyboard.press('Escape');
  await expect(activation).toBeHidden();
  // The form's own Cancel closes it and gives focus back to Reset.
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(save).toBeHidden();
  await expect(reset).toBeFocused();
  await expect(reset).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByRole('heading', { level: 1, name: 'Credentials letter' })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(0);
  await expect(page.getByText(user, { exact: true })).toBeVisible();

  const other = await page.context().browser()!.newContext();
  const patientPage = await other.newPage();
  await signIn(patientPage, user, password);
  await expect(patientPage.getByRole('heading', { level: 1, name: /^Welcome, / })).toBeVisible();
  await other.close();
});

test('staff unlock a locked patient', async ({ page }, info) => {
  const [user, password, query, name] = pick(info,
    ['vic', 'amber-violin-orchard-rain', 'Hale', /Hale, Victor/],
    ['wes', 'thistle-copper-window-bay', 'Stone', /Stone, Wesley/]);
  // Five wrong passwords pause the account.
  const other = await page.context().browser()!.newContext();
  const patient = await other.newPage();
  for (let i = 0; i < 5; i++) {
    await signIn(patient, user, 'not-the-right-password');
    await expect(patient.getByRole('alert')).toBeVisible();
  }
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, query, name);
  await expect(page.getByText(/Paused after failed sign-ins until/)).toBeVisible();
  await page.getByText('Recent failed sign-ins').click();
  await expect(page.getByText(/from 127\.0\.0\.1/).first()).toBeVisible();
  await page.getByRole('button', { name: 'Unlock account' }).click();
  await expect(page.getByText('Active', { exact: true })).toBeVisible();
  await signIn(patient, user, password);
  await expect(patient.getByRole('heading', { level: 1, name: /^Welcome, / })).toBeVisible();
  await other.close();
});

test('activation letter: a new patient chooses their own password with the code', async ({ page }, info) => {
  const [mrn, first, last, username] = pick(info,
    ['900001', 'Iris', 'Novak', 'inovak'],
    ['900002', 'Jonas', 'Berg', 'jberg']);
  await watchPrinting(page);
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await page.getByRole('link', { name: 'Patients' }).first().click();
  await page.getByRole('link', { name: 'Add a patient' }).click();
  await page.getByLabel('Medical record number (MRN)').fill(mrn);
  await page.getByLabel('First name').fill(first);
  await page.getByLabel('Last name').fill(last);
  await page.getByLabel('Date of birth').fill('2030-01-01');
  await page.getByLabel('ZIP code').fill('97201');
  await page.getByRole('button', { name: 'Add patient' }).click();
  await expect(page.getByRole('alert')).toContainText('the date of birth');
  await page.getByLabel('Date of birth').fill('1984-08-19');
  await page.getByRole('button', { name: 'Add patient' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `${first} ${last}` })).toBeVisible();
  await expect(page.getByText('This patient has no portal account yet.')).toBeVisible();
  await expect(page.getByLabel('Username', { exact: true })).toHaveValue(username);
  await page.getByLabel(/No password: print an activation letter/).check();
  await page.getByRole('button', { name: 'Save and print letter' }).click();
  const letter = page.getByRole('article', { name: 'Credentials letter' });
  await expect(letter.getByText('Activation code', { exact: true })).toBeVisible();
  await expect(letter.getByText('Temporary password', { exact: true })).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: 'No email address is on file' })).toBeVisible();
  const code = (await letter.locator('dd.mono').nth(1).textContent())!.trim();
  expect(code).toMatch(/^\d{8}$/);

  const other = await page.context().browser()!.newContext();
  const patient = await other.newPage();
  await patient.goto('/forgot-password');
  await patient.getByRole('button', { name: 'I have a code from the clinic' }).click();
  await expect(patient.getByRole('heading', { level: 1, name: 'Use a code from the clinic' })).toBeFocused();
  await patient.getByLabel('Username or email', { exact: true }).fill(username);
  await patient.getByLabel('Code', { exact: true }).fill(code);
  await patient.getByRole('button', { name: 'Continue' }).click();
  const pw = pick(info, 'juniper kettle lantern moss', 'copper meadow violin tide');
  await patient.getByLabel('New password', { exact: true }).fill(pw);
  await patient.getByLabel('Repeat new password', { exact: true }).fill(pw);
  await expectAccessible(patient);
  await patient.getByRole('button', { name: 'Save new password' }).click();
  await expect(patient.getByRole('heading', { level: 1, name: 'Your password has been changed' })).toBeVisible();
  await signIn(patient, username, pw);
  await expect(patient.getByRole('heading', { level: 1, name: `Welcome, ${first}` })).toBeVisible();
  await other.close();
});

test('Recent messages show a send at once and follow it to "sent" without a reload', async ({ page }, info) => {
  const [query, name, masked] = pick(info,
    ['Lindqvist', /Lindqvist, Yara/, 'y•••@example.com'],
    ['Okafor', /Okafor, Zeke/, 'z•••@example.com']);
  let asked = 0;
  page.on('request', (r) => { if (/\/api\/(patient_chart|chart_deliveries)/.test(r.url())) asked += 1; });
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, query, name);
  await page.getByRole('button', { name: 'Email a reset link' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Sent to ${masked}` })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: `${masked} (email)` });
  await expect(row).toHaveCount(1);
  await expect(row.getByRole('cell', { name: 'sent', exact: true })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('No messages yet.')).toHaveCount(0);
  await expectAccessible(page);
  // Nothing is in flight any more, so the chart stops asking.
  const settled = asked;
  await page.waitForTimeout(7_000);
  expect(asked).toBe(settled);
});

test('Recent messages are asked for again while a message waits, and no longer once it is done or the chart is left', async ({ page }, info) => {
  test.setTimeout(90_000);
  const [query, name, masked] = pick(info,
    ['Lindqvist', /Lindqvist, Yara/, '•••-•••-0181'],
    ['Okafor', /Okafor, Zeke/, '•••-•••-0182']);
  // The outbox here sends within a second; holding every message at "waiting" in the answers
  // shows what the chart does while a real one waits (an SMTP server down, a slow provider).
  let hold = true;
  let asked = 0;
  // The chart opens with patient_chart and refreshes its list with chart_deliveries (a
  // background call that keeps no session alive).
  await page.route(/\/api\/(patient_chart|chart_deliveries)/, async (route) => {
    asked += 1;
    const response = await route.fetch();
    const body = await response.json();
    const rows = Array.isArray(body) ? body : body?.deliveries;
    if (hold && Array.isArray(rows)) {
      for (const d of rows) d.status = 'Queued';
    }
    await route.fulfill({ response, json: body });
  });
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, query, name);
  await page.getByRole('button', { name: 'Text a code' }).click();
  const row = page.getByRole('row').filter({ hasText: `${masked} (sms)` }).first();
  await expect(row.getByRole('cell', { name: 'waiting to be sent' })).toBeVisible();
  const first = asked;
  await expect.poll(() => asked, { timeout: 10_000 }).toBeGreaterThanOrEqual(first + 2);

  // Delivered: the next answer says so, and the asking stops.
  hold = false;
  await expect(row.getByRole('cell', { name: 'sent', exact: true })).toBeVisible({ timeout: 10_000 });
  const done = asked;
  await page.waitForTimeout(7_000);
  expect(asked).toBe(done);

  // In flight again, then the chart is left: nothing asks on behalf of a page that is gone.
  hold = true;
  await page.getByRole('button', { name: 'Text a code' }).click();
  await expect(page.getByRole('cell', { name: 'waiting to be sent' }).first()).toBeVisible();
  await page.getByRole('link', { name: 'Patients' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Patients' })).toBeVisible();
  const left = asked;
  await page.waitForTimeout(7_000);
  expect(asked).toBe(left);
});

test('a search for one patient says "One patient found"', async ({ page }) => {
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await page.getByRole('link', { name: 'Patients' }).first().click();
  await page.getByLabel('Name, date of birth or MRN').fill('Baker');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'One patient found.' })).toBeVisible();
  await expect(page.getByText('1 patients found')).toHaveCount(0);
  await expectAccessible(page);
});

test('the user menu is a menu button: arrow keys move, Escape, a click elsewhere and a new page close it', async ({ page }) => {
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await expect(page.getByRole('heading', { level: 1, name: 'Hello, frontdesk' })).toBeVisible();
  const button = page.getByRole('button', { name: 'frontdesk (menu)' });
  const menu = page.getByRole('menu', { name: 'frontdesk (menu)' });
  const change = menu.getByRole('menuitem', { name: 'Change password' });
  const signOut = menu.getByRole('menuitem', { name: 'Sign out' });
  await expect(button).toHaveAttribute('aria-haspopup', 'menu');
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect(menu).toBeHidden();

  await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(change).toBeFocused();
  await expectAccessible(page);
  await page.keyboard.press('ArrowDown');
  await expect(signOut).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(change).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(signOut).toBeFocused();
  await page.keyboard.press('Home');
  await expect(change).toBeFocused();
  await page.keyboard.press('End');
  await expect(signOut).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  // From the keyboard: ArrowUp opens it on the last item.
  await page.keyboard.press('ArrowUp');
  await expect(signOut).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();

  // A click elsewhere closes it.
  await button.click();
  await expect(menu).toBeVisible();
  await page.getByText('CareKey staff console').click();
  await expect(menu).toBeHidden();

  // A new page closes it: through the menu, and with the browser's Back button.
  await button.click();
  await change.click();
  await expect(page.getByRole('heading', { level: 1, name: 'Change password' })).toBeVisible();
  await expect(menu).toBeHidden();
  await button.click();
  await expect(menu).toBeVisible();
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1, name: 'Hello, frontdesk' })).toBeVisible();
  await expect(menu).toBeHidden();
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  await button.click();
  await signOut.click();
  await expect(page).toHaveURL(/\/staff$/);
});

test('"Can receive text messages" is unticked and unavailable on a chart with no phone', async ({ page }, info) => {
  const [query, name] = pick(info, ['Baker', /Baker, Tom/], ['Patel', /Patel, Uma/]);
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, query, name);
  const texts = page.getByLabel('This phone can receive text messages (a mobile)');
  await expect(page.getByLabel('Phone number')).toHaveValue('');
  await expect(texts).not.toBeChecked();
  await expect(texts).toBeDisabled();
  await expect(page.getByText('Enter a phone number first')).toBeVisible();
  await expectAccessible(page);
  // With a number typed it can be ticked; it starts unticked, so nothing claims a mobile.
  await page.getByLabel('Phone number').fill('(503) 555-0199');
  await expect(texts).toBeEnabled();
  await expect(texts).not.toBeChecked();
  await texts.check();
  await page.getByLabel('Phone number').fill('');
  await expect(texts).not.toBeChecked();
  await expect(texts).toBeDisabled();
});

test('the front desk sees and sets the language a patient is written to in', async ({ page }, info) => {
  // One project changes it and changes it back; the other only reads it.
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, 'Ramírez', /Ramírez, Lucía/);
  await expect(page.getByRole('heading', { level: 2, name: 'Language for messages' })).toBeVisible();
  await expect(page.getByText('Emails, texts and calls go to this patient in Español.')).toBeVisible();
  await expect(page.getByLabel('Language', { exact: true })).toHaveValue('es');
  await expectAccessible(page);
  test.skip(info.project.name !== 'desktop', 'the desktop project changes it');
  await page.getByLabel('Language', { exact: true }).selectOption('en');
  await page.getByRole('button', { name: 'Save language' }).click();
  await expect(page.getByText('Emails, texts and calls go to this patient in English.')).toBeVisible();
  await page.getByLabel('Language', { exact: true }).selectOption('es');
  await page.getByRole('button', { name: 'Save language' }).click();
  await expect(page.getByText('Emails, texts and calls go to this patient in Español.')).toBeVisible();
});

test('Lucía\'s activation letter prints in Spanish, with the language help, around an English screen', async ({ page }) => {
  await watchPrinting(page);
  await staffSignIn(page, 'frontdesk', 'front-desk-coffee-morning');
  await openChart(page, 'Ramírez', /Ramírez, Lucía/);
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  // An activation letter leaves her password working until she uses the code.
  await page.getByLabel(/No password: print an activation letter/).check();
  await page.getByRole('button', { name: 'Save and print letter' }).click();
  await page.getByRole('alertdialog', { name: 'Print an activation letter for Lucía Ramírez?' })
    .getByRole('button', { name: 'Confirm' }).click();

  // The staff screen stays English; the printed article is Spanish, and says so.
  await expect(page.getByRole('heading', { level: 1, name: 'Credentials letter' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Back to the chart' })).toBeVisible();
  const letter = page.getByRole('article', { name: 'Credentials letter' });
  await expect(letter).toHaveAttribute('lang', 'es');
  await expect(letter.getByText('Estimado(a) Lucía Ramírez:', { exact: true })).toBeVisible();
  await expect(letter.getByText('Código de activación', { exact: true })).toBeVisible();
  await expect(letter.getByText('Activation code', { exact: true })).toHaveCount(0);
  await expect(letter).toContainText('Elija "¿Olvidó su contraseña o su nombre de usuario?" y luego "Tengo un código de la clínica".');
  await expect(letter).toContainText('Guarde esta carta en un lugar privado');
  // The language help at its foot: English then Spanish, each marked with its language.
  const help = letter.locator('.language-help p');
  await expect(help).toHaveCount(2);
  await expect(help.nth(0)).toHaveAttribute('lang', 'en');
  await expect(help.nth(0)).toHaveText('Need help in another language? It is free. Call (503) 555-0100.');
  await expect(help.nth(1)).toHaveAttribute('lang', 'es');
  await expect(help.nth(1)).toHaveText('¿Necesita ayuda en otro idioma? Es gratis. Llame al (503) 555-0100.');
  await expect.poll(() => page.evaluate(() => (window as unknown as { printed: number }).printed)).toBeGreaterThan(0);
  await expectAccessible(page);
  await expectNoHorizontalScroll(page);
});
