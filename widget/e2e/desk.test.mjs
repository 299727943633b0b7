// The service desk end to end (issue 12's "Done when": a ticket e-mailed and answered, a review
// with a verdict and an export), in Debian's Chromium against a real `citybot serve` that sends
// its mail to a local SMTP sink (mailer/mailtest/mailsink: mailtest's go-smtp server as a
// process, one JSON line per message). axe-core checks WCAG 2.1 A/AA on the pages and states.
//
// A citizen rates an answer down with a comment and asks for an answer by e-mail in the widget;
// a reviewer gives the rated answer a verdict with a note by keyboard and exports the review as
// CSV and JSON; the office gets the request's notice by mail (the notifier runs every 30 s,
// desk.RunNotifier in cmd/citybot/serve.go, so the review comes first to use the wait); an agent
// answers in the inbox and the citizen gets the answer by mail. Run it alone with
//   cd widget/e2e && CITYBOT_BIN=$PWD/../../bin/citybot MAILSINK_BIN=$PWD/../../bin/mailsink node --test desk.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { $, artifacts, ask, axe, launchChromium, startCitybot, tabTo } from './citybot.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const sinkBin = process.env.MAILSINK_BIN || join(repo, 'bin/mailsink');

const STAFF = 'erika@musterstadt.example';
const PASSWORD = 'richtig-langes-Passwort';
const DESK = 'buergerbuero@musterstadt.example';
const FROM = 'chat@musterstadt.example';
const PUBLIC = 'https://chat.musterstadt.example';
const CITIZEN = 'max.mustermann@example.org';
const QUESTION = 'Was kostet ein Reisepass?';
const COMMENT = 'Die Gebühr für Kinder fehlt.';
const NOTE = 'Gehört auf die Seite zum Kinderreisepass.';
const REPLY = 'Guten Tag, ein Reisepass kostet 70 Euro, für Personen unter 24 Jahren 37,50 Euro. Freundliche Grüße';
const NOTICE_WAIT = 45000; // one round of the notifier (30 s) and some

// startSink runs the mail sink and collects what it prints: {addr} first, then one message a
// line ({from, to, subject, text, data}). Closing its standard input ends it.
async function startSink() {
  const proc = spawn(sinkBin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const mails = [];
  const lines = createInterface({ input: proc.stdout });
  const addr = await new Promise((ok, fail) => {
    proc.once('error', fail);
    proc.once('exit', (code) => fail(new Error(`mailsink exited ${code}`)));
    lines.once('line', (l) => ok(JSON.parse(l).addr));
  });
  lines.on('line', (l) => mails.push(JSON.parse(l)));
  return {
    addr,
    mails,
    // waitFor returns the first mail that matches, waiting up to ms for it.
    async waitFor(match, ms, what) {
      const end = Date.now() + ms;
      for (;;) {
        const m = mails.find(match);
        if (m) return m;
        if (Date.now() > end) assert.fail(`no mail ${what} within ${ms} ms; got ${JSON.stringify(mails.map((x) => [x.to, x.subject]))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.stdin.end();
      await exited;
    },
  };
}

let sink, bot, browser, staff;
const state = {}; // what the tests hand on: the ticket's number, when it was made

before(async () => {
  await mkdir(artifacts, { recursive: true });
  sink = await startSink();
  bot = await startCitybot({ env: { CITYBOT_SMTP_URL: `smtp://${sink.addr}`, CITYBOT_SMTP_FROM: `Stadt Musterstadt <${FROM}>`,
    CITYBOT_PUBLIC_URL: PUBLIC } });
  await bot.cli(['towns', 'set', 'musterstadt', `desk_email=${DESK}`]);
  await bot.cli(['users', 'add', '--town', 'musterstadt', '--email', STAFF, '--name', 'Erika Muster',
    '--role', 'agent', '--password-stdin'], PASSWORD + '\n');
  await bot.cli(['users', 'add', '--town', 'musterstadt', '--email', STAFF, '--name', 'Erika Muster', '--role', 'reviewer']);
  browser = await launchChromium();
});
after(async () => {
  await staff?.context.close();
  await browser?.close();
  await bot?.stop();
  await sink?.stop();
});

// parseCSV reads RFC 4180 CSV (quoted fields with commas, quotes and line breaks) into records.
function parseCSV(text) {
  const records = [];
  let record = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field); records.push(record); record = []; field = '';
    } else field += c;
  }
  if (field !== '' || record.length) { record.push(field); records.push(record); }
  return records;
}


// signIn signs the member of staff in with the keyboard, once, and returns the console's page.
async function signIn() {
  if (staff) return staff.page;
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  staff = { context, page, errors };
  await page.goto(bot.base + '/console/login');
  await tabTo(page, 'E-Mail');
  await page.keyboard.type(STAFF);
  await tabTo(page, 'Passwort');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(bot.base + '/console/');
  return page;
}

test('citizen: an answer rated down with a comment, an answer asked for by e-mail', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(bot.base + '/');
  await $(page, '.launcher').click();
  await $(page, '[role="dialog"]').waitFor();

  // An answer, rated down, with a comment.
  const answer = await ask(page, QUESTION);
  assert.ok(await answer.locator('.sources a').count() >= 1, 'the answer names its source');
  const down = answer.getByRole('button', { name: 'Antwort war nicht hilfreich' });
  await down.click();
  await answer.locator('.rated').waitFor();
  assert.equal(await down.getAttribute('aria-pressed'), 'true');
  await answer.getByLabel('Was können wir besser machen? (freiwillig)').fill(COMMENT);
  await answer.getByRole('button', { name: 'Kommentar senden' }).click();
  await answer.locator('.form').waitFor({ state: 'detached' });

  // "Talk to a person", then an answer by e-mail: the address, consent, a number.
  const n = await $(page, '.msg.bot').count();
  await $(page, '.tools button').filter({ hasText: 'Mit einem Menschen sprechen' }).click();
  const handoff = $(page, '.msg.bot').nth(n);
  await handoff.waitFor();
  await handoff.getByRole('button', { name: 'Antwort per E-Mail anfordern' }).click();
  const form = handoff.locator('form.form');
  await form.getByLabel('Name (freiwillig)').fill('Max Mustermann');
  await form.getByLabel('E-Mail-Adresse').fill(CITIZEN);
  await form.getByRole('checkbox').check();
  await axe(page, 'the widget with the e-mail request form');
  await form.getByRole('button', { name: 'Absenden' }).click();
  await page.waitForFunction(() => /Nummer \d{8}-\d{5}/.test(
    [...document.querySelector('citybot-widget').shadowRoot.querySelectorAll('.msg.note')].at(-1).textContent));
  const note = await $(page, '.msg.note').last().textContent();
  state.number = note.match(/Nummer (\d{8}-\d{5})/)[1];
  assert.match(note, /Ihre Anfrage ist eingegangen/);
  await axe(page, 'the widget with the ticket number');
  await page.screenshot({ path: new URL('desk-widget.png', artifacts).pathname });
  assert.deepEqual(errors, []);
  await context.close();
});

test('reviewer: a verdict with a note by keyboard, the export as CSV and JSON', async (t) => {
  const page = await signIn();
  await page.goto(bot.base + '/console/t/musterstadt/review?rating=down');
  assert.match(await page.locator('h1').textContent(), /Bewertete Antworten/);
  const row = page.locator('tbody tr').filter({ hasText: QUESTION });
  assert.equal(await row.count(), 1, 'the rated answer is listed');
  assert.match(await row.textContent(), /nicht hilfreich/);
  assert.ok((await row.textContent()).includes(`„${COMMENT}“`), 'the citizen\'s comment');
  await axe(page, 'the review');

  // The verdict: the select by keyboard (type-ahead), Tab to the note, Tab to "Speichern".
  const verdict = row.getByLabel('Urteil');
  await verdict.focus();
  await page.keyboard.press('f'); // type-ahead: the one verdict starting with f
  assert.equal(await verdict.inputValue(), 'wrong_page');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.labels?.[0]?.textContent), 'Notiz');
  await page.keyboard.type(NOTE);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Speichern');
  const reloaded = page.waitForEvent('load'); // the review again, after the POST's redirect
  await page.keyboard.press('Enter');
  await reloaded;
  assert.equal(new URL(page.url()).pathname, '/console/t/musterstadt/review');

  // After saving: the verdict and the note are shown.
  // The filter is kept after saving.
  assert.equal(new URL(page.url()).search, '?rating=down');
  assert.equal(await page.locator('#f-rating').inputValue(), 'down');
  const saved = page.locator('tbody tr').filter({ hasText: QUESTION });
  assert.equal(await saved.getByLabel('Urteil').inputValue(), 'wrong_page');
  assert.equal(await saved.getByLabel('Urteil').locator('option:checked').textContent(), 'falsche Seite');
  assert.equal(await saved.getByLabel('Notiz').inputValue(), NOTE);
  await axe(page, 'the review with a verdict');
  await page.screenshot({ path: new URL('desk-review.png', artifacts).pathname });

  // The exports, as downloads.
  const download = async (name) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
    return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
  };
  const csv = await download('Als CSV exportieren');
  assert.match(csv.name, /^citybot-review-musterstadt-\d{4}-\d{2}-\d{2}\.csv$/);
  const [header, ...records] = parseCSV(csv.text);
  assert.deepEqual(header, ['conversation_id', 'answer_id', 'answered', 'lang', 'kind', 'reason', 'composer', 'confidence',
    'question', 'answer', 'sources', 'rating', 'comment', 'verdict', 'note']);
  assert.ok(records.every((r) => r.length === header.length), 'every record has every column');
  const rows = records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))).filter((r) => r.question === QUESTION);
  assert.equal(rows.length, 1, 'the rated answer in the CSV');
  assert.deepEqual([rows[0].kind, rows[0].rating, rows[0].comment, rows[0].verdict, rows[0].note], ['answer', 'down', COMMENT, 'wrong_page', NOTE]);
  assert.match(rows[0].sources, /^https:\/\/www\.musterstadt\.example\//, 'the sources');
  assert.ok(rows[0].answer.length > 0);

  const json = await download('Als JSON exportieren');
  assert.match(json.name, /^citybot-review-musterstadt-\d{4}-\d{2}-\d{2}\.json$/);
  const items = JSON.parse(json.text);
  assert.ok(Array.isArray(items));
  const item = items.find((it) => it.question === QUESTION);
  assert.ok(item, 'the rated answer in the JSON');
  assert.equal(item.rating, 'down');
  assert.equal(item.comment, COMMENT);
  assert.equal(item.verdict, 'wrong_page');
  assert.equal(item.note, NOTE);
  assert.equal(item.kind, 'answer');
  assert.ok(item.sources.length >= 1 && item.text.length > 0);
  assert.deepEqual(staff.errors, []);
});

test('the office gets the request by mail, with its number and a link to the inbox', async () => {
  assert.ok(state.number, 'a ticket from the first test');
  const notice = await sink.waitFor((m) => m.to.includes(DESK), NOTICE_WAIT, `to ${DESK}`);
  assert.equal(notice.from, FROM);
  assert.equal(notice.subject, `Bitte um Antwort per E-Mail ${state.number} (Musterstadt)`);
  assert.match(notice.text, new RegExp(`^Nummer: ${state.number}$`, 'm'));
  assert.match(notice.text, /^Name: Max Mustermann$/m);
  assert.ok(notice.text.includes(`E-Mail: ${CITIZEN}`), 'the citizen\'s address');
  assert.ok(notice.text.includes(`Zur Anfrage: ${PUBLIC}/console/t/musterstadt/tickets\n`), 'the link to the inbox');
  assert.match(notice.data, /^To: <?buergerbuero@musterstadt\.example>?\r$/m);
  assert.equal(sink.mails.filter((m) => m.to.includes(DESK)).length, 1, 'one notice');
});

test('agent: the request answered in the inbox, the citizen gets the mail, the ticket done', async () => {
  assert.ok(state.number, 'a ticket from the first test');
  const page = await signIn();
  // The link in the notice, on this server.
  await page.goto(bot.base + '/console/t/musterstadt/tickets');
  assert.match(await page.locator('h1').textContent(), /Anfragen/);
  const row = page.locator('tbody tr').filter({ hasText: state.number });
  assert.equal(await row.count(), 1, 'the new request in the inbox');
  const text = await row.textContent();
  assert.ok(text.includes(`Antwort per E-Mail: ${CITIZEN}`), 'the contact');
  assert.ok(text.includes(QUESTION), 'the question asked before it');
  await axe(page, 'the inbox with a new request');

  // The answer, typed into the field labelled with the citizen's address, sent by keyboard.
  const field = row.getByLabel(`Antwort an ${CITIZEN}`);
  await field.focus();
  await page.keyboard.type(REPLY);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Antwort senden');
  await Promise.all([page.waitForURL(/\/console\/t\/musterstadt\/tickets\?status=done$/), page.keyboard.press('Enter')]);

  const mail = await sink.waitFor((m) => m.to.includes(CITIZEN), 10000, `to ${CITIZEN}`);
  assert.equal(mail.from, FROM);
  assert.equal(mail.subject, `Ihre Anfrage ${state.number} – Musterstadt`);
  assert.ok(mail.text.startsWith(REPLY + '\n'), `the answer in ${JSON.stringify(mail.text)}`);
  assert.ok(mail.text.includes(`Anfrage ${state.number}`));

  // Done, with the answer; no longer among the new ones.
  assert.match(await page.locator('caption').textContent(), /Erledigt/);
  const done = page.locator('tbody tr').filter({ hasText: state.number });
  assert.equal(await done.count(), 1);
  assert.ok((await done.textContent()).includes(`Beantwortet: ${REPLY}`), 'the answer stored with the ticket');
  assert.equal(await done.getByLabel('Status').inputValue(), 'done');
  assert.equal(await done.locator('textarea').count(), 0, 'no second answer');
  await axe(page, 'the inbox with the answered request');
  await page.screenshot({ path: new URL('desk-inbox.png', artifacts).pathname });
  await page.goto(bot.base + '/console/t/musterstadt/tickets');
  assert.equal(await page.locator('tbody tr').filter({ hasText: state.number }).count(), 0, 'not among the new requests');
  await axe(page, 'the inbox without new requests');
  assert.equal(sink.mails.filter((m) => m.to.includes(CITIZEN)).length, 1, 'one answer');
  assert.deepEqual(staff.errors, []);
});
