// Shared pieces of the headless Chromium tests in e2e/ (not a test file itself):
// find the khabar binary, run `khabar demo` on a free loopback port in a fresh
// temp data dir, launch Chromium, open pages that record everything that went
// wrong, and save screenshots to target/screenshots/.
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = process.env.KHABAR_BIN || path.join(REPO, 'target', 'debug', 'khabar');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SHOTS = path.join(REPO, 'target', 'screenshots');
const READY_TIMEOUT_MS = 20_000;

export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
  desktop: { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Throws (call it at module top level) when the khabar binary has not been built. */
export function requireBinary() {
  if (!fs.existsSync(BIN)) {
    throw new Error(
      `khabar binary not found at ${BIN}\n` +
        `Build it first (cd ${REPO} && cargo build -p khabar) or point KHABAR_BIN at a built binary.`,
    );
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `khabar demo` in a fresh temp data dir on a free loopback port and waits for /healthz.
 * `env` is merged over process.env (e.g. { KHABAR_SMTP_URL: 'smtp://127.0.0.1:2525' }).
 * Returns { proc, base, tmp, dataDir, output(), exited() }; pass it to stopKhabar().
 */
export async function startKhabar({ env = {} } = {}) {
  requireBinary();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'khabar-e2e-'));
  const dataDir = path.join(tmp, 'data');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let out = '';
  const proc = spawn(BIN, ['demo', '--data', dataDir, '--addr', `127.0.0.1:${port}`], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    out += chunk;
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exited = null;
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const s = { proc, base, tmp, dataDir, output: () => out, exited: () => exited };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new Error(`khabar demo exited (${JSON.stringify(exited)}) before /healthz answered:\n${out}`);
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopKhabar(s);
      throw new Error(`khabar demo not ready on ${base}/healthz after ${READY_TIMEOUT_MS / 1000} s:\n${out}`);
    }
    await sleep(50);
  }
  return s;
}

/** Stops a server from startKhabar() with SIGTERM (SIGKILL after 5 s) and removes its temp dir. */
export async function stopKhabar(s) {
  if (!s) return;
  const { proc } = s;
  if (proc.exitCode === null && proc.signalCode === null) {
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const t = await Promise.race([gone.then(() => 'exited'), sleep(5000).then(() => 'timeout')]);
    if (t === 'timeout') {
      proc.kill('SIGKILL');
      await Promise.race([gone, sleep(2000)]);
    }
  }
  fs.rmSync(s.tmp, { recursive: true, force: true });
}

/** Runs the khabar binary with args (bounded in time); resolves to { stdout, stderr }, rejects on failure. */
export function runKhabar(args, { env = {}, timeoutMs = 20_000 } = {}) {
  requireBinary();
  return new Promise((resolve, reject) => {
    execFile(
      BIN,
      args,
      { env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) {
          err.message += `\nkhabar ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`;
          reject(err);
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** Launches headless Chromium with the flags all e2e tests use. */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Records what goes wrong on a page: failed requests, responses >= 400, console errors and
 * page errors. Returns the (live) problems object.
 */
export function watchPage(page) {
  const problems = { failed: [], bad: [], console: [], pageErrors: [] };
  page.on('requestfailed', (req) =>
    problems.failed.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) problems.bad.push(`${res.status()} ${res.url()}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push(`${msg.text()} @ ${msg.location()?.url ?? ''}`);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  return problems;
}

/**
 * Asserts nothing went wrong. `allowBad(entry)` may excuse expected ">= 400" responses,
 * `allowConsole(entry)` expected console errors (Chromium logs one for every >= 400 document)
 * and `allowFailed(entry)` requests the test itself cut short (see `cancelledByNavigation`).
 */
export function assertNoProblems(
  problems,
  label,
  { allowBad = () => false, allowConsole = () => false, allowFailed = () => false } = {},
) {
  assert.deepEqual(
    problems.failed.filter((f) => !allowFailed(f)),
    [],
    `${label}: failed requests`,
  );
  assert.deepEqual(
    problems.bad.filter((b) => !allowBad(b)),
    [],
    `${label}: responses with status >= 400`,
  );
  assert.deepEqual(
    problems.console.filter((c) => !allowConsole(c)),
    [],
    `${label}: console errors`,
  );
  assert.deepEqual(problems.pageErrors, [], `${label}: page errors`);
}

/**
 * A request the browser cancelled because the page navigated away (a form submitted
 * without JavaScript leaves while its favicon may still be loading): not a failure.
 */
export const cancelledByNavigation = (failure) => failure.endsWith('net::ERR_ABORTED');

/** Empties a problems object (e.g. after a step that was expected to produce one). */
export function clearProblems(problems) {
  for (const list of Object.values(problems)) list.length = 0;
}

/** Opens a page in a fresh context at the given viewport ('phone' or 'desktop'), watched by watchPage(). */
export async function openPage(browser, kind, { locale = 'ar', timeoutMs = 15_000 } = {}) {
  const context = await browser.newContext({ ...VIEWPORTS[kind], locale });
  context.setDefaultTimeout(timeoutMs);
  const page = await context.newPage();
  const problems = watchPage(page);
  return { context, page, problems };
}

/** Scrolls through the page so lazy images load, then waits for the network to settle. */
export async function settle(page) {
  await page.evaluate(async () => {
    const step = Math.max(200, Math.floor(window.innerHeight * 0.8));
    for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
      window.scrollTo(0, y);
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30)));
    }
    window.scrollTo(0, 0);
  });
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
}

/** Saves a full-page screenshot to target/screenshots/<name>.png and returns its path. */
export async function shoot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
