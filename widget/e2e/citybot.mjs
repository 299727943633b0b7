// The browser tests' fixtures: a real citybot with the sample site ingested into a temporary data
// directory (the embedded PostgreSQL) and `citybot serve` on free loopback ports; Debian's
// Chromium; axe-core; keyboard navigation; screenshots.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = process.env.CITYBOT_BIN || join(repo, 'bin/citybot');
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// run runs a citybot command with env, input on its standard input, and returns its output.
function run(args, env, input = '') {
  return new Promise((ok, fail) => {
    const p = spawn(bin, args, { cwd: repo, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`citybot ${args[0]} exited ${code}: ${err}`))));
    p.stdin.end(input);
  });
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitReady(base, proc, limitMs) {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`citybot serve exited ${proc.exitCode}`);
    try {
      if ((await fetch(base + '/readyz')).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`citybot serve not ready at ${base} after ${limitMs} ms`);
}

// sample ingests the sample site into a new data directory (the embedded PostgreSQL) and
// returns its environment (env adds to or overrides it, e.g. CITYBOT_SMTP_URL), cli(args, input)
// (a command on its database), serve() (a `citybot serve` on a free port: {base, log, restart,
// stop}; several share the one database, as instances behind a proxy do) and remove().
export async function sample({ env: extra = {} } = {}) {
  const data = await mkdtemp(join(tmpdir(), 'citybot-e2e-'));
  await chmod(data, 0o755); // as root the database runs as the postgres user
  const env = { ...process.env, CITYBOT_DATA: data, CITYBOT_LOG_LEVEL: 'warn', CITYBOT_CITY: 'Musterstadt',
    CITYBOT_PRIVACY_URL: 'https://www.musterstadt.example/datenschutz', ...extra };
  await run(['ingest', '--dir', 'sample/musterstadt', '--base-url', 'https://www.musterstadt.example'], env);
  const servers = [];
  const serve = async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let proc = null;
    let log = '';
    const start = async () => {
      proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr.on('data', (d) => { log += d; });
      await waitReady(base, proc, 60000);
    };
    const stop = async () => {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    };
    await start();
    const server = { base, log: () => log, restart: async () => { await stop(); await start(); }, stop };
    servers.push(server);
    return server;
  };
  return {
    data, // its pg/postmaster.pid names the embedded database's postmaster
    env,
    cli: (args, input) => run(args, env, input),
    serve,
    remove: async () => {
      for (const s of servers) await s.stop();
      await rm(data, { recursive: true, force: true });
    },
  };
}

// startCitybot serves the sample site from one instance: its base URL, data directory, log,
// restart() (a shutdown with close code 1001 and a new server on the same port), cli(args,
// input) and stop(). env as for sample.
export async function startCitybot(options) {
  const site = await sample(options);
  const server = await site.serve();
  return { base: server.base, data: site.data, log: server.log, restart: server.restart, cli: site.cli, stop: site.remove };
}

// axe runs axe-core (WCAG 2.0 and 2.1, A and AA) over the page, into the widget's open shadow
// root, and fails on any violation. Evaluated rather than added as a script: the pages'
// Content-Security-Policy rightly refuses inline scripts.
export async function axe(page, what) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const res = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG);
  const found = res.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  assert.deepEqual(found, [], `axe on ${what}`);
}

// tabTo presses Tab until the focused element's accessible name (aria-label, aria-labelledby, its
// label or its text) is name: the staff's flows are done with the keyboard alone.
export async function tabTo(page, name, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const got = await page.evaluate(() => {
      const el = document.activeElement;
      const byId = el?.getAttribute('aria-labelledby')?.split(' ').map((id) => document.getElementById(id)?.textContent || '').join(' ');
      return (el?.getAttribute('aria-label') || byId || el?.labels?.[0]?.textContent || el?.textContent || '').trim();
    });
    if (got === name) return;
  }
  assert.fail(`Tab never reached ${name}`);
}

// $ finds css in the widget's shadow root.
export const $ = (page, css) => page.locator('citybot-widget ' + css);

// ask asks text in the open widget and returns the element of its reply. It waits for the
// disclosure first: a question typed before the widget is connected is refused as offline.
export async function ask(page, text) {
  await $(page, '.msg.note').first().waitFor();
  const n = await $(page, '.msg.bot').count();
  await $(page, '#cb-q').fill(text);
  await $(page, '#cb-q').press('Enter');
  const reply = $(page, '.msg.bot').nth(n);
  await reply.waitFor();
  return reply;
}

// artifacts is where screenshots go; screenshot saves one there.
export const artifacts = new URL('./artifacts/', import.meta.url);
export async function screenshot(page, name) {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: new URL(name + '.png', artifacts).pathname });
}

// launchChromium starts Debian's Chromium (or CHROMIUM) for the tests, without the features that
// would reach out of the machine.
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync'],
  });
}
