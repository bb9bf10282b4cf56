// Headless Chromium checks of the khabar mailing list, as a reader clicks through it.
//
//   cargo build -p khabar && node --test e2e/
//
// Starts a real SMTP server (crates/khabar/tests/support/smtp_sink.py, Debian's
// python3-aiosmtpd) on an ephemeral loopback port and `khabar demo` relaying to it
// (KHABAR_SMTP_URL; no scheduled digest). Then, on a phone: the sidebar signup box of the
// home page (its script fetches a fresh form token on focus; the server refuses forms
// filled in under 2 s), "check your email", the confirmation email as received by the
// relay (multipart/alternative, base64 text part; greets the reader by name), the
// confirmation page and its button, the preferences page (uncheck breaking-news alerts,
// save, still unchecked after a reload) and unsubscribing. And, on a desktop with
// JavaScript disabled, the same box: the signup page asks once more ("خطوة أخيرة", fields
// pre-filled), then "check your email" and an email for that address too. Every page must
// be rtl/ar and free of failed requests, responses >= 400, console errors and page errors;
// phone pages must not overflow horizontally. Screenshots go to target/screenshots/
// (newsletter-signup-phone and newsletter-box-phone (the box alone), newsletter-check-email-phone,
// newsletter-confirm-phone, newsletter-preferences-phone, newsletter-preferences-saved-phone,
// newsletter-unsubscribed-phone, newsletter-signup-desktop, newsletter-box-desktop,
// newsletter-last-step-desktop, newsletter-check-email-desktop).
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium), PYTHON3 (default /usr/bin/python3).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  REPO,
  SHOTS,
  VIEWPORTS,
  assertNoProblems,
  clearProblems,
  launchBrowser,
  openPage,
  requireBinary,
  shoot,
  sleep,
  startKhabar,
  stopKhabar,
  watchPage,
} from './harness.mjs';

requireBinary();

const PYTHON = process.env.PYTHON3 || '/usr/bin/python3';
const SMTP_SINK = path.join(REPO, 'crates', 'khabar', 'tests', 'support', 'smtp_sink.py');
const SINK_READY_TIMEOUT_MS = 10_000;
const MAIL_TIMEOUT_MS = 20_000;
// The server refuses a form filled in less than 2 s after its token was made.
const FILL_WAIT_MS = 2_500;

const READER = { name: 'ريم الخطيب', email: 'reem.alkhatib@example.com' };
const NO_JS_READER = { name: 'سامي الحلبي', email: 'sami.halabi@example.com' };
const BOX_HEADING = 'النشرة البريدية';
const CHECK_EMAIL = 'تحقّق من بريدك';
const CONFIRM = 'تأكيد الاشتراك';
const ALERTS = 'تنبيهات الأخبار العاجلة';
const DIGEST = 'النشرة اليومية بأبرز الأخبار';

let sink; // { proc, dir, port }
let server;
let browser;

// ------------------------------------------------------------------ the SMTP server

/** Starts smtp_sink.py on an ephemeral port, writing messages to a fresh temp dir. */
async function startSink() {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} not found (apt-get install python3 python3-aiosmtpd)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'khabar-e2e-mail-'));
  const proc = spawn(PYTHON, [SMTP_SINK, '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (chunk) => {
    err = (err + chunk).slice(-16_000);
  });
  const s = { proc, dir, port: null, output: () => `stdout: ${out}\nstderr: ${err}` };
  try {
    s.port = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no LISTENING line after ${SINK_READY_TIMEOUT_MS} ms`)),
        SINK_READY_TIMEOUT_MS,
      );
      proc.stdout.on('data', (chunk) => {
        out += chunk;
        const m = out.match(/^LISTENING (\d+)\r?\n/m);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code ?? signal}) before listening`));
      });
    });
  } catch (e) {
    await stopSink(s);
    throw new Error(`smtp_sink.py: ${e.message}\n${s.output()}`);
  }
  return s;
}

/** Stops the sink (SIGTERM, SIGKILL after 5 s) and removes its folder. */
async function stopSink(s) {
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
  fs.rmSync(s.dir, { recursive: true, force: true });
}

/** The texts of the complete .eml files (the sink renames them into place) whose To names `email`. */
function mailsTo(email) {
  return fs
    .readdirSync(sink.dir)
    .filter((n) => n.endsWith('.eml'))
    .sort()
    .map((n) => fs.readFileSync(path.join(sink.dir, n), 'utf8'))
    .filter((raw) => (splitMessage(raw).headers.to || '').toLowerCase().includes(email));
}

/** Waits for the email to `email` and returns its text; there must be exactly one. */
async function waitForMail(email) {
  const deadline = Date.now() + MAIL_TIMEOUT_MS;
  for (;;) {
    const found = mailsTo(email);
    if (found.length > 0) {
      assert.equal(found.length, 1, `one email to ${email}, got ${found.length}`);
      return found[0];
    }
    if (Date.now() > deadline) {
      throw new Error(
        `no email to ${email} reached the SMTP server in ${MAIL_TIMEOUT_MS / 1000} s ` +
          `(files: ${JSON.stringify(fs.readdirSync(sink.dir))})\n` +
          `khabar said:\n${server.output()}\nsink said:\n${sink.output()}`,
      );
    }
    await sleep(100);
  }
}

// ------------------------------------------------------------------ a minimal MIME reader

/** Headers (unfolded, lower-case names; the first of each) and body of an RFC 5322 message or MIME part. */
function splitMessage(raw) {
  const m = raw.match(/\r?\n\r?\n/);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** Decodes RFC 2047 encoded words (UTF-8, B or Q) in a header value. */
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc, text) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

function decodeBody(headers, body) {
  const encoding = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9a-f]{2})/gi, (_m, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** The leaf parts of a message as [{ type, text }], multiparts walked depth first. */
function leafParts(raw) {
  const { headers, body } = splitMessage(raw);
  const type = (headers['content-type'] || 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = (headers['content-type'].match(/boundary="?([^";]+)"?/i) || [])[1];
    assert.ok(boundary, `multipart without a boundary: ${headers['content-type']}`);
    const sections = body.split(`--${boundary}`);
    // sections[0] is the preamble; the one after the closing delimiter starts with "--".
    return sections
      .slice(1)
      .filter((s) => !s.startsWith('--'))
      .flatMap((s) => leafParts(s.replace(/^\r?\n/, '')));
  }
  return [{ type: type.split(';')[0].trim(), text: decodeBody(headers, body) }];
}

// ------------------------------------------------------------------ page checks

/** The page must be Arabic RTL and nothing may have gone wrong since the last check. */
async function checkPage(page, problems, label, { phone = false } = {}) {
  await page.waitForLoadState('load');
  const html = page.locator('html');
  assert.equal(await html.getAttribute('dir'), 'rtl', `${label}: <html dir> should be rtl`);
  assert.equal(await html.getAttribute('lang'), 'ar', `${label}: <html lang> should be ar`);
  if (phone) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${label}: horizontal overflow of ${overflow} px at ${VIEWPORTS.phone.viewport.width} px`);
  }
  assertNoProblems(problems, label);
  clearProblems(problems);
}

/** The page's <h1> must read `text`. */
async function expectHeading(page, text, label) {
  const h1 = page.locator('h1');
  assert.equal(await h1.count(), 1, `${label}: one <h1>`);
  assert.equal((await h1.innerText()).trim(), text, `${label}: <h1> (url ${page.url()})`);
}

/** Expects a role="status" notice containing `text`; returns the notices. */
async function expectNotice(page, text, label) {
  const texts = await page.getByRole('status').allInnerTexts();
  assert.ok(
    texts.some((t) => t.includes(text)),
    `${label}: no notice containing "${text}"; notices: ${JSON.stringify(texts)}; url ${page.url()}`,
  );
  return texts;
}

/** Clicks `button` and waits for the page it loads (whose path `pathOk` accepts). */
async function clickThrough(page, button, pathOk) {
  await Promise.all([page.waitForURL((u) => pathOk(u.pathname), { waitUntil: 'load' }), button.click()]);
}

/** Saves a screenshot of just the signup box to target/screenshots/<name>.png (full pages are long). */
async function shootBox(box, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await box.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** The home page's sidebar signup box, checked to be there with its heading. */
async function signupBox(page) {
  const form = page.locator('form[data-newsletter]');
  assert.equal(await form.count(), 1, 'home page has one form[data-newsletter]');
  const box = page.locator('section', { has: form });
  assert.equal(
    (await box.getByRole('heading', { level: 2 }).innerText()).trim(),
    BOX_HEADING,
    'signup box heading',
  );
  return {
    form,
    box,
    name: form.getByLabel('الاسم', { exact: true }),
    email: form.getByLabel('البريد الإلكتروني', { exact: true }),
    submit: form.getByRole('button', { name: 'اشترك', exact: true }),
  };
}

describe('khabar mailing list in headless Chromium', () => {
  before(async () => {
    sink = await startSink();
    server = await startKhabar({
      env: { KHABAR_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, KHABAR_NEWSLETTER_DIGEST_TIME: '' },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      try {
        await stopKhabar(server);
      } finally {
        await stopSink(sink);
      }
    }
  });

  test('a reader signs up, confirms from the email, chooses and leaves', { timeout: 90_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'phone');
    try {
      const res = await page.goto(`${server.base}/`, { waitUntil: 'load' });
      assert.equal(res.status(), 200, 'home page status');
      await checkPage(page, problems, 'home', { phone: true });
      const box = await signupBox(page);
      assert.equal(await box.form.locator('input[name=token]').inputValue(), '', 'the cached box carries no token');

      // Focusing the box makes its script fetch a fresh token; the countdown starts there.
      const tokenAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/newsletter/form-token');
      await box.name.scrollIntoViewIfNeeded();
      await box.name.focus();
      assert.equal((await tokenAnswer).status(), 200, '/newsletter/form-token status');
      const tokenAt = Date.now();
      await page.waitForFunction(
        () => document.querySelector('form[data-newsletter] input[name=token]').value !== '',
        null,
        { timeout: 5_000 },
      );
      await box.name.pressSequentially(READER.name, { delay: 20 });
      await box.email.focus();
      await box.email.pressSequentially(READER.email, { delay: 10 });
      assert.equal(await box.name.inputValue(), READER.name, 'typed name');
      assert.equal(await box.email.inputValue(), READER.email, 'typed email');
      await shoot(page, 'newsletter-signup-phone');
      await shootBox(box.box, 'newsletter-box-phone');
      await sleep(Math.max(0, tokenAt + FILL_WAIT_MS - Date.now()));

      await clickThrough(page, box.submit, (p) => p === '/newsletter/subscribe');
      await expectHeading(page, CHECK_EMAIL, 'after signing up');
      assert.equal(await page.locator('form[data-newsletter]').count(), 0, 'no signup box on the newsletter pages');
      await checkPage(page, problems, 'check email', { phone: true });
      await shoot(page, 'newsletter-check-email-phone');

      // The confirmation email, as the relay received it.
      const raw = await waitForMail(READER.email);
      const { headers } = splitMessage(raw);
      assert.match(headers['content-type'] || '', /^multipart\/alternative;/i, 'top-level Content-Type');
      const subject = decodeWords(headers.subject || '');
      assert.ok(subject.includes('أكّد اشتراكك'), `subject: ${JSON.stringify(subject)}`);
      const parts = leafParts(raw);
      assert.deepEqual(
        parts.map((p) => p.type),
        ['text/plain', 'text/html'],
        'the parts of the multipart/alternative',
      );
      const text = parts[0].text;
      assert.ok(text.includes(`مرحبًا ${READER.name}`), `plain text does not greet the reader by name:\n${text}`);
      const linkRe = new RegExp(`${server.base.replace(/[.]/g, '\\.')}/newsletter/confirm/[A-Za-z0-9_.~-]+`, 'g');
      const links = text.match(linkRe) || [];
      assert.equal(links.length, 1, `one confirmation link ${server.base}/newsletter/confirm/... in:\n${text}`);
      const confirmUrl = links[0];
      assert.ok(parts[1].text.includes(`href="${confirmUrl}"`), 'the HTML part links the same confirmation URL');

      // Opening the link changes nothing; its button confirms.
      const confirmRes = await page.goto(confirmUrl, { waitUntil: 'load' });
      assert.equal(confirmRes.status(), 200, 'confirmation page status');
      await expectHeading(page, CONFIRM, 'confirmation page');
      const lead = await page.locator('.newsletter-page .lead').innerText();
      assert.ok(lead.includes(READER.name), `confirmation page does not name the reader: ${lead}`);
      await checkPage(page, problems, 'confirmation page', { phone: true });
      await shoot(page, 'newsletter-confirm-phone');
      await clickThrough(page, page.getByRole('button', { name: CONFIRM, exact: true }), (p) =>
        p.startsWith('/newsletter/preferences/'),
      );
      const preferencesUrl = new URL(page.url());
      assert.equal(preferencesUrl.searchParams.get('welcome'), '1', 'landed on the welcome notice');
      await expectHeading(page, 'ما يصلك منّا', 'preferences page');
      await expectNotice(page, 'تم تأكيد اشتراكك', 'preferences after confirming');
      await checkPage(page, problems, 'preferences page', { phone: true });

      const alerts = page.getByLabel(ALERTS);
      const digest = page.getByLabel(DIGEST);
      assert.equal(await page.getByLabel('الاسم', { exact: true }).inputValue(), READER.name, 'name field');
      assert.ok(await digest.isChecked(), 'digest is chosen by default');
      assert.ok(await alerts.isChecked(), 'alerts are chosen by default');
      await shoot(page, 'newsletter-preferences-phone');

      await alerts.uncheck();
      await clickThrough(page, page.getByRole('button', { name: 'حفظ', exact: true }), (p) =>
        p.startsWith('/newsletter/preferences/'),
      );
      assert.equal(new URL(page.url()).searchParams.get('saved'), '1', 'redirected with saved=1');
      await expectNotice(page, 'حُفظت اختياراتك.', 'save preferences');
      await checkPage(page, problems, 'preferences saved', { phone: true });
      await page.reload({ waitUntil: 'load' });
      await checkPage(page, problems, 'preferences reloaded', { phone: true });
      assert.equal(await page.getByLabel(ALERTS).isChecked(), false, 'alerts still unchecked after a reload');
      assert.equal(await page.getByLabel(DIGEST).isChecked(), true, 'digest still checked after a reload');
      await shoot(page, 'newsletter-preferences-saved-phone');

      await clickThrough(page, page.getByRole('button', { name: 'ألغِ اشتراكي', exact: true }), (p) =>
        p.startsWith('/newsletter/unsubscribe/'),
      );
      await expectHeading(page, 'ألغينا اشتراكك', 'after unsubscribing');
      const body = await page.locator('.newsletter-page').innerText();
      assert.ok(body.includes(READER.email), `unsubscribed page does not name the address: ${body}`);
      await checkPage(page, problems, 'unsubscribed', { phone: true });
      await shoot(page, 'newsletter-unsubscribed-phone');

      // The preferences link now offers to subscribe again instead of the choices.
      await page.goto(preferencesUrl.origin + preferencesUrl.pathname, { waitUntil: 'load' });
      assert.equal(await page.getByLabel(ALERTS).count(), 0, 'no choices for an unsubscribed address');
      assert.equal(await page.getByRole('link', { name: 'اشترك من جديد' }).count(), 1, 'a "subscribe again" link');
      await checkPage(page, problems, 'preferences after unsubscribing', { phone: true });
    } finally {
      await context.close();
    }
  });

  test('without JavaScript the sidebar box signs up in two clicks', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'ar', javaScriptEnabled: false });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const problems = watchPage(page);
    try {
      const res = await page.goto(`${server.base}/`, { waitUntil: 'load' });
      assert.equal(res.status(), 200, 'home page status');
      await checkPage(page, problems, 'home (no JS)');
      const box = await signupBox(page);
      await box.name.fill(NO_JS_READER.name);
      await box.email.fill(NO_JS_READER.email);
      await box.box.scrollIntoViewIfNeeded();
      await shoot(page, 'newsletter-signup-desktop');
      await shootBox(box.box, 'newsletter-box-desktop');

      await clickThrough(page, box.submit, (p) => p === '/newsletter/subscribe');
      const formAt = Date.now();
      await expectHeading(page, 'اشترك في النشرة البريدية', 'signup page (no JS)');
      const notices = await expectNotice(page, 'خطوة أخيرة', 'signup page (no JS)');
      assert.ok(
        notices.some((t) => t.trim().startsWith('خطوة أخيرة')),
        `the notice should start with "خطوة أخيرة": ${JSON.stringify(notices)}`,
      );
      const form = page.locator('form.newsletter-form');
      const name = form.getByLabel('الاسم', { exact: true });
      const email = form.getByLabel('البريد الإلكتروني', { exact: true });
      assert.equal(await name.inputValue(), NO_JS_READER.name, 'name pre-filled');
      assert.equal(await email.inputValue(), NO_JS_READER.email, 'email pre-filled');
      assert.notEqual(await form.locator('input[name=token]').inputValue(), '', 'the signup page carries a token');
      await checkPage(page, problems, 'signup page (no JS)');
      await shoot(page, 'newsletter-last-step-desktop');
      assert.equal(mailsTo(NO_JS_READER.email).length, 0, 'an email was sent before the second click');

      await sleep(Math.max(0, formAt + FILL_WAIT_MS - Date.now()));
      const again = form.getByRole('button', { name: 'اشترك', exact: true });
      await clickThrough(page, again, (p) => p === '/newsletter/subscribe');
      await expectHeading(page, CHECK_EMAIL, 'after the second click (no JS)');
      await checkPage(page, problems, 'check email (no JS)');
      await shoot(page, 'newsletter-check-email-desktop');

      const text = leafParts(await waitForMail(NO_JS_READER.email)).find((p) => p.type === 'text/plain')?.text ?? '';
      assert.ok(text.includes(`مرحبًا ${NO_JS_READER.name}`), `plain text does not greet the reader by name:\n${text}`);
      assert.ok(text.includes(`${server.base}/newsletter/confirm/`), `no confirmation link in:\n${text}`);
    } finally {
      await context.close();
    }
  });
});
