// The end-to-end test of the live chat with a person (docs/protocol.md, "Live chat with a
// person") across TWO `citybot serve` instances on one database: the citizen's widget on
// instance A, an agent in the staff console on instance B, so every message goes through
// PostgreSQL (LISTEN/NOTIFY). Run it alone with
//   cd widget/e2e && CITYBOT_BIN=$PWD/../../bin/citybot node --test live.test.mjs
//
// The widget's side: widget/app.js (.livebar with the queue place or the person, .msg.sys lines,
// .msg.agent[role=article] for the person's messages, the "Gesendet" note on the citizen's
// messages). The console's live page, /console/t/SLUG/live (console/templates/live.html,
// console/assets/live.js): the control "Verfügbar" (remembered from the agent's last visit), a
// waiting citizen's "Annehmen", the field "Nachricht" (Enter sends, typing tells the citizen),
// "An den Assistenten zurückgeben", the account's name as the default display name, "beendet"
// when the citizen ends the chat. Every use goes through the CONSOLE object below.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { $, axe, launchChromium, sample, screenshot, tabTo } from './citybot.mjs';

const CONSOLE = {
  live: '/console/t/musterstadt/live',
  available: 'Verfügbar',
  accept: 'Annehmen',
  message: 'Nachricht',
  handBack: 'An den Assistenten zurückgeben',
  agentName: 'Erika Muster',
  ended: /beendet/,
};
const LIVE_OPTION = 'Jetzt mit einer Mitarbeiterin oder einem Mitarbeiter chatten';
const EMAIL = 'erika@musterstadt.example';
const PASSWORD = 'richtig-langes-Passwort';

// Two instances on one data directory: the embedded cluster is shared, as two instances behind
// a proxy share one DATABASE_URL.
let site, A, B, browser;
before(async () => {
  site = await sample({ env: { CITYBOT_TOWN_CHECK: '200ms' } });
  // The desk is open around the clock, and a citizen waits long enough for the test's agent.
  await site.cli(['towns', 'set', 'musterstadt', 'desk_hours=Mo-So 00:00-24:00', 'desk_live_wait=600']);
  await site.cli(['users', 'add', '--town', 'musterstadt', '--email', EMAIL, '--name', CONSOLE.agentName,
    '--role', 'agent', '--password-stdin'], PASSWORD + '\n');
  A = await site.serve();
  B = await site.serve();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await site?.remove();
});

// pressed tells whether a toggle is on, whatever kind of control it is.
function pressed(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (el instanceof HTMLInputElement) return el.checked;
    return (el.getAttribute('aria-checked') || el.getAttribute('aria-pressed')) === 'true';
  });
}

// The agent: signed in at instance B with the keyboard, on the live page, available.
async function agentOnline() {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(B.base + '/console/login');
  await tabTo(page, 'E-Mail');
  await page.keyboard.type(EMAIL);
  await tabTo(page, 'Passwort');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(B.base + '/console/');
  await page.goto(B.base + CONSOLE.live);
  await axe(page, 'the live page, not available');
  await tabTo(page, CONSOLE.available);
  // The console remembers the agent's availability: on for an agent who left it on before.
  if (!(await pressed(page))) await page.keyboard.press('Space');
  await page.waitForFunction(() => {
    const el = document.activeElement;
    return el instanceof HTMLInputElement ? el.checked : (el.getAttribute('aria-checked') || el.getAttribute('aria-pressed')) === 'true';
  });
  await axe(page, 'the live page, available');
  return { context, page, errors };
}

// The citizen: the widget on instance A, open.
async function citizen() {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(A.base + '/widget/test?open=true');
  await page.locator('citybot-widget .msg.note').waitFor();
  return { context, page, errors };
}
const shadow = (page, fn, arg) => page.locator('citybot-widget').evaluate(fn, arg);
const announced = (page, re) => page.waitForFunction((src) => new RegExp(src).test(
  document.querySelector('citybot-widget').shadowRoot.querySelector('[aria-live="polite"]').textContent), re.source);
const focusedText = (page) => shadow(page, (h) => h.shadowRoot.activeElement?.textContent || '');

// askPerson: "Mit einem Menschen sprechen", then the handoff's live option, with the keyboard;
// the citizen is in the queue.
async function askPerson(page) {
  const n = await $(page, '.msg.bot').count();
  const human = $(page, '.tools button').first();
  assert.equal((await human.textContent()).trim(), 'Mit einem Menschen sprechen');
  await human.focus();
  await page.keyboard.press('Enter');
  const handoff = $(page, '.msg.bot').nth(n);
  await handoff.waitFor();
  const option = handoff.locator('.options button').first();
  assert.equal(await option.textContent(), LIVE_OPTION, 'the live option comes first among the ways to a person');
  await option.focus();
  await page.keyboard.press('Enter');
  await $(page, '.livebar').waitFor();
  return handoff;
}
// accept: the agent takes the waiting citizen with the keyboard, once the queue shows them.
async function accept(page) {
  await page.getByRole('button', { name: CONSOLE.accept }).first().waitFor();
  await tabTo(page, CONSOLE.accept);
  await page.keyboard.press('Enter');
}
function send(page, text) {
  return $(page, '#cb-q').fill(text).then(() => $(page, '#cb-q').press('Enter'));
}
const classes = (page) => shadow(page, (h) => [...h.shadowRoot.querySelectorAll('.log .msg')].map((m) => m.className));

test('citizen at A, agent at B: queue, a person writes, hand back to the assistant, history', async () => {
  const agent = await agentOnline();
  const c = await citizen();
  const { page } = c;

  // Queued: the place in the bar above the composer, announced; the way out.
  await askPerson(page);
  assert.match(await $(page, '.livebar p').textContent(), /^Sie sind Nummer 1 in der Warteschlange\.$/);
  await announced(page, /Nummer 1 in der Warteschlange/);
  assert.equal(await $(page, '.livebar button').textContent(), 'Warteschlange verlassen');
  assert.equal(await $(page, '.tools button').first().isVisible(), false, '"Mit einem Menschen sprechen" is hidden while waiting');
  assert.equal(await $(page, '#cb-q').getAttribute('placeholder'), 'Schreiben Sie Ihre Nachricht …');
  await axe(page, 'the widget, queued');

  // Writing while waiting: the message is the citizen's, sent to the person, no assistant typing.
  const bots = await $(page, '.msg.bot').count();
  await send(page, 'Ich brauche Hilfe beim Antrag auf Wohngeld.');
  await $(page, '.msg.me .sent').last().waitFor();
  assert.equal(await $(page, '.msg.me .sent').last().textContent(), 'Gesendet');
  assert.equal(await $(page, '.typing').isVisible(), false, 'no "assistant is typing" for a message to a person');
  assert.equal(await $(page, '.msg.bot').count(), bots, 'the assistant does not answer it');

  // The agent accepts with the keyboard and sees what the citizen wrote while waiting.
  await accept(agent.page);
  await agent.page.getByText('Ich brauche Hilfe beim Antrag auf Wohngeld.').first().waitFor();

  // The citizen is told that a person writes now: a line in the log, the bar, the composer.
  const joined = $(page, '.msg.sys').first();
  await joined.waitFor();
  assert.match(await joined.textContent(), new RegExp(`^${CONSOLE.agentName} vom Service-Team ist jetzt im Chat\\. Sie schreiben jetzt mit einem Menschen, nicht mit dem KI-Assistenten\\.$`));
  await announced(page, /ist jetzt im Chat/);
  assert.equal(await $(page, '.livebar p').textContent(), `Sie schreiben mit ${CONSOLE.agentName} vom Service-Team (ein Mensch)`);
  assert.equal(await $(page, '.livebar button').textContent(), 'Chat mit dem Service-Team beenden');
  assert.equal(await shadow(page, (h) => h.shadowRoot.querySelector('#cb-q').labels[0].textContent), 'Ihre Nachricht an das Service-Team');

  // The agent writes (the citizen sees that the person types), then sends with Enter.
  await tabTo(agent.page, CONSOLE.message);
  await agent.page.keyboard.type('Guten Tag, ich helfe Ihnen gern beim Wohngeld.', { delay: 40 });
  await $(page, '.typing').waitFor();
  assert.equal(await $(page, '.typing').textContent(), `${CONSOLE.agentName} schreibt …`);
  await agent.page.keyboard.press('Enter');

  // The person's message: named as a person's, no AI label, no rating, no sources.
  const msg = $(page, '.msg.agent');
  await msg.waitFor();
  assert.equal(await msg.locator('.text').textContent(), 'Guten Tag, ich helfe Ihnen gern beim Wohngeld.');
  assert.equal(await msg.locator('.who').textContent(), `${CONSOLE.agentName} – Mitarbeiterin oder Mitarbeiter der Stadt`);
  assert.equal(await msg.getAttribute('role'), 'article');
  assert.equal(await msg.evaluate((el) => el.getRootNode().getElementById(el.getAttribute('aria-labelledby')).textContent),
    `${CONSOLE.agentName} – Mitarbeiterin oder Mitarbeiter der Stadt`, 'its accessible name says a person wrote it');
  assert.equal(await msg.locator('.label, .rate, .sources').count(), 0);
  assert.doesNotMatch(await msg.textContent(), /KI/);
  await announced(page, new RegExp(`${CONSOLE.agentName}, Mitarbeiterin oder Mitarbeiter der Stadt: Guten Tag`));
  await page.waitForFunction(() => document.querySelector('citybot-widget').shadowRoot.querySelector('.typing').hidden,
    null, { timeout: 6000 });
  await axe(page, 'the widget with a person in the chat');
  await screenshot(page, 'live-person');

  // The citizen answers; the agent sees it at the other instance.
  await send(page, 'Danke, das hilft mir.');
  await $(page, '.msg.me .sent').nth(1).waitFor();
  await agent.page.getByText('Danke, das hilft mir.').first().waitFor();
  await axe(agent.page, 'the live page with a chat');
  await screenshot(agent.page, 'live-console');

  // The agent hands back: the AI is disclosed again, the assistant answers.
  await tabTo(agent.page, CONSOLE.handBack);
  await agent.page.keyboard.press('Enter');
  const left = $(page, '.msg.sys').nth(1);
  await left.waitFor();
  assert.equal(await left.textContent(),
    `${CONSOLE.agentName} hat den Chat verlassen. Ab jetzt antwortet wieder der digitale Assistent – ein KI-System, kein Mensch.`);
  await announced(page, /antwortet wieder der digitale Assistent/);
  assert.equal(await $(page, '.livebar').isVisible(), false);
  assert.equal(await $(page, '.tools button').first().isVisible(), true);
  assert.equal(await $(page, '#cb-q').getAttribute('placeholder'), 'Schreiben Sie Ihre Frage …');
  const n = await $(page, '.msg.bot').count();
  await send(page, 'Was kostet ein Reisepass?');
  const answer = $(page, '.msg.bot').nth(n);
  await answer.waitFor();
  assert.match(await answer.locator('.label').textContent(), /KI/);
  assert.ok(await answer.locator('.sources a').count() >= 1);

  // A reload rebuilds it all from the history, the assistant in charge.
  const before = await classes(page);
  await page.reload();
  await $(page, '.msg.bot').last().waitFor();
  await page.waitForFunction((n) => document.querySelector('citybot-widget').shadowRoot.querySelectorAll('.log .msg').length === n, before.length);
  assert.deepEqual(await classes(page), before);
  assert.equal(await $(page, '.msg.me .sent').count(), 2, 'the messages to the person, marked as sent');
  assert.equal(await $(page, '.msg.agent[role=article]').count(), 1);
  assert.equal(await $(page, '.livebar').isVisible(), false);

  assert.deepEqual(c.errors, []);
  assert.deepEqual(agent.errors, []);
  await c.context.close();
  await agent.context.close();
});

test('a reload with a person in the chat goes on with the person; the citizen ends the chat', async () => {
  const agent = await agentOnline();
  const c = await citizen();
  const { page } = c;
  await askPerson(page);
  await accept(agent.page);
  await $(page, '.livebar.person').waitFor();

  // Resumed: the last agent_joined is open, so the person mode comes back without a word.
  await page.reload();
  await $(page, '.msg.sys').waitFor();
  await $(page, '.livebar.person').waitFor();
  assert.equal(await $(page, '.livebar p').textContent(), `Sie schreiben mit ${CONSOLE.agentName} vom Service-Team (ein Mensch)`);

  // The agent's message reaches the resumed widget.
  await tabTo(agent.page, CONSOLE.message);
  await agent.page.keyboard.type('Sind Sie noch da?');
  await agent.page.keyboard.press('Enter');
  await $(page, '.msg.agent').waitFor();

  // The citizen ends the chat with the keyboard: focus goes to the composer, the AI is disclosed.
  await $(page, '.livebar button').focus();
  assert.equal(await focusedText(page), 'Chat mit dem Service-Team beenden');
  await page.keyboard.press('Enter');
  await $(page, '.livebar').waitFor({ state: 'hidden' });
  assert.equal(await $(page, '.msg.sys').last().textContent(),
    'Sie haben den Chat mit dem Service-Team beendet. Ab jetzt antwortet wieder der digitale Assistent – ein KI-System, kein Mensch.');
  assert.equal(await shadow(page, (h) => h.shadowRoot.activeElement?.id), 'cb-q');
  await agent.page.getByText(CONSOLE.ended).first().waitFor();
  assert.deepEqual(c.errors, []);
  await c.context.close();
  await agent.context.close();
});

test('leaving the queue, and nobody accepting in time: a callback is offered instead', async () => {
  const agent = await agentOnline();
  const c = await citizen();
  const { page } = c;

  // Leave the queue with the keyboard.
  await askPerson(page);
  await $(page, '.livebar button').focus();
  await page.keyboard.press('Enter');
  await $(page, '.livebar').waitFor({ state: 'hidden' });
  assert.match(await $(page, '.msg.sys').last().textContent(), /beendet/);

  // A short wait, and the agent does not accept: handoff no_agent, with the other ways.
  await site.cli(['towns', 'set', 'musterstadt', 'desk_live_wait=3']);
  await new Promise((r) => setTimeout(r, 1000)); // CITYBOT_TOWN_CHECK is 200 ms
  await askPerson(page);
  await agent.page.getByRole('button', { name: CONSOLE.accept }).first().waitFor(); // offered, not taken
  const n = await $(page, '.msg.bot').count();
  await $(page, '.msg.bot').nth(n).waitFor({ timeout: 15000 });
  const noAgent = $(page, '.msg.bot').nth(n);
  assert.match(await noAgent.textContent(), /Leider ist gerade niemand aus dem Service-Team frei/);
  assert.ok(await noAgent.getByRole('button', { name: 'Rückruf anfordern' }).count() === 1);
  assert.equal(await $(page, '.livebar').isVisible(), false);
  await axe(page, 'the widget after no_agent');
  await site.cli(['towns', 'set', 'musterstadt', 'desk_live_wait=600']);
  assert.deepEqual(c.errors, []);
  await c.context.close();
  await agent.context.close();
});
