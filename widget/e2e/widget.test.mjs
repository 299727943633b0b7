// Browser tests of the citybot widget: Debian's Chromium, driven by playwright-core, against a
// real `citybot serve` with the sample site; axe-core checks WCAG 2.1 A/AA. Screenshots go to
// artifacts/. Run with `make test-browser`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $, artifacts, ask, axe, launchChromium, screenshot, startCitybot } from './citybot.mjs';

let bot, browser;
before(async () => {
  await mkdir(artifacts, { recursive: true });
  bot = await startCitybot();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await bot?.stop();
});

// open starts a fresh browser context (its own sessionStorage) on path and records every
// request, WebSocket, page error and Content-Security-Policy violation.
async function open(path = '/', viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const seen = { urls: [], errors: [] };
  page.on('request', (r) => seen.urls.push(r.url()));
  page.on('websocket', (ws) => seen.urls.push(ws.url()));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  await page.goto(bot.base + path);
  await page.locator('citybot-widget .launcher').waitFor();
  return { context, page, seen };
}

// clean checks what every test must leave behind: requests to citybot's own origin only (no
// third party), no cookie, no script error (a policy violation is one). allow names console
// errors a test expects.
async function clean({ context, page, seen }, allow = /^$/) {
  const origin = new URL(bot.base);
  for (const u of seen.urls) {
    const url = new URL(u);
    if (url.protocol === 'data:') continue;
    assert.equal(url.host, origin.host, `request to another origin: ${u}`);
  }
  assert.deepEqual(seen.errors.filter((e) => !allow.test(e)), [], 'page errors or console errors');
  assert.deepEqual(await context.cookies(), [], 'cookies set');
  assert.equal(await page.evaluate(() => document.cookie), '');
  await context.close();
}

// inWidget runs fn(host, arg) in the page; the widget's elements are in host.shadowRoot.
function inWidget(page, fn, arg) {
  return page.locator('citybot-widget').evaluate(fn, arg);
}

async function launcherFocused(page) {
  return page.evaluate(() => {
    const h = document.activeElement;
    return h?.tagName === 'CITYBOT-WIDGET' && !!h.shadowRoot.activeElement?.classList.contains('launcher');
  });
}
async function tabToLauncher(page) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await launcherFocused(page)) return;
  }
  assert.fail('Tab never reached the launcher');
}
// ask sends a question from the composer and returns the reply's element.

// The city's styles and script work as before; the widget adds one host element and its bundle.
test('host page styles, script and DOM are untouched', async () => {
  const probe = () => {
    const pick = (el) => {
      const s = getComputedStyle(el);
      return [s.fontFamily, s.color, s.backgroundColor, s.fontSize, s.lineHeight, s.borderTopStyle, s.textTransform, s.padding, s.boxSizing].join('|');
    };
    return {
      styles: ['body', 'h1', 'header.site', '#suchen', '#suche', 'main p', 'nav a'].map((c) => pick(document.querySelector(c))),
      body: Array.from(document.body.querySelectorAll('*'), (e) => e.tagName),
      head: Array.from(document.head.querySelectorAll('*'), (e) => e.tagName + (e.src ? ' ' + new URL(e.src).pathname : '')),
      global: window.musterstadt,
    };
  };
  // The page as the city made it: the widget's loader blocked.
  const bare = await browser.newContext();
  const barePage = await bare.newPage();
  await barePage.route('**/widget.js', (r) => r.abort());
  await barePage.goto(bot.base + '/');
  const before = await barePage.evaluate(probe);
  await bare.close();

  const s = await open('/');
  const { page } = s;
  const after = await page.evaluate(probe);
  assert.deepEqual(after.styles, before.styles, 'host styles changed by the widget');
  assert.deepEqual(after.global, { ready: true, searches: 0 }, 'host global');
  assert.deepEqual(after.body, [...before.body, 'CITYBOT-WIDGET'], 'light DOM beyond the host element');
  assert.equal(after.head.length, before.head.length + 1);
  // The town's bundle, under its own path.
  assert.match(after.head.at(-1), /^SCRIPT \/t\/musterstadt\/widget\/app\.[0-9a-f]{16}\.js$/);
  assert.equal(await page.evaluate(() => document.querySelector('citybot-widget').childNodes.length), 0);
  assert.equal(await page.evaluate(() => document.querySelector('citybot-widget').shadowRoot.mode), 'open');

  // The city's own script still runs its search.
  await page.fill('#suche', 'Reisepass');
  await page.click('#suchen');
  assert.match(await page.textContent('#search-result'), /Reisepass/);
  assert.equal(await page.evaluate(() => window.musterstadt.searches), 1);

  // Opening the widget changes none of it either.
  await $(page, '.launcher').click();
  await $(page, '.msg.note').waitFor();
  assert.deepEqual((await page.evaluate(probe)).styles, before.styles, 'host styles changed with the panel open');
  // The widget's own look holds against the page's "* { font-family: serif }" and button rules.
  const look = await inWidget(page, (host) => {
    const r = host.shadowRoot, s = (el) => getComputedStyle(el);
    return { font: s(r.querySelector('.log')).fontFamily, send: s(r.querySelector('.send')).textTransform,
      border: s(r.querySelector('.send')).borderTopStyle };
  });
  assert.match(look.font, /^system-ui/);
  assert.equal(look.send, 'none');
  assert.notEqual(look.border, 'dashed');
  await clean(s);
});

test('keyboard, disclosure, answer with sources, rating, handoff, axe', async () => {
  const s = await open('/');
  const { page } = s;
  await axe(page, 'panel closed');

  // Tab to the launcher, open with Enter: focus moves into the panel, the disclosure comes first.
  await tabToLauncher(page);
  await page.keyboard.press('Enter');
  await $(page, '[role="dialog"]').waitFor();
  assert.equal(await inWidget(page, (h) => h.shadowRoot.activeElement?.id), 'cb-q', 'focus in the composer');
  const first = $(page, '.log .msg').first();
  await first.waitFor();
  assert.match(await first.textContent(), /KI-System/);
  assert.match(await $(page, '.log .msg.note a').getAttribute('href'), /^https:\/\/www\.musterstadt\.example\/datenschutz/);
  assert.equal(await $(page, '.log').getAttribute('aria-live'), 'off', 'the log itself is not re-read');
  assert.equal(await $(page, '[role="dialog"]').getAttribute('aria-labelledby'), 'cb-title');
  assert.match(await $(page, '#cb-left').textContent(), /2\.000/);

  // A question: an answer with its source as a link, the AI label, announced on its own.
  const answer = await ask(page, 'Was kostet ein Reisepass?');
  assert.equal(await answer.getAttribute('lang'), 'de');
  assert.equal(await answer.getAttribute('dir'), 'ltr');
  const source = answer.locator('.sources a').first();
  assert.match(await source.getAttribute('href'), /^https:\/\/www\.musterstadt\.example\/.*reisepass/);
  assert.match(await source.textContent(), /Reisepass/);
  assert.match(await answer.textContent(), /KI/);
  await page.waitForFunction(() => /Digitaler Assistent.*Reisepass/s.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('[aria-live="polite"]').textContent));
  assert.equal(await $(page, '.typing').isVisible(), false, 'typing indicator gone');
  await axe(page, 'panel open with an answer');

  // Rate it up: the confirmation arrives, then an optional comment replaces the rating.
  const up = answer.locator('.rate button').first();
  await up.click();
  await answer.locator('.rated').waitFor();
  assert.match(await answer.locator('.rated').textContent(), /Danke/);
  assert.equal(await up.getAttribute('aria-pressed'), 'true');
  await answer.locator('.form textarea').fill('Sehr hilfreich, danke.');
  await answer.locator('.form button[type="submit"]').click();
  await answer.locator('.form').waitFor({ state: 'detached' });

  // Out of scope: a handoff with ways to a person; a callback request with consent.
  const handoff = await ask(page, 'Wie wird das Wetter morgen?');
  const options = handoff.locator('.options button');
  assert.ok(await options.count() >= 2);
  assert.match(await handoff.textContent(), /Rückruf anfordern/);
  await handoff.getByRole('button', { name: 'Rückruf anfordern' }).click();
  const form = handoff.locator('form.form');
  await form.getByLabel('Telefonnummer').fill('0123 456789');
  await form.getByRole('checkbox').check();
  await form.getByRole('button', { name: 'Absenden' }).click();
  const ticket = $(page, '.msg.note').last();
  await page.waitForFunction(() => /Nummer/.test(
    [...document.querySelector('citybot-widget').shadowRoot.querySelectorAll('.msg.note')].at(-1).textContent));
  assert.match(await ticket.textContent(), /Nummer \S+/);
  await handoff.getByRole('button', { name: 'Zuständige Stelle direkt kontaktieren' }).click();
  assert.match(await handoff.locator('.contact a[href^="tel:"]').getAttribute('href'), /^tel:\d+/);

  // "Talk to a person" is always there.
  const person = $(page, '.tools button').first();
  assert.match(await person.textContent(), /Mit einem Menschen sprechen/);
  const n = await $(page, '.msg.bot').count();
  await person.click();
  await $(page, '.msg.bot').nth(n).waitFor();
  assert.match(await $(page, '.msg.bot').nth(n).textContent(), /Menschen/);
  await axe(page, 'panel open with a handoff and forms');
  await screenshot(page, 'desktop-open');

  // The disclosure stays reachable: "About this AI assistant", Escape goes back.
  await $(page, '.tools button').nth(1).click();
  await $(page, '.about').waitFor();
  assert.match(await $(page, '.about').textContent(), /KI-System/);
  assert.equal(await inWidget(page, (h) => h.shadowRoot.activeElement?.id), 'cb-about-h');
  await page.keyboard.press('Escape');
  assert.equal(await $(page, '.about').isVisible(), false);
  assert.match(await inWidget(page, (h) => h.shadowRoot.activeElement?.textContent), /Über diesen KI-Assistenten/);

  // Escape closes and gives focus back to the launcher; Space opens again.
  await $(page, '#cb-q').focus();
  await page.keyboard.press('Escape');
  assert.equal(await $(page, '[role="dialog"]').isVisible(), false);
  assert.ok(await launcherFocused(page), 'focus back on the launcher');
  assert.equal(await $(page, '.launcher').getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Space');
  await $(page, '[role="dialog"]').waitFor();
  await page.keyboard.press('Escape');
  await axe(page, 'panel closed after a conversation');
  await clean(s);
});

test('a reload resumes the conversation with its history', async () => {
  const s = await open('/widget/test');
  const { page } = s;
  await $(page, '.launcher').click();
  const answer = await ask(page, 'Was kostet ein Reisepass?');
  const text = await answer.locator('.text').textContent();
  const token = await page.evaluate(() => Object.entries(sessionStorage).find(([k]) => k.endsWith(':token'))?.[1]);
  assert.ok(token, 'resume token in sessionStorage');

  await page.reload();
  // The panel was open, so it opens again, and the history comes back in order.
  await $(page, '.msg.bot').first().waitFor();
  const log = await inWidget(page, (h) => [...h.shadowRoot.querySelectorAll('.log .msg')].map((m) => m.className));
  assert.deepEqual(log, ['msg note', 'msg me', 'msg bot']);
  assert.equal(await $(page, '.msg.me').textContent(), 'SieWas kostet ein Reisepass?');
  assert.equal(await $(page, '.msg.bot .text').textContent(), text);
  assert.ok(await $(page, '.msg.bot .sources a').count() >= 1);
  assert.equal(await page.evaluate(() => Object.entries(sessionStorage).find(([k]) => k.endsWith(':token'))?.[1]), token);

  // The resumed conversation goes on: its ratings still reach the server.
  await $(page, '.msg.bot .rate button').nth(1).click();
  await $(page, '.msg.bot .rated').waitFor();

  // After another reload the answer still shows how it was rated.
  await page.reload();
  await $(page, '.msg.bot').first().waitFor();
  assert.equal(await $(page, '.msg.bot .rate button').nth(1).getAttribute('aria-pressed'), 'true');
  assert.equal(await $(page, '.msg.bot .rate button').nth(0).getAttribute('aria-pressed'), 'false');
  await clean(s);
});

// The right to erase: "Gespräch löschen", confirmed in a modal dialog, by keyboard.
test('deleting the conversation: keyboard, confirmation, status, no history after a reload, axe', async () => {
  const s = await open('/widget/test');
  const { page } = s;
  const token = () => page.evaluate(() => Object.entries(sessionStorage).find(([k]) => k.endsWith(':token'))?.[1]);
  const focused = () => inWidget(page, (h) => h.shadowRoot.activeElement?.textContent);
  const classes = () => inWidget(page, (h) => [...h.shadowRoot.querySelectorAll('.log .msg')].map((m) => m.className));
  await $(page, '.launcher').click();
  await ask(page, 'Was kostet ein Reisepass?');
  const old = await token();
  assert.ok(old, 'resume token in sessionStorage');

  // The about view says that the conversation can be deleted.
  await $(page, '.tools button').nth(1).click();
  assert.match(await $(page, '.about').textContent(), /Recht auf Löschung.*Gespräch löschen/s);
  await page.keyboard.press('Escape');

  // Enter on the control opens the confirmation, focus on the harmless choice; Escape cancels.
  const del = $(page, '.tools button').filter({ hasText: 'Gespräch löschen' });
  assert.equal(await del.getAttribute('aria-haspopup'), 'dialog');
  await del.focus();
  await page.keyboard.press('Enter');
  const dialog = $(page, 'dialog.confirm');
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('role'), 'alertdialog');
  assert.ok(await dialog.evaluate((d) => d.matches(':modal')), 'the confirmation is modal');
  assert.match(await $(page, '#' + await dialog.getAttribute('aria-labelledby')).textContent(), /Gespräch wirklich löschen\?/);
  assert.match(await $(page, '#' + await dialog.getAttribute('aria-describedby')).textContent(), /Rückruf/);
  assert.equal(await focused(), 'Abbrechen');
  await axe(page, 'delete confirmation open');
  await screenshot(page, 'delete-confirmation');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await focused(), 'Gespräch löschen', 'focus back on the control');
  assert.deepEqual(await classes(), ['msg note', 'msg me', 'msg bot'], 'cancel deletes nothing');
  assert.equal(await token(), old);

  // Again, and this time Shift+Tab to "Löschen", Enter.
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'Löschen');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Ihr Gespräch wurde gelöscht\./.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('.status').textContent));
  await page.waitForFunction(() => document.querySelector('citybot-widget').shadowRoot
    .querySelector('[aria-live="polite"]').textContent === 'Ihr Gespräch wurde gelöscht.');
  assert.equal(await dialog.isVisible(), false);
  assert.deepEqual(await classes(), ['msg note'], 'only the new conversation\'s disclosure');
  assert.match(await $(page, '.log').textContent(), /KI-System/);
  assert.doesNotMatch(await $(page, '.log').textContent(), /Reisepass/);
  assert.equal(await inWidget(page, (h) => h.shadowRoot.activeElement?.id), 'cb-q', 'focus in the composer');
  const fresh = await token();
  assert.ok(fresh && fresh !== old, 'the old token is gone, the new conversation has its own');
  await axe(page, 'after deleting');

  // The old token resumes nothing: the server answers it like an unknown one.
  const reply = await page.evaluate((url) => new Promise((ok) => {
    const got = [], ws = new WebSocket(url);
    ws.onmessage = (e) => { got.push(JSON.parse(e.data)); if (got.length === 2) { ws.close(); ok(got); } };
  }), bot.base.replace(/^http/, 'ws') + '/ws?resume=' + encodeURIComponent(old));
  assert.equal(reply[0].code, 'invalid_token');
  assert.equal(reply[1].type, 'welcome');
  assert.equal(reply[1].resumed, false);

  // After a reload the new conversation goes on, without the old history.
  await page.reload();
  await $(page, '.msg.note').waitFor();
  await ask(page, 'Wo melde ich meinen Hund an?');
  assert.deepEqual(await classes(), ['msg note', 'msg me', 'msg bot']);
  assert.doesNotMatch(await $(page, '.log').textContent(), /Reisepass/);
  assert.equal(await $(page, '.status').isVisible(), false, 'the status went with the next question');
  await clean(s);
});

test('a server restart (close 1001) is survived: offline state, reconnect, nothing lost', async () => {
  const s = await open('/widget/test');
  const { page } = s;
  await $(page, '.launcher').click();
  await ask(page, 'Wo melde ich meinen Hund an?');
  await bot.restart();
  await $(page, '.status').waitFor();
  await page.waitForFunction(() => /Wieder verbunden/.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('.status').textContent), null, { timeout: 60000 });
  const log = await inWidget(page, (h) => [...h.shadowRoot.querySelectorAll('.log .msg')].map((m) => m.className));
  assert.deepEqual(log, ['msg note', 'msg me', 'msg bot'], 'the log after the resume');
  await ask(page, 'Was kostet ein Reisepass?');
  // Chromium logs the refused connections while the server is down.
  await clean(s, /WebSocket connection to .* failed/);
});

// Frames the server does not send yet (a generative composer's deltas, a person from the service
// desk) are put into the real connection.
test('streamed answer, a person\'s message and an error frame', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  let toClient;
  await page.routeWebSocket(/\/ws/, (ws) => {
    const server = ws.connectToServer();
    toClient = (m) => ws.send(JSON.stringify(m));
    ws.onMessage((m) => {
      if (JSON.parse(m).type === 'ask') {
        toClient({ type: 'answer_delta', id: 'a1', text: 'Gestreamter ' });
        toClient({ type: 'answer_delta', id: 'a1', text: 'Anfang …' });
        setTimeout(() => server.send(m), 500); // the deltas stay on screen a moment
      } else server.send(m);
    });
  });
  await page.goto(bot.base + '/widget/test?open=true');
  await $(page, '.msg.note').waitFor();
  await $(page, '#cb-q').fill('Was kostet ein Reisepass?');
  await $(page, '#cb-q').press('Enter');
  await page.waitForFunction(() => /Gestreamter Anfang …/.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('.log').textContent));
  assert.equal(await $(page, '.typing').isVisible(), false, 'no typing indicator while text streams');
  await $(page, '.msg.bot .sources a').first().waitFor();
  assert.equal(await $(page, '.msg.bot').count(), 1, 'the answer replaces its stream');
  assert.doesNotMatch(await $(page, '.msg.bot').textContent(), /Gestreamter/);

  toClient({ type: 'agent_message', name: 'Frau Weber', text: 'Guten Tag, ich helfe Ihnen gern weiter.' });
  const agent = $(page, '.msg.agent');
  await agent.waitFor();
  assert.match(await agent.locator('.who').textContent(), /^Frau Weber – Mitarbeiterin oder Mitarbeiter der Stadt$/);
  await page.waitForFunction(() => /Frau Weber/.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('[aria-live="polite"]').textContent));

  toClient({ type: 'error', code: 'rate_limited', message: 'Sie haben zu viele Nachrichten geschickt.' });
  const err = $(page, '.msg.err');
  await err.waitFor();
  assert.match(await err.textContent(), /Fehler.*zu viele Nachrichten/s);
  await axe(page, 'stream, person and error');
  await context.close();
});

test('language switch to Arabic: right to left, lang and dir on every message', async () => {
  const s = await open('/');
  const { page } = s;
  await $(page, '.launcher').click();
  await $(page, '.msg.note').waitFor();
  // The menu by keyboard: Enter opens it on the current language, Escape closes it.
  await $(page, '.langbtn').focus();
  await page.keyboard.press('Enter');
  assert.equal(await inWidget(page, (h) => h.shadowRoot.activeElement?.getAttribute('lang')), 'de');
  await page.keyboard.press('Escape');
  assert.equal(await $(page, '#cb-langs').isVisible(), false);
  assert.equal(await inWidget(page, (h) => h.shadowRoot.activeElement?.className), 'langbtn');
  assert.equal(await $(page, '[role="dialog"]').isVisible(), true, 'Escape in the menu keeps the panel');
  await $(page, '.langbtn').click();
  const menu = await $(page, '#cb-langs button').allTextContents();
  assert.deepEqual(menu, ['Deutsch', 'Leichte Sprache', 'English', 'Türkçe', 'العربية', 'Українська', 'Русский', 'فارسی', 'Polski', 'Română']);
  await $(page, '#cb-langs button[lang="ar"]').click();
  await $(page, '.cb[dir="rtl"][lang="ar"]').waitFor({ state: 'attached' });
  await $(page, '.msg.note[lang="ar"][dir="rtl"]').waitFor();
  assert.equal(await $(page, '.launcher').getAttribute('aria-label'), 'إغلاق الدردشة');
  assert.equal(await $(page, '#cb-q').getAttribute('placeholder'), 'اكتبوا سؤالكم …');
  const sw = new URL(s.seen.urls.filter((u) => u.startsWith('ws')).at(-1));
  assert.equal(sw.searchParams.get('lang'), 'ar');
  assert.ok(sw.searchParams.get('resume'), 'the switch resumes the conversation');

  const answer = await ask(page, 'كم تكلفة جواز السفر؟');
  assert.ok(await answer.getAttribute('lang'));
  assert.ok(['rtl', 'ltr'].includes(await answer.getAttribute('dir')));
  const attrs = await inWidget(page, (h) => [...h.shadowRoot.querySelectorAll('.log .msg')].map((m) => [m.lang, m.dir]));
  for (const [l, d] of attrs) assert.ok(l && d, `message without lang or dir: ${l} ${d}`);
  // The panel mirrors: the composer's send button sits on the left.
  const input = await $(page, '#cb-q').boundingBox(), send = await $(page, '.send').boundingBox();
  assert.ok(send.x < input.x, 'send button left of the input in RTL');
  await axe(page, 'Arabic');
  await screenshot(page, 'arabic-open');

  // After a reload the history knows the question's language: right to left, not guessed.
  await page.reload();
  await $(page, '.msg.bot').first().waitFor();
  const me = $(page, '.msg.me').last();
  assert.equal(await me.getAttribute('lang'), 'ar');
  assert.equal(await me.getAttribute('dir'), 'rtl');
  await clean(s);
});

test('data attributes: language, open, position, colour with enough contrast', async () => {
  const s = await open('/widget/test?lang=en&open=true&position=left&color=%23ffdd00&title=Ask+Musterstadt');
  const { page } = s;
  await $(page, '.msg.note').waitFor();
  assert.equal(await $(page, 'h2').textContent(), 'Ask Musterstadt');
  assert.equal(await $(page, '.cb').getAttribute('lang'), 'en');
  assert.equal(await $(page, '#cb-q').getAttribute('placeholder'), 'Type your question …');
  assert.ok((await $(page, '.launcher').boundingBox()).x < 100, 'launcher on the left');
  // Yellow takes near-black text; a too-light mid colour would be darkened.
  const head = await inWidget(page, (h) => getComputedStyle(h.shadowRoot.querySelector('.head')).color);
  assert.equal(head, 'rgb(17, 17, 17)');
  await axe(page, 'themed yellow');
  // Mid grey reaches 4.5:1 with neither white nor near-black text: it is darkened.
  await page.goto(bot.base + '/widget/test?open=true&color=%23777777');
  await $(page, '.msg.note').waitFor();
  const grey = await inWidget(page, (h) => {
    const st = getComputedStyle(h.shadowRoot.querySelector('.head'));
    return [st.color, st.backgroundColor];
  });
  assert.equal(grey[0], 'rgb(255, 255, 255)');
  assert.notEqual(grey[1], 'rgb(119, 119, 119)');
  await axe(page, 'themed grey');
  await clean(s);
});

test('320 CSS px: full-screen panel, no horizontal scrolling, controls in view', async () => {
  const s = await open('/', { width: 320, height: 640 });
  const { page } = s;
  await $(page, '.launcher').click();
  await ask(page, 'Was kostet ein Personalausweis?');
  const box = await $(page, '[role="dialog"]').boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 320, 640]);
  const overflow = await inWidget(page, (h) => [...h.shadowRoot.querySelectorAll('.panel, .log, .head, .composer, .tools')]
    .filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.className));
  assert.deepEqual(overflow, [], 'horizontal overflow');
  for (const css of ['#cb-q', '.send', '.tools button', '.langbtn', '.head button[aria-label]']) {
    const b = await $(page, css).first().boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 320 && b.y + b.height <= 640, `${css} outside the viewport: ${JSON.stringify(b)}`);
  }
  // Full screen, Tab stays in the panel.
  await $(page, '#cb-q').focus();
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inWidget(page, (h) => h.shadowRoot.querySelector('.panel').contains(h.shadowRoot.activeElement)), 'focus left the panel');
  }
  await axe(page, '320 px');
  await screenshot(page, 'mobile-320-open');
  // 200 % zoom of a 1280 × 800 window is a 640 × 400 viewport: full screen too.
  await page.setViewportSize({ width: 640, height: 400 });
  const zoomed = await $(page, '[role="dialog"]').boundingBox();
  assert.deepEqual([zoomed.width, zoomed.height], [640, 400]);
  // Reduced motion: the typing dots stand still.
  const anim = () => inWidget(page, (h) => getComputedStyle(h.shadowRoot.querySelector('.dots i')).animationName);
  assert.equal(await anim(), 'cb-blink');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  assert.equal(await anim(), 'none');
  await clean(s);
});

// The database away under a question (the embedded PostgreSQL killed, as the OOM killer would):
// the error offers to send the question again; once serve has started the database again, the
// button, by keyboard, brings the answer. Last in the file: the outage is over when it ends.
test('database outage: unavailable error, "Frage erneut senden" by keyboard, answer, axe', async () => {
  // The postmaster's pid is the first line of pg/postmaster.pid in serve's data directory.
  const data = bot.data;
  assert.ok(data, 'the data directory of citybot serve');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const ready = async () => { try { return (await fetch(bot.base + '/readyz')).ok; } catch { return false; } };
  const until = async (want, ms) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if ((await ready()) === want) return true;
    return false;
  };
  const count = (css) => $(page, css).count();

  const s = await open('/widget/test');
  const { page } = s;
  const asks = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => {
    const m = JSON.parse(f.payload);
    if (m.type === 'ask') asks.push(m);
  }));
  await $(page, '.launcher').click();
  await ask(page, 'Wo melde ich meinen Hund an?'); // warm: pool and conversation in use

  // Kill the postmaster; once /readyz reports the outage, ask. Should the database be back
  // before the question gets to it (an answer comes), again.
  const q = 'Was kostet ein Reisepass?';
  let note = null;
  for (let i = 0; i < 5 && !note; i++) {
    assert.ok(await until(true, 60000), 'the database is ready before the kill');
    const pid = Number((await readFile(join(data, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    if (!(await until(false, 5000))) continue; // back already
    const bots = await count('.msg.bot'), errs = await count('.msg.err');
    await $(page, '#cb-q').fill(q);
    await $(page, '#cb-q').press('Enter');
    await page.waitForFunction(([b, e]) => {
      const r = document.querySelector('citybot-widget').shadowRoot;
      return r.querySelectorAll('.msg.bot').length > b || r.querySelectorAll('.msg.err').length > e;
    }, [bots, errs], { timeout: 30000 });
    const err = $(page, '.msg.err').last();
    if (await count('.msg.err') > errs && await err.locator('button.resend').count() === 1) note = err;
  }
  assert.ok(note, 'an unavailable error with "Frage erneut senden"');
  const failed = asks.at(-1);
  assert.equal(failed.text, q);

  // The note: the server's text, in the interface's language, and the button named for what it
  // does, described by the question it sends.
  assert.match(await note.textContent(), /Fehler.*Frage.*noch einmal/s);
  assert.equal(await note.getAttribute('lang'), 'de');
  const btn = note.getByRole('button', { name: 'Frage erneut senden' });
  assert.equal(await btn.getAttribute('type'), 'button');
  assert.equal(await $(page, '#' + await btn.getAttribute('aria-describedby')).textContent(), q);
  await page.waitForFunction(() => /^Fehler: .*noch einmal/.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('[aria-live="polite"]').textContent));
  assert.equal(await $(page, '.typing').isVisible(), false, 'no typing indicator: nothing is coming');
  await axe(page, 'unavailable error with the resend button');
  await screenshot(page, 'database-outage');

  // The database back, the button by keyboard: a new ask with the same text, the typing
  // indicator, the answer. A pooled connection that died with the old server may fail the first
  // try: its error brings a new button.
  assert.ok(await until(true, 60000), 'serve starts the killed database again');
  const mine = await count('.msg.me');
  let answer = null;
  for (let i = 0; i < 5 && !answer; i++) {
    const b = $(page, '.msg.err').last().locator('button.resend');
    const bots = await count('.msg.bot'), errs = await count('.msg.err'), sent = asks.length;
    await b.focus();
    await page.keyboard.press('Enter');
    assert.equal(await b.count(), 0, 'the button is gone once used');
    assert.equal(await inWidget(page, (h) => h.shadowRoot.activeElement?.id), 'cb-q', 'focus in the composer');
    assert.equal(await count('.msg.me'), mine, 'the question is not shown twice');
    assert.ok(await inWidget(page, (h, n) => !h.shadowRoot.querySelector('.typing').hidden ||
      h.shadowRoot.querySelectorAll('.msg.bot').length > n, bots), 'typing indicator until the answer');
    for (let w = 0; w < 50 && asks.length === sent; w++) await sleep(100); // the frame's event
    assert.equal(asks.length, sent + 1, 'one ask sent');
    assert.equal(asks.at(-1).text, q);
    assert.ok(!asks.slice(0, -1).some((m) => m.id === asks.at(-1).id), 'a new id');
    assert.equal(asks.at(-1).lang, failed.lang, 'the language as in the first ask');
    await page.waitForFunction(([b, e]) => {
      const r = document.querySelector('citybot-widget').shadowRoot;
      return r.querySelectorAll('.msg.bot').length > b || r.querySelectorAll('.msg.err').length > e;
    }, [bots, errs], { timeout: 30000 });
    if (await count('.msg.bot') > bots) answer = $(page, '.msg.bot').last();
    else {
      assert.equal(await $(page, '.msg.err').last().locator('button.resend').count(), 1, 'a new error brings a new button');
      await sleep(1000);
      await until(true, 60000);
    }
  }
  assert.ok(answer, 'the question sent again is answered');
  assert.match(await answer.locator('.sources a').first().getAttribute('href'), /^https:\/\/www\.musterstadt\.example\/.*reisepass/);
  assert.equal(await $(page, '.typing').isVisible(), false, 'typing indicator gone');
  await page.waitForFunction(() => /Digitaler Assistent.*Reisepass/s.test(
    document.querySelector('citybot-widget').shadowRoot.querySelector('[aria-live="polite"]').textContent));
  await axe(page, 'answered after the resend');
  await clean(s);
});
