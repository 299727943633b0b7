// Starts a real citybot for the browser tests: the sample site ingested into a temporary data
// directory (the embedded PostgreSQL), then `citybot serve` on a free loopback port.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = process.env.CITYBOT_BIN || join(repo, 'bin/citybot');

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

// startCitybot returns the server's base URL, restart() (a shutdown with close code 1001 and a
// new server on the same port), cli(args, input) (a command on the same database) and stop().
// env adds to or overrides the environment of every citybot command (e.g. CITYBOT_SMTP_URL).
export async function startCitybot({ env: extra = {} } = {}) {
  const data = await mkdtemp(join(tmpdir(), 'citybot-e2e-'));
  await chmod(data, 0o755); // as root the database runs as the postgres user
  const env = { ...process.env, CITYBOT_DATA: data, CITYBOT_LOG_LEVEL: 'warn', CITYBOT_CITY: 'Musterstadt',
    CITYBOT_PRIVACY_URL: 'https://www.musterstadt.example/datenschutz', ...extra };
  await run(['ingest', '--dir', 'sample/musterstadt', '--base-url', 'https://www.musterstadt.example'], env);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let proc = null;
  let log = '';
  const start = async () => {
    proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.on('data', (d) => { log += d; });
    await waitReady(base, proc, 60000);
  };
  const stopServer = async () => {
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    base,
    data, // the data directory: its pg/postmaster.pid names the embedded database's postmaster
    log: () => log,
    restart: async () => { await stopServer(); await start(); },
    cli: (args, input) => run(args, env, input),
    stop: async () => { await stopServer(); await rm(data, { recursive: true, force: true }); },
  };
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
