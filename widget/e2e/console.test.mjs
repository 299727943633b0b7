// Browser tests of the staff console: Debian's Chromium, driven by playwright-core, against a
// real `citybot serve`; axe-core checks WCAG 2.1 A/AA on every page and state, and the sign-in
// is done with the keyboard alone. Run with `make test-browser`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { artifacts, axe, launchChromium, startCitybot, tabTo } from './citybot.mjs';

let bot, browser;
before(async () => {
  await mkdir(artifacts, { recursive: true });
  bot = await startCitybot();
  await bot.cli(['users', 'add', '--town', 'musterstadt', '--email', 'erika@musterstadt.example', '--name', 'Erika Muster',
    '--role', 'agent', '--password-stdin'], 'richtig-langes-Passwort\n');
  await bot.cli(['users', 'add', '--town', 'musterstadt', '--email', 'erika@musterstadt.example', '--name', 'Erika Muster',
    '--role', 'reviewer']);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await bot?.stop();
});



test('sign in and out with the keyboard alone, a wrong password, axe on every state', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(bot.base + '/console/');
  assert.equal(new URL(page.url()).pathname, '/console/login', 'the console sends a stranger to the login');
  assert.equal(await page.locator('label[for=email]').textContent(), 'E-Mail');
  assert.equal(await page.locator('label[for=password]').textContent(), 'Passwort');
  await axe(page, 'the login form');

  // A wrong password: said in an alert, the address kept, the form still accessible.
  await tabTo(page, 'E-Mail');
  await page.keyboard.type('erika@musterstadt.example');
  await tabTo(page, 'Passwort');
  await page.keyboard.type('falsches-Passwort!');
  await page.keyboard.press('Enter');
  await page.locator('[role=alert]').waitFor();
  assert.match(await page.locator('[role=alert]').textContent(), /E-Mail-Adresse oder Passwort ist falsch/);
  assert.equal(await page.locator('#email').inputValue(), 'erika@musterstadt.example');
  await axe(page, 'the login form with an error');

  await page.locator('#password').focus();
  await page.keyboard.type('richtig-langes-Passwort');
  await page.keyboard.press('Enter');
  await page.waitForURL(bot.base + '/console/');
  assert.equal(await page.locator('h1').textContent(), 'Service-Konsole');
  assert.match(await page.locator('table').textContent(), /musterstadt\s*agent/);
  assert.match(await page.locator('table').textContent(), /musterstadt\s*reviewer/);
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is HttpOnly');
  const session = (await context.cookies()).find((c) => c.name === 'citybot_session');
  assert.ok(session?.httpOnly && session.sameSite === 'Lax', 'session cookie attributes');
  await axe(page, 'the console');
  await page.screenshot({ path: new URL('console.png', artifacts).pathname });

  // The town's inbox, reached with the keyboard from the console.
  await tabTo(page, 'agent');
  await page.keyboard.press('Enter');
  await page.waitForURL(bot.base + '/console/t/musterstadt/tickets');
  assert.match(await page.locator('h1').textContent(), /Anfragen/);
  await axe(page, 'the inbox');
  await page.goto(bot.base + '/console/t/musterstadt/review?rating=down');
  assert.match(await page.locator('h1').textContent(), /Bewertete Antworten/);
  await axe(page, 'the review with its filter');
  await page.goto(bot.base + '/console/t/musterstadt/dashboard');
  assert.equal(await page.locator('svg[role=img] title').textContent(), 'Antworten und Übergaben der letzten 30 Tage');
  await page.locator('summary').click();
  await axe(page, 'the dashboard with its table view');

  // Sign out with the keyboard.
  await page.goto(bot.base + '/console/');
  await tabTo(page, 'Abmelden');
  await page.keyboard.press('Enter');
  await page.waitForURL(bot.base + '/console/login');
  await page.goto(bot.base + '/console/');
  assert.equal(new URL(page.url()).pathname, '/console/login', 'signed out');
  assert.deepEqual(errors, []);
  await context.close();
});
