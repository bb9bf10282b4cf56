// Headless Chromium checks of the khabar reader site, as a reader sees it.
//
//   cargo build -p khabar && node --test e2e/
//
// Starts `khabar demo` in a fresh temp data dir on a free loopback port, opens
// the home page and an article at a phone and a desktop viewport, and checks
// direction/language, that the bundled Arabic font really loaded, that nothing
// failed (requests, statuses >= 400, console errors, page errors), the article
// structure, no horizontal overflow on the phone, and the Arabic 404 page.
// Full-page screenshots go to target/screenshots/.
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.KHABAR_BIN || path.join(REPO, 'target', 'debug', 'khabar');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SHOTS = path.join(REPO, 'target', 'screenshots');
const READY_TIMEOUT_MS = 20_000;

const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
  desktop: { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
};

const FONT_FAMILY = 'Noto Naskh Arabic';
const RELATED_HEADING = 'أخبار ذات صلة';

// Fail the whole file up front (not as five "cancelled" tests) when there is nothing to test.
if (!fs.existsSync(BIN)) {
  throw new Error(
    `khabar binary not found at ${BIN}\n` +
      `Build it first (cd ${REPO} && cargo build -p khabar) or point KHABAR_BIN at a built binary.`,
  );
}

let server; // { proc, base, dataDir, output() }
let browser;

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startKhabar() {
  if (!fs.existsSync(BIN)) {
    throw new Error(
      `khabar binary not found at ${BIN}\n` +
        `Build it first (cd ${REPO} && cargo build -p khabar) or point KHABAR_BIN at a built binary.`,
    );
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'khabar-e2e-'));
  const dataDir = path.join(tmp, 'data');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let out = '';
  const proc = spawn(BIN, ['demo', '--data', dataDir, '--addr', `127.0.0.1:${port}`], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
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

async function stopKhabar(s) {
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

/** Opens a page in a fresh context at the given viewport, recording everything that went wrong. */
async function openPage(kind) {
  const context = await browser.newContext({ ...VIEWPORTS[kind], locale: 'ar' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
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
  return { context, page, problems };
}

/** Scrolls through the page so lazy images load, then waits for the network to settle. */
async function settle(page) {
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

async function checkCommon(page, problems, label) {
  const info = await page.evaluate(
    async ([family]) => {
      await document.fonts.ready;
      const faces = [...document.fonts].map((f) => ({ family: f.family, status: f.status, weight: f.weight }));
      return {
        dir: document.documentElement.dir,
        lang: document.documentElement.lang,
        fontCheck: document.fonts.check(`16px "${family}"`, 'خبر'),
        faces,
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        innerWidth: window.innerWidth,
        bodyFont: getComputedStyle(document.body).fontFamily,
      };
    },
    [FONT_FAMILY],
  );
  assert.equal(info.dir, 'rtl', `${label}: <html dir> should be rtl`);
  assert.equal(info.lang, 'ar', `${label}: <html lang> should be ar`);
  assert.ok(info.fontCheck, `${label}: document.fonts.check('16px "${FONT_FAMILY}"', 'خبر') is false`);
  const loaded = info.faces.filter((f) => f.family.includes(FONT_FAMILY) && f.status === 'loaded');
  assert.ok(
    loaded.length > 0,
    `${label}: no FontFace for "${FONT_FAMILY}" has status 'loaded'; faces: ${JSON.stringify(info.faces)}`,
  );
  const broken = info.faces.filter((f) => f.status === 'error');
  assert.deepEqual(broken, [], `${label}: font faces that failed to load`);
  assert.deepEqual(problems.failed, [], `${label}: failed requests`);
  assert.deepEqual(problems.bad, [], `${label}: responses with status >= 400`);
  assert.deepEqual(problems.console, [], `${label}: console errors`);
  assert.deepEqual(problems.pageErrors, [], `${label}: page errors`);
  return info;
}

function checkNoOverflow(info, label) {
  assert.ok(
    info.scrollWidth <= info.innerWidth + 1,
    `${label}: horizontal overflow: scrollWidth ${info.scrollWidth} > innerWidth ${info.innerWidth}`,
  );
  assert.ok(
    info.scrollWidth <= info.clientWidth + 1,
    `${label}: horizontal overflow: scrollWidth ${info.scrollWidth} > clientWidth ${info.clientWidth}`,
  );
}

async function shoot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe('khabar reader site in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    browser = await chromium.launch({
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
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      await stopKhabar(server);
    }
  });

  for (const kind of Object.keys(VIEWPORTS)) {
    test(`home page (${kind})`, { timeout: 60_000 }, async () => {
      const { context, page, problems } = await openPage(kind);
      try {
        const res = await page.goto(`${server.base}/`, { waitUntil: 'load' });
        assert.equal(res.status(), 200, 'home page status');
        await settle(page);
        const info = await checkCommon(page, problems, `home/${kind}`);
        if (kind === 'phone') checkNoOverflow(info, `home/${kind}`);
        const links = await page.locator('a[href^="/news/"]').count();
        assert.ok(links > 0, 'home page has no /news/ links');
        await shoot(page, `home-${kind}`);
      } finally {
        await context.close();
      }
    });

    test(`article page (${kind})`, { timeout: 60_000 }, async () => {
      const { context, page, problems } = await openPage(kind);
      try {
        const res = await page.goto(`${server.base}/`, { waitUntil: 'load' });
        assert.equal(res.status(), 200, 'home page status');
        // Follow the first /news/ link, as a reader would.
        const link = page.locator('a[href^="/news/"]').first();
        const href = await link.getAttribute('href');
        assert.ok(href, 'home page has no /news/ link');
        const expected = new URL(href, server.base).pathname;
        if (await link.isVisible()) {
          await Promise.all([page.waitForURL((u) => u.pathname === expected, { waitUntil: 'load' }), link.click()]);
        } else {
          await page.goto(new URL(href, server.base).href, { waitUntil: 'load' });
        }
        assert.equal(new URL(page.url()).pathname, expected, 'landed on the article URL');
        await settle(page);
        const info = await checkCommon(page, problems, `article/${kind}`);
        if (kind === 'phone') checkNoOverflow(info, `article/${kind}`);

        const h1 = await page.locator('h1').count();
        assert.ok(h1 >= 1, 'article page has no <h1>');
        const h1Text = (await page.locator('h1').first().innerText()).trim();
        assert.ok(/[\u0600-\u06FF]/.test(h1Text), `article <h1> has no Arabic text: ${JSON.stringify(h1Text)}`);

        const related = await page.evaluate((title) => {
          const heading = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].find((h) =>
            h.textContent.includes(title),
          );
          if (!heading) return null;
          const box = heading.closest('section, aside, nav') || heading.parentElement;
          const hrefs = [...box.querySelectorAll('a[href^="/news/"]')].map((a) => a.getAttribute('href'));
          return { tag: box.tagName, links: hrefs.length, distinct: new Set(hrefs).size };
        }, RELATED_HEADING);
        assert.ok(related, `article page has no "${RELATED_HEADING}" section`);
        assert.ok(
          related.distinct >= 5,
          `"${RELATED_HEADING}" links to ${related.distinct} distinct articles (${related.links} links); want >= 5`,
        );
        await shoot(page, `article-${kind}`);
      } finally {
        await context.close();
      }
    });
  }

  test('missing article shows an Arabic 404 page', { timeout: 60_000 }, async () => {
    const { context, page, problems } = await openPage('phone');
    try {
      const url = `${server.base}/news/999999`;
      const res = await page.goto(url, { waitUntil: 'load' });
      assert.equal(res.status(), 404, '/news/999999 status');
      await settle(page);
      const info = await page.evaluate(() => ({
        dir: document.documentElement.dir,
        lang: document.documentElement.lang,
        text: document.body.innerText,
      }));
      assert.equal(info.dir, 'rtl', '404 page <html dir>');
      assert.equal(info.lang, 'ar', '404 page <html lang>');
      assert.ok(info.text.includes('غير موجودة'), `404 page lacks "غير موجودة": ${info.text.slice(0, 300)}`);
      // The page itself is the one 404; its styles, font and images must still load.
      assert.deepEqual(problems.failed, [], '404 page: failed requests');
      assert.deepEqual(
        problems.bad.filter((b) => !b.endsWith(url)),
        [],
        '404 page: subresources with status >= 400',
      );
      assert.deepEqual(problems.pageErrors, [], '404 page: page errors');
      await shoot(page, 'notfound-phone');
    } finally {
      await context.close();
    }
  });
});
