// Headless Chromium checks that readers' comments cannot run anything or break the article page.
//
//   cargo build -p khabar && node --test e2e/comments.test.mjs
//
// Starts `khabar demo` (rate limits raised through KHABAR_COMMENTS_PER_EMAIL/_ADDRESS so the
// whole corpus can be posted from one address), creates an admin API token, and posts every
// entry of e2e/fixtures/comment-xss.json (script tags, event handlers, javascript:/data:/
// vbscript: URLs, SVG/MathML, broken markup, Markdown link and attribute tricks, entity
// encodings, DOM clobbering ids, bidi and zero-width characters in names, names and bodies at
// the length limits) through the real comment form of demo articles without comments, at most 20 per article:
//   * the first 8 with JavaScript disabled: the form is filled and its button pressed, and the
//     post must answer 303 and land (200) on the article page (#comment-N or #comments-held)
//     or on the comment's own page under it, /news/{id}/comments/{comment}, showing it;
//   * the rest from inside the article page: the form's fields are set and the form is sent
//     as it is (new FormData(form)) by fetch with Accept: application/json; the answer must
//     be 201 approved or 202 pending, or a 4xx with a JSON error code, which is only accepted
//     for entries over a length limit or empty (their ids are printed as a diagnostic).
// No answer may be a 5xx. Every accepted comment is then approved through
// POST /api/admin/comments/{id}/approve, and every article used is opened in a fresh
// JavaScript-enabled context whose init script wraps alert/confirm/prompt/print, eval,
// string timers and document.cookie writes and records CSP violations. That context bypasses
// the site's Content-Security-Policy (script-src 'self'), which would otherwise block an inline
// handler that got through, so that the sanitizer alone is what is tested. After load, after a real hover over and focus of
// every comment and every link in a comment body, and after synthetic mouse/pointer/focus
// events on everything inside the comments, the page must show: no dialog, no trap hit, no
// window.__xss* global (own or clobbered through a named element), no navigation; an intact
// structure (section#comments; as many article.comment as the content API counts; every
// posted comment present; #comment-form the last form of the section; the site footer after
// the section); no script/iframe/object/embed/svg/math/img/style/link/meta/base/form/input/
// textarea/button and no id or name attribute inside a .comment-body; no on* attribute inside
// a .comment; every link in a body http(s)/mailto (as the browser resolves it) with rel
// nofollow ugc noopener; names as plain text. Pages must also be free of failed requests,
// responses >= 400, console errors and page errors. A screenshot of one article's comments
// goes to target/screenshots/comments-xss-desktop.png.
//
// A second part, with its own `khabar demo` (KHABAR_COMMENTS_MIN_SECONDS=1, so a form's ticket
// is old enough after a short wait) and an admin API token, follows readers on demo article 3
// (whose mode holds an email's first comment for an editor). Forms are filled as a person
// would: focus (the page script fetches /news/3/comments/ticket), type, wait 1.5 s, press the
// button. With JavaScript:
//   * on a phone, a new reader's first comment is posted by fetch (Accept JSON) without
//     navigating: 202, held as first_comment (moderation API); the form's role=status line
//     says «بانتظار مراجعة» and the thread shows article.comment.comment-mine#comment-N before
//     the form with the badge «بانتظار المراجعة — لا يراه غيرك الآن» and «عدّل»/«احذف»; no
//     horizontal overflow. After a reload the script gets it from /news/3/comments/mine
//     (no-store) and shows it again, badge and buttons; a fresh context asks nothing of /mine
//     and does not see it, until it is approved through the API: then it is there, no badge;
//   * on a desktop, the same email (now trusted) posts again: 201, shown at once without a
//     badge, status «نُشر»; «عدّل» opens a textarea with the text as typed, «احفظ» posts
//     /edit and the body is replaced in place (Markdown rendered), which a fresh context then
//     sees; «احذف» asks one confirm (accepted), posts /delete and removes the element, and a
//     fresh context no longer sees it;
//   * «ردّ» under the first top-level comment copies the form under it in place (parent
//     field, heading «ردّك», no duplicate ids); the reply posted from it (201) goes into that
//     comment's .comment-replies after the earlier replies, the copied form goes away, and a
//     fresh context sees the reply under its parent.
// Without JavaScript, the form post answers 303 to the writer's own page
// /news/3/comments/N (200, no-store; held as unverified, having no ticket): «تعليقك», the
// waiting notice, the comment and #comment-edit-form holding its text; editing there lands
// back on that page with the new text, and deleting lands on the article without it (and
// the comment no longer waits for an editor). No other dialog may open; every page must be
// free of failed requests, responses >= 400, console errors and page errors; no wait is
// longer than 10 s. Screenshots: target/screenshots/comments-pending-phone.png (the viewport
// with the pending comment) and comments-thread-desktop.png (#comments with the reply).
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO,
  SHOTS,
  VIEWPORTS,
  assertNoProblems,
  cancelledByNavigation,
  launchBrowser,
  openPage,
  requireBinary,
  runKhabar,
  sleep,
  startKhabar,
  stopKhabar,
  watchPage,
} from './harness.mjs';

requireBinary();

const CORPUS_FILE = path.join(REPO, 'e2e', 'fixtures', 'comment-xss.json');
const NO_JS_SUBMISSIONS = 8;
// The article page shows the first 20 top-level comments; the corpus goes to articles
// without comments yet, at most 20 each, so every payload is on an article page.
const PER_ARTICLE = 20;
const MAX_NAME_CHARS = 60;
const MAX_BODY_CHARS = 5000;
const FORBIDDEN_IN_BODY =
  'script, iframe, object, embed, svg, math, img, style, link, meta, base, form, input, textarea, button';
const REQUIRED_REL = ['nofollow', 'ugc', 'noopener'];
const SAFE_PROTOCOLS = ['http:', 'https:', 'mailto:'];
// Events a payload's handler could wait for; dispatched on every element inside the comments.
const SYNTHETIC_EVENTS = ['mouseover', 'mouseenter', 'mousemove', 'pointerover', 'pointerenter', 'focus', 'focusin'];
const SETTLE_MS = 400;

// ------------------------------------------------------------------ the corpus

/** An entry as it is meant to be typed: base64 fields decoded when the file says so. */
function decodeEntry(raw) {
  const entry = { ...raw };
  const b64 = (s) => Buffer.from(s, 'base64').toString('utf8');
  if (String(raw.encoding || '').toLowerCase() === 'base64') {
    if (typeof raw.name === 'string') entry.name = b64(raw.name);
    if (typeof raw.body === 'string') entry.body = b64(raw.body);
  }
  if (typeof raw.name_base64 === 'string') entry.name = b64(raw.name_base64);
  if (typeof raw.body_base64 === 'string') entry.body = b64(raw.body_base64);
  return entry;
}

const CORPUS = JSON.parse(fs.readFileSync(CORPUS_FILE, 'utf8')).map(decodeEntry);

// Every window.__xss_* name the corpus mentions (also inside base64 data: URLs), to catch
// globals made by DOM clobbering too (named elements are not own properties of window).
const XSS_NAMES = (() => {
  const names = new Set();
  const scan = (text) => {
    for (const m of String(text).matchAll(/__xss_[A-Za-z0-9_]+/g)) names.add(m[0]);
  };
  for (const entry of CORPUS) {
    for (const text of [entry.name, entry.body]) {
      scan(text);
      for (const m of String(text).matchAll(/base64,([A-Za-z0-9+/=]+)/g)) {
        scan(Buffer.from(m[1], 'base64').toString('utf8'));
      }
    }
  }
  return [...names];
})();

/** Whether the server may refuse an entry: over a length limit (in any way one counts) or empty. */
function mayBeRefused(entry) {
  const lengths = (s) => [[...s].length, s.length, [...s.replace(/\r?\n/g, '\r\n')].length];
  const name = entry.name.trim();
  const body = entry.body.trim();
  return (
    name === '' ||
    body === '' ||
    lengths(name).some((n) => n > MAX_NAME_CHARS) ||
    lengths(body).some((n) => n > MAX_BODY_CHARS)
  );
}

// ------------------------------------------------------------------ state

let server;
let browser;
let token;
let articles = []; // [{ id, entries: [{ index, entry }] }]
const outcomes = []; // { index, entry, articleId, via, status, id?, commentStatus?, error? }

const pathOf = (url) => new URL(url).pathname;
// An article lives at /news/{id}/{slug}; /news/{id} redirects there.
const isArticlePath = (pathname, id) => pathname === `/news/${id}` || /^\/news\/(\d+)\/[^/]+$/.exec(pathname)?.[1] === String(id);
const emailFor = (index) => `xss-${index}@example.com`;

async function api(pathname, { method = 'GET', auth = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${server.base}${pathname}`, { method, headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

/** Ids of an article's approved comments (replies included) and their count, from the content API. */
async function approvedComments(articleId) {
  const { status, json } = await api(`/api/content/articles/${articleId}/comments`);
  assert.equal(status, 200, `/api/content/articles/${articleId}/comments status`);
  const ids = [];
  for (const c of json.comments) {
    ids.push(c.id);
    for (const r of c.replies || []) ids.push(r.id);
  }
  return { count: json.count, open: json.open, ids };
}

/** The init script of the checking pages: every way a payload could show itself is recorded. */
function installTraps() {
  const hits = [];
  Object.defineProperty(window, '__e2eTraps', { value: hits, enumerable: false });
  const note = (what, args) => {
    let detail = '';
    try {
      detail = Array.from(args, (a) => String(a)).join(', ').slice(0, 200);
    } catch {
      detail = '?';
    }
    hits.push(`${what}(${detail}) @ ${location.href}`);
  };
  for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function (...args) {
      note(name, args);
      return original.apply(this, args);
    };
  }
  window.print = function (...args) {
    note('print', args);
  };
  // Playwright's own page.evaluate() goes through window.eval from its UtilityScript: not a payload.
  const originalEval = window.eval;
  window.eval = new Proxy(originalEval, {
    apply(target, self, args) {
      const caller = String(new Error().stack).split('\n')[2] || '';
      if (!/^\s*at UtilityScript\.evaluate \(/.test(caller)) note('eval', args);
      return Reflect.apply(target, self, args);
    },
  });
  for (const name of ['setTimeout', 'setInterval']) {
    const original = window[name];
    window[name] = function (handler, ...rest) {
      if (typeof handler === 'string') note(`${name} with a string`, [handler]);
      return original.call(this, handler, ...rest);
    };
  }
  // Anything a Content-Security-Policy had to block (should CSP not be bypassed) is an attempt too.
  document.addEventListener('securitypolicyviolation', (e) =>
    note('blocked by CSP', [`${e.violatedDirective} ${e.blockedURI} ${e.sample}`]),
  );
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (cookie && cookie.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      enumerable: cookie.enumerable,
      get() {
        return cookie.get.call(this);
      },
      set(value) {
        note('document.cookie =', [value]);
        cookie.set.call(this, value);
      },
    });
  }
}

// ------------------------------------------------------------------ posting

/** Posts one entry with JavaScript disabled: fill the real form, press its button, follow the 303. */
async function postWithoutJs(page, articleId, index, entry) {
  const res = await page.goto(`${server.base}/news/${articleId}`, { waitUntil: 'load' });
  assert.equal(res.status(), 200, `/news/${articleId} status (no JS)`);
  const form = page.locator('form#comment-form');
  assert.equal(await form.count(), 1, `/news/${articleId}: one form#comment-form (no JS)`);
  assert.equal(await form.getAttribute('action'), `/news/${articleId}/comments`, 'the form posts to the article');
  await form.locator('[name=name]').fill(entry.name);
  await form.locator('[name=email]').fill(emailFor(index));
  await form.locator('[name=body]').fill(entry.body);
  assert.equal(await form.locator('[name=website]').inputValue(), '', 'the honeypot stays empty');

  const [post, landed] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'POST' && pathOf(r.url()) === `/news/${articleId}/comments`,
      { timeout: 10_000 },
    ),
    page.waitForResponse(
      (r) =>
        r.request().method() === 'GET' &&
        r.request().isNavigationRequest() &&
        r.status() !== 301 &&
        r.status() !== 302 &&
        r.status() !== 303 &&
        r.status() !== 308,
      { timeout: 10_000 },
    ),
    form.locator('button[type=submit]').click(),
  ]);
  await page.waitForLoadState('load');
  const outcome = { index, entry, articleId, via: 'form without JavaScript', status: post.status() };
  if (post.status() !== 303) {
    outcome.error = `answered ${post.status()} instead of 303`;
    return outcome;
  }
  const url = new URL(page.url());
  if (landed.status() !== 200) {
    outcome.error = `the 303 led to ${page.url()}, which answered ${landed.status()}`;
    return outcome;
  }
  // The writer's own view of the comment, under the article: /news/{id}/comments/{comment}.
  const own = /^\/news\/(\d+)\/comments\/(\d+)$/.exec(url.pathname);
  const approved = /^#comment-(\d+)$/.exec(url.hash);
  if (own && Number(own[1]) === articleId) {
    outcome.id = Number(own[2]);
    outcome.commentStatus = 'posted';
    if ((await page.locator(`article.comment#comment-${outcome.id}`).count()) !== 1) {
      outcome.error = `landed on ${page.url()} without article.comment#comment-${outcome.id}`;
    }
  } else if (!isArticlePath(url.pathname, articleId)) {
    outcome.error = `landed on ${page.url()}, neither the article nor the comment's own page`;
  } else if (approved) {
    outcome.id = Number(approved[1]);
    outcome.commentStatus = 'approved';
  } else if (url.hash === '#comments-held') {
    // The redirect does not name a held comment: it is the newest pending one on this article.
    const { status, json } = await api('/api/admin/comments?status=pending&limit=20', { auth: true });
    assert.equal(status, 200, 'GET /api/admin/comments?status=pending');
    const known = new Set(outcomes.map((o) => o.id));
    const mine = json.comments
      .filter((c) => c.article_id === articleId && !known.has(c.id))
      .sort((a, b) => b.id - a.id)[0];
    if (!mine) {
      outcome.error = 'held, but no new pending comment on the article';
    } else {
      outcome.id = mine.id;
      outcome.commentStatus = 'pending';
    }
  } else {
    outcome.error = `landed on ${page.url()}: neither #comment-N nor #comments-held`;
  }
  return outcome;
}

/** Posts one entry from inside the article page: the real form's fields, sent as they are by fetch. */
async function postWithFetch(page, articleId, index, entry) {
  const answer = await page.evaluate(
    async ({ name, email, body }) => {
      const form = document.getElementById('comment-form');
      if (!form) return { status: 0, error: 'no #comment-form' };
      form.querySelector('[name=name]').value = name;
      form.querySelector('[name=email]').value = email;
      form.querySelector('[name=body]').value = body;
      const trap = form.querySelector('[name=website]');
      if (trap) trap.value = '';
      const notify = form.querySelector('[name=notify]');
      if (notify) notify.checked = false;
      const res = await fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, json, text: json ? '' : text.slice(0, 300) };
    },
    { name: entry.name, email: emailFor(index), body: entry.body },
  );
  const outcome = { index, entry, articleId, via: 'fetch from the page', status: answer.status };
  if (answer.status === 201 || answer.status === 202) {
    const expected = answer.status === 201 ? 'approved' : 'pending';
    if (!answer.json || !Number.isInteger(answer.json.id) || answer.json.status !== expected) {
      outcome.error = `${answer.status} with ${JSON.stringify(answer.json)}`;
    } else {
      outcome.id = answer.json.id;
      outcome.commentStatus = expected;
    }
  } else if (answer.status >= 400 && answer.status < 500 && answer.json?.error?.code) {
    outcome.refused = answer.json.error.code;
    outcome.message = answer.json.error.message;
  } else {
    outcome.error = `answered ${answer.status} ${answer.error || ''}${JSON.stringify(answer.json) || answer.text}`;
  }
  return outcome;
}

// ------------------------------------------------------------------ checking a page

/** Hovers over and focuses every comment and every link in a comment body, then fires synthetic events. */
async function provoke(page) {
  const targets = [
    ...(await page.locator('#comments .comment').all()),
    ...(await page.locator('#comments .comment-body a').all()),
  ];
  for (const target of targets) {
    await target.hover({ force: true, timeout: 2_000 });
    await target.evaluate((el) => {
      if (el.tabIndex < 0 && !el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
      el.focus({ preventScroll: true });
    });
  }
  await page.mouse.move(5, 5);
  await page.evaluate((events) => {
    for (const el of document.querySelectorAll('#comments .comment, #comments .comment *')) {
      for (const type of events) {
        const Kind = type.startsWith('pointer') ? PointerEvent : type.startsWith('focus') ? FocusEvent : MouseEvent;
        el.dispatchEvent(new Kind(type, { bubbles: type !== 'mouseenter' && type !== 'pointerenter' && type !== 'focus' }));
      }
    }
  }, SYNTHETIC_EVENTS);
  await sleep(SETTLE_MS);
}

/** Everything the page shows about the comments, gathered in the page. */
function inspect({ forbidden, xssNames, requiredRel, safeProtocols }) {
  const describe = (el) => {
    const clone = el.cloneNode(false);
    return (clone.outerHTML || el.nodeName).slice(0, 200);
  };
  const within = (el) => el.closest('.comment')?.id || '?';
  const section = document.querySelector('section#comments');
  const report = { section: !!section };
  const ownXss = Object.getOwnPropertyNames(window).filter((n) => n.startsWith('__xss'));
  const clobbered = xssNames.filter((n) => {
    try {
      return n in window || document[n] !== undefined;
    } catch {
      return true;
    }
  });
  report.xss = [...new Set([...ownXss, ...clobbered])];
  report.traps = [...(window.__e2eTraps || [])];
  if (!section) return report;
  report.comments = section.querySelectorAll('article.comment').length;
  report.commentIds = [...section.querySelectorAll('article.comment')].map((el) => el.id);
  const form = document.getElementById('comment-form');
  const forms = section.querySelectorAll('form');
  report.formInSection = !!form && section.contains(form);
  report.formLast = !!form && forms.length > 0 && forms[forms.length - 1] === form;
  report.commentForms = document.querySelectorAll('#comment-form').length;
  const footers = [...document.querySelectorAll('footer')].filter((f) => !section.contains(f));
  const footer = document.querySelector('footer.site-footer') || footers[footers.length - 1];
  report.footerAfter =
    !!footer && !section.contains(footer) && !!(section.compareDocumentPosition(footer) & Node.DOCUMENT_POSITION_FOLLOWING);
  report.forbidden = [...section.querySelectorAll('.comment-body')].flatMap((body) =>
    [...body.querySelectorAll(forbidden)].map((el) => `${within(el)}: ${describe(el)}`),
  );
  report.handlers = [...section.querySelectorAll('.comment, .comment *')].flatMap((el) =>
    [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${within(el)}: ${describe(el)}`),
  );
  report.ids = [...section.querySelectorAll('.comment-body [id], .comment-body [name]')].map(
    (el) => `${within(el)}: ${describe(el)}`,
  );
  report.links = [...section.querySelectorAll('.comment-body a[href]')].flatMap((a) => {
    const problems = [];
    let protocol;
    try {
      protocol = new URL(a.getAttribute('href'), document.baseURI).protocol;
    } catch {
      protocol = 'unparsable';
    }
    if (!safeProtocols.includes(protocol) || !safeProtocols.includes(a.protocol)) {
      problems.push(`${within(a)}: scheme ${protocol}/${a.protocol} in ${describe(a)}`);
    }
    const rel = [...a.relList];
    if (!requiredRel.every((r) => rel.includes(r))) problems.push(`${within(a)}: rel «${a.rel}» in ${describe(a)}`);
    return problems;
  });
  report.linkCount = section.querySelectorAll('.comment-body a').length;
  report.nameElements = [...section.querySelectorAll('.comment-name')]
    .filter((n) => n.childElementCount > 0)
    .map((n) => `${within(n)}: ${n.innerHTML.slice(0, 200)}`);
  report.names = Object.fromEntries(
    [...section.querySelectorAll('article.comment')].map((c) => [c.id, c.querySelector('.comment-name')?.textContent ?? null]),
  );
  report.baseElements = document.querySelectorAll('base').length;
  report.overflow = document.documentElement.scrollWidth - window.innerWidth;
  return report;
}

// ------------------------------------------------------------------ the tests

describe('khabar readers’ comments against an XSS corpus in headless Chromium', () => {
  before(async () => {
    server = await startKhabar({
      env: { KHABAR_COMMENTS_PER_EMAIL: '100000', KHABAR_COMMENTS_PER_ADDRESS: '100000' },
    });
    const { stdout } = await runKhabar(['token', 'create', '--data', server.dataDir, '--name', 'e2e']);
    token = stdout.trim().split(/\s+/).pop();
    assert.ok(token, `khabar token create printed no token: ${stdout}`);
    browser = await launchBrowser();

    // Articles from the home page whose comments are open, as many as the corpus needs.
    const home = await fetch(`${server.base}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(home.status, 200, 'home page status');
    const ids = [...new Set([...(await home.text()).matchAll(/href="\/news\/(\d+)[/"#?]/g)].map((m) => Number(m[1])))].sort(
      (a, b) => a - b,
    );
    const needed = Math.ceil(CORPUS.length / PER_ARTICLE);
    const open = [];
    for (const id of ids) {
      if (open.length === needed) break;
      const c = await approvedComments(id);
      if (c.open && c.count === 0) open.push(id);
    }
    assert.equal(open.length, needed, `need ${needed} demo articles with open comments; home links ${JSON.stringify(ids)}`);
    articles = open.map((id, k) => ({
      id,
      entries: CORPUS.map((entry, index) => ({ index, entry })).slice(k * PER_ARTICLE, (k + 1) * PER_ARTICLE),
    }));
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      await stopKhabar(server);
    }
  });

  test('every payload is posted through the real comment form', { timeout: 90_000 }, async (t) => {
    for (const entry of CORPUS) {
      if (entry.notes) t.diagnostic(`${entry.id}: ${entry.notes}`);
    }
    const assignments = articles.flatMap((a) => a.entries.map((e) => ({ articleId: a.id, ...e })));

    // With JavaScript disabled: fill the form and press its button, as a person would.
    {
      const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'ar', javaScriptEnabled: false });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const problems = watchPage(page);
      try {
        for (const { articleId, index, entry } of assignments.slice(0, NO_JS_SUBMISSIONS)) {
          outcomes.push(await postWithoutJs(page, articleId, index, entry));
        }
        assertNoProblems(problems, 'posting without JavaScript', { allowFailed: cancelledByNavigation });
      } finally {
        await context.close();
      }
    }

    // The rest from inside each article page: the form's fields set and sent as they are.
    for (const article of articles) {
      const rest = article.entries.filter((e) => e.index >= NO_JS_SUBMISSIONS);
      if (rest.length === 0) continue;
      const { context, page, problems } = await openPage(browser, 'desktop');
      try {
        const res = await page.goto(`${server.base}/news/${article.id}`, { waitUntil: 'load' });
        assert.equal(res.status(), 200, `/news/${article.id} status`);
        for (const { index, entry } of rest) {
          outcomes.push(await postWithFetch(page, article.id, index, entry));
        }
        // Refusals are 4xx answers to fetch: Chromium logs each as a console error; nothing else may go wrong.
        const refusedUrl = `${server.base}/news/${article.id}/comments`;
        assertNoProblems(problems, `posting on /news/${article.id}`, {
          allowBad: (b) => /^4\d\d /.test(b) && b.endsWith(refusedUrl),
          allowConsole: (c) => c.startsWith('Failed to load resource: the server responded with a status of 4') && c.includes(refusedUrl),
        });
      } finally {
        await context.close();
      }
    }

    const count = (pred) => outcomes.filter(pred).length;
    t.diagnostic(
      `posted ${outcomes.length}: ${count((o) => o.commentStatus === 'approved')} approved at once, ` +
        `${count((o) => o.commentStatus === 'pending')} held, ${count((o) => o.commentStatus === 'posted')} ` +
        `posted without JavaScript, ${count((o) => o.refused)} refused`,
    );
    const refused = outcomes.filter((o) => o.refused);
    t.diagnostic(`refused ids: ${refused.length ? refused.map((o) => `${o.entry.id} (${o.status} ${o.refused}: ${o.message})`).join('; ') : 'none'}`);
    console.log(`comments.test: refused payload ids: ${refused.map((o) => o.entry.id).join(', ') || 'none'}`);

    assert.equal(outcomes.length, CORPUS.length, 'every entry was posted');
    assert.deepEqual(
      outcomes.filter((o) => o.status >= 500).map((o) => `${o.entry.id}: ${o.status}`),
      [],
      'no post may answer 5xx',
    );
    assert.deepEqual(
      outcomes.filter((o) => o.error).map((o) => `${o.entry.id} (${o.via}): ${o.error}`),
      [],
      'every post is accepted (303 / 201 / 202) or refused with a 4xx JSON error',
    );
    assert.deepEqual(
      refused.filter((o) => !(o.refused === 'validation_failed' && mayBeRefused(o.entry))).map(
        (o) => `${o.entry.id}: ${o.status} ${o.refused} (${o.message})`,
      ),
      [],
      'only entries over a length limit (or empty) may be refused, and only as validation_failed',
    );
  });

  test('every accepted comment is approved through the admin API', { timeout: 30_000 }, async () => {
    const accepted = outcomes.filter((o) => Number.isInteger(o.id));
    assert.ok(accepted.length > 0, 'no accepted comments (did the first test run?)');
    const failures = [];
    for (let i = 0; i < accepted.length; i += 20) {
      await Promise.all(
        accepted.slice(i, i + 20).map(async (o) => {
          const { status, json, text } = await api(`/api/admin/comments/${o.id}/approve`, { method: 'POST', auth: true });
          if (status !== 200 || json?.status !== 'approved') failures.push(`${o.entry.id} (#${o.id}): ${status} ${text}`);
        }),
      );
    }
    assert.deepEqual(failures, [], 'approving every accepted comment');
    for (const article of articles) {
      const { ids } = await approvedComments(article.id);
      const missing = accepted.filter((o) => o.articleId === article.id && !ids.includes(o.id)).map((o) => o.entry.id);
      assert.deepEqual(missing, [], `/api/content/articles/${article.id}/comments lists every approved payload`);
    }
  });

  test('article pages with the payloads run nothing and keep their structure', { timeout: 120_000 }, async (t) => {
    assert.ok(articles.length > 0, 'no articles (did before() run?)');
    assert.equal(outcomes.length, CORPUS.length, 'every entry must have been posted first (see the first test)');
    let shot = null;
    for (const article of articles) {
      await t.test(`/news/${article.id}`, async () => {
        const label = `/news/${article.id}`;
        const { count, ids } = await approvedComments(article.id);
        // The site sends a Content-Security-Policy (script-src 'self') that would block an inline
        // handler the sanitizer let through; it is bypassed here so that the sanitizer alone is tested.
        const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'ar', bypassCSP: true });
        context.setDefaultTimeout(15_000);
        const page = await context.newPage();
        const problems = watchPage(page);
        try {
          await context.addInitScript(installTraps);
          const dialogs = [];
          page.on('dialog', (d) => {
            dialogs.push(`${d.type()}: ${d.message()}`);
            d.dismiss().catch(() => {});
          });
          const res = await page.goto(`${server.base}/news/${article.id}`, { waitUntil: 'load' });
          assert.equal(res.status(), 200, `${label} status`);
          const csp = (await res.allHeaders())['content-security-policy'];
          if (!csp) t.diagnostic(`${label}: served without a Content-Security-Policy`);
          let navigations = 0;
          page.on('framenavigated', (frame) => {
            if (frame === page.mainFrame()) navigations += 1;
          });
          await sleep(SETTLE_MS);
          await provoke(page);

          const report = await page.evaluate(inspect, {
            forbidden: FORBIDDEN_IN_BODY,
            xssNames: XSS_NAMES,
            requiredRel: REQUIRED_REL,
            safeProtocols: SAFE_PROTOCOLS,
          });
          const posted = outcomes.filter((o) => o.articleId === article.id && Number.isInteger(o.id));
          if (!shot || posted.length > shot.posted) shot = { posted: posted.length, id: article.id };
          const byId = (list) =>
            list.map((line) => {
              const m = /^comment-(\d+)/.exec(line);
              const o = m && outcomes.find((x) => x.id === Number(m[1]));
              return o ? `[${o.entry.id}] ${line}` : line;
            });

          assert.deepEqual(dialogs, [], `${label}: dialogs opened`);
          assert.deepEqual(report.traps, [], `${label}: trapped calls`);
          assert.deepEqual(report.xss, [], `${label}: window.__xss* globals (a payload ran or clobbered a name)`);
          assert.equal(navigations, 0, `${label}: the page navigated away (${page.url()})`);
          assert.ok(isArticlePath(new URL(page.url()).pathname, article.id), `${label}: still on the article (${page.url()})`);
          assert.ok(report.section, `${label}: section#comments is missing`);
          assert.equal(report.comments, count, `${label}: #comments article.comment vs the content API's count`);
          assert.deepEqual(
            posted.filter((o) => !report.commentIds.includes(`comment-${o.id}`)).map((o) => `${o.entry.id} (#${o.id})`),
            [],
            `${label}: posted comments missing from the page`,
          );
          assert.deepEqual(
            ids.filter((id) => !report.commentIds.includes(`comment-${id}`)),
            [],
            `${label}: approved comments (content API) missing from the page`,
          );
          assert.equal(report.commentForms, 1, `${label}: exactly one #comment-form in the document`);
          assert.ok(report.formInSection, `${label}: #comment-form is not inside #comments`);
          assert.ok(report.formLast, `${label}: #comment-form is not the last form of #comments`);
          assert.ok(report.footerAfter, `${label}: the page footer is missing or not after #comments`);
          assert.equal(report.baseElements, 0, `${label}: a <base> element appeared`);
          assert.deepEqual(byId(report.forbidden), [], `${label}: forbidden elements inside .comment-body`);
          assert.deepEqual(byId(report.handlers), [], `${label}: on* attributes inside .comment`);
          assert.deepEqual(byId(report.ids), [], `${label}: id/name attributes inside .comment-body (DOM clobbering)`);
          assert.deepEqual(byId(report.links), [], `${label}: unsafe links inside .comment-body`);
          assert.deepEqual(byId(report.nameElements), [], `${label}: markup inside .comment-name`);
          // Names typed with markup characters are shown with them, as text.
          const unshown = posted.filter((o) => {
            const shown = report.names[`comment-${o.id}`];
            return shown == null || [...'<>"\''].some((ch) => o.entry.name.includes(ch) && !shown.includes(ch));
          });
          assert.deepEqual(
            unshown.map((o) => `${o.entry.id}: «${report.names[`comment-${o.id}`]}»`),
            [],
            `${label}: names with markup characters must be shown as typed text`,
          );
          if (report.overflow > 1) t.diagnostic(`${label}: the page is ${report.overflow} px wider than the viewport`);
          t.diagnostic(`${label}: ${report.comments} comments, ${report.linkCount} links in bodies, ${posted.length} from the corpus`);
          assertNoProblems(problems, label);
        } finally {
          await context.close();
        }
      });
    }

    // A picture of the comments of the article carrying the most payloads.
    assert.ok(shot, 'no article to photograph');
    const { context, page } = await openPage(browser, 'desktop');
    try {
      await page.goto(`${server.base}/news/${shot.id}#comments`, { waitUntil: 'load' });
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.locator('section#comments').screenshot({ path: path.join(SHOTS, 'comments-xss-desktop.png') });
    } finally {
      await context.close();
    }
  });
});

// ------------------------------------------------------------------ posting, replying, editing in place

const ARTICLE = 3; // a demo article with an open, approved thread
const MIN_SECONDS = 1; // KHABAR_COMMENTS_MIN_SECONDS for this block's server
const UNHURRIED_MS = 1_500; // waited after the ticket arrives, so the server sees a person typing
const WAIT_MS = 10_000; // the longest any single step may wait
const SCRIPT_SLACK_MS = 300; // for the page script's promise callbacks after a response
const PENDING_BADGE = 'بانتظار المراجعة — لا يراه غيرك الآن';
const DELETE_CONFIRM = 'هل تريد حذف تعليقك؟';
const READER = { name: 'سلمى المصري', email: 'salma.reader@example.com' };
const NO_JS_READER = { name: 'كريم بلا سكربت', email: 'karim.nojs@example.com' };
const TEXT = {
  first: 'أول تعليق لي هنا: متى يعود مشروع القانون إلى اللجنة القانونية؟',
  second: 'تعليق ثانٍ من القارئة نفسها عن سقف الإنفاق الانتخابي.',
  edited: 'تعليق ثانٍ **بعد التعديل**: سقف الإنفاق مرتفع فعلًا.',
  editedShown: 'تعليق ثانٍ بعد التعديل: سقف الإنفاق مرتفع فعلًا.',
  reply: 'ردّ في مكانه: الكلفة هي العائق الأكبر أمام المرشحين الشباب.',
  noJs: 'تعليق من متصفح بلا جافاسكربت عن تقسيم الدوائر.',
  noJsEdited: 'تعليق من متصفح بلا جافاسكربت، بعد التعديل من صفحتي.',
};

let inPlace; // { server, browser, token }
let firstId; // the reader's first comment (held, then approved)

async function inPlaceApi(pathname, { method = 'GET' } = {}) {
  const res = await fetch(`${inPlace.server.base}${pathname}`, {
    method,
    headers: { Accept: 'application/json', Authorization: `Bearer ${inPlace.token}` },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

/** The pending comments of the site, from the moderation API. */
async function pendingComments() {
  const { status, json } = await inPlaceApi('/api/admin/comments?status=pending&limit=50');
  assert.equal(status, 200, 'GET /api/admin/comments?status=pending');
  return json.comments;
}

/** Opens the article (following /news/{id} to its slug URL) and checks it answered 200. */
async function openArticle(page, label) {
  const res = await page.goto(`${inPlace.server.base}/news/${ARTICLE}`, { waitUntil: 'load' });
  assert.equal(res.status(), 200, `${label}: /news/${ARTICLE} status`);
  assert.ok(isArticlePath(pathOf(page.url()), ARTICLE), `${label}: on the article (${page.url()})`);
}

/** Counts main-frame navigations from now on. */
function countNavigations(page) {
  const seen = { count: 0 };
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) seen.count += 1;
  });
  return seen;
}

/** Records every dialog; accepts a confirm only while `dialogs.accept` is above zero, dismisses anything else. */
function watchDialogs(page) {
  const dialogs = { seen: [], accept: 0 };
  page.on('dialog', (dialog) => {
    dialogs.seen.push(`${dialog.type()}: ${dialog.message()}`);
    const ok = dialog.type() === 'confirm' && dialogs.accept > 0;
    if (ok) dialogs.accept -= 1;
    (ok ? dialog.accept() : dialog.dismiss()).catch(() => {});
  });
  return dialogs;
}

/** Waits for a POST to a path (start waiting before the click). */
function postTo(page, pathname) {
  return page.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r.url()) === pathname, {
    timeout: WAIT_MS,
  });
}

/** Waits for the page script's GET /news/{id}/comments/mine (start waiting before the navigation). */
function mineAnswer(page) {
  return page.waitForResponse(
    (r) => r.request().method() === 'GET' && pathOf(r.url()) === `/news/${ARTICLE}/comments/mine`,
    { timeout: WAIT_MS },
  );
}

/**
 * Fills a comment form as a reader does: focus (the script asks for a ticket), type, then wait
 * until the ticket is there and old enough for the server to let a trusted comment out.
 */
async function fillComment(form, { name, email, body }, label) {
  await form.locator('[name=name]').click();
  await form.locator('[name=name]').fill(name);
  await form.locator('[name=email]').fill(email);
  await form.locator('[name=body]').fill(body);
  const ticket = form.locator('input[name=ticket]');
  await ticket.evaluate(
    (input, timeout) =>
      new Promise((resolve, reject) => {
        const until = Date.now() + timeout;
        const look = () => (input.value ? resolve() : Date.now() > until ? reject(new Error('no ticket')) : setTimeout(look, 50));
        look();
      }),
    WAIT_MS,
  ).catch(() => assert.fail(`${label}: the page script never filled the form's ticket (GET /news/${ARTICLE}/comments/ticket)`));
  assert.equal(await form.locator('[name=website]').inputValue(), '', `${label}: the honeypot stays empty`);
  await sleep(UNHURRIED_MS);
}

/** Sends a form with its submit button; returns the JSON answer, checked to be 201/202 and asked for as JSON. */
async function submitInPlace(page, form, label) {
  const answer = postTo(page, `/news/${ARTICLE}/comments`);
  await form.locator('button[type=submit]').click();
  const res = await answer;
  assert.match(res.request().headers().accept || '', /application\/json/, `${label}: the script asks for JSON`);
  const json = await res.json();
  assert.ok([201, 202].includes(res.status()), `${label}: POST answered ${res.status()} ${JSON.stringify(json)}`);
  assert.ok(Number.isInteger(json.id) && json.id > 0, `${label}: the answer names the comment: ${JSON.stringify(json)}`);
  assert.equal(json.status, res.status() === 201 ? 'approved' : 'pending', `${label}: status vs HTTP code`);
  await sleep(SCRIPT_SLACK_MS);
  return json;
}

/** Where a comment element sits and what it shows. */
function describeComment(element) {
  const section = document.getElementById('comments');
  const form = document.getElementById('comment-form');
  const body = element.querySelector('.comment-body');
  return {
    inSection: !!section && section.contains(element),
    beforeForm: !!form && !!(element.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING),
    topLevel: element.parentElement === section,
    mine: element.classList.contains('comment-mine'),
    name: element.querySelector('.comment-name')?.textContent ?? null,
    badges: [...element.querySelectorAll(':scope > header .comment-pending')].map((b) => b.textContent),
    body: body ? body.innerText.trim() : null,
    bodyHidden: body ? body.hidden : null,
    strong: body ? body.querySelectorAll('strong').length : 0,
    actions: [...element.querySelectorAll(':scope > .comment-own-actions button')].map((b) => b.textContent.trim()),
    actionsHidden: element.querySelector(':scope > .comment-own-actions')?.hidden ?? null,
    editors: element.querySelectorAll('form.comment-edit').length,
  };
}

/** The page must not be wider than a phone's viewport. */
async function assertNoOverflow(page, label) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${label}: page is ${scrollWidth} px wide in a ${innerWidth} px viewport`);
}

/** In a fresh context (no cookies): what the shared article page shows of a comment, or null. */
async function seenByOthers(commentId, label) {
  const { context, page, problems } = await openPage(inPlace.browser, 'desktop', { timeoutMs: WAIT_MS });
  try {
    const asked = [];
    page.on('request', (r) => {
      if (pathOf(r.url()) === `/news/${ARTICLE}/comments/mine`) asked.push(r.url());
    });
    await openArticle(page, label);
    await sleep(SCRIPT_SLACK_MS);
    assert.deepEqual(asked, [], `${label}: a reader without comments here asks nothing about their own`);
    const element = page.locator(`#comments article.comment#comment-${commentId}`);
    const shown = (await element.count()) === 0 ? null : await element.evaluate(describeComment);
    assert.equal(await page.locator('#comments .comment-pending, #comments .comment-own-actions').count(), 0, `${label}: nothing private shown`);
    assertNoProblems(problems, label);
    return shown;
  } finally {
    await context.close();
  }
}

describe('khabar readers post, reply, edit and delete comments in place, with and without JavaScript', () => {
  before(async () => {
    const server = await startKhabar({ env: { KHABAR_COMMENTS_MIN_SECONDS: String(MIN_SECONDS) } });
    inPlace = { server };
    const { stdout } = await runKhabar(['token', 'create', '--data', server.dataDir, '--name', 'e2e']);
    inPlace.token = stdout.trim().split(/\s+/).pop();
    assert.ok(inPlace.token, `khabar token create printed no token: ${stdout}`);
    inPlace.browser = await launchBrowser();
    const { status, json } = await inPlaceApi(`/api/content/articles/${ARTICLE}/comments`);
    assert.equal(status, 200, `/api/content/articles/${ARTICLE}/comments status`);
    assert.equal(json.open, true, `comments are open on demo article ${ARTICLE}`);
    assert.ok(json.comments.length > 0, `demo article ${ARTICLE} has approved comments to reply to`);
  });

  after(async () => {
    try {
      if (inPlace?.browser) await inPlace.browser.close();
    } finally {
      await stopKhabar(inPlace?.server);
    }
  });

  test('a new reader’s first comment waits, shown to them alone, until it is approved', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(inPlace.browser, 'phone', { timeoutMs: WAIT_MS });
    const dialogs = watchDialogs(page);
    try {
      await openArticle(page, 'phone');
      const url = page.url();
      const navigations = countNavigations(page);
      const form = page.locator('form#comment-form');
      await fillComment(form, { ...READER, body: TEXT.first }, 'first comment (phone)');
      const posted = await submitInPlace(page, form, 'first comment (phone)');
      assert.equal(posted.status, 'pending', 'a first comment of an email waits for an editor');
      firstId = posted.id;
      const held = (await pendingComments()).find((c) => c.id === firstId);
      assert.equal(held?.held_for, 'first_comment', `held as a first comment (not for its ticket): ${JSON.stringify(held)}`);

      assert.equal(navigations.count, 0, 'posting must not navigate');
      assert.equal(page.url(), url, 'posting must not leave the article');
      const status = form.locator('.comment-form-status');
      assert.equal(await status.getAttribute('role'), 'status', 'the form’s status line is a status');
      assert.match(await status.innerText(), /بانتظار مراجعة/, 'the status says the comment waits');
      assert.equal(await form.locator('[name=body]').inputValue(), '', 'the body field is emptied');

      const element = page.locator(`#comments article.comment.comment-mine#comment-${firstId}`);
      await element.waitFor({ state: 'visible', timeout: WAIT_MS });
      let shown = await element.evaluate(describeComment);
      assert.deepEqual(
        [shown.inSection, shown.topLevel, shown.beforeForm, shown.name, shown.badges, shown.body, shown.actions],
        [true, true, true, READER.name, [PENDING_BADGE], TEXT.first, ['عدّل', 'احذف']],
        'the pending comment in the thread (in #comments, before the form; name, badge, text, buttons)',
      );
      await assertNoOverflow(page, 'after posting (phone)');
      await element.scrollIntoViewIfNeeded();
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'comments-pending-phone.png') });

      // A reload: the cached page lacks the comment; the script gets it from /mine.
      const mine = mineAnswer(page);
      await page.reload({ waitUntil: 'load' });
      const mineRes = await mine;
      assert.match(mineRes.headers()['cache-control'] || '', /no-store/, '/mine must not be cached');
      const mineJson = await mineRes.json();
      assert.deepEqual(
        mineJson.comments.map((c) => [c.id, c.status]),
        [[firstId, 'pending']],
        `/mine lists the pending comment: ${JSON.stringify(mineJson)}`,
      );
      await element.waitFor({ state: 'visible', timeout: WAIT_MS });
      shown = await element.evaluate(describeComment);
      assert.equal(shown.topLevel && shown.beforeForm, true, 'after a reload: in the thread, before the form');
      assert.deepEqual(shown.badges, [PENDING_BADGE], 'after a reload: still marked as waiting');
      assert.equal(shown.body, TEXT.first, 'after a reload: the text');
      assert.deepEqual(shown.actions, ['عدّل', 'احذف'], 'after a reload: edit and delete buttons');
      await assertNoOverflow(page, 'reloaded (phone)');
      assert.deepEqual(dialogs.seen, [], 'no dialog');
      assertNoProblems(problems, 'first comment (phone)');
    } finally {
      await context.close();
    }

    assert.equal(await seenByOthers(firstId, 'another reader, before approval'), null, 'another reader does not see a pending comment');
    const { status, json } = await inPlaceApi(`/api/admin/comments/${firstId}/approve`, { method: 'POST' });
    assert.equal(status, 200, `approve #${firstId}: ${JSON.stringify(json)}`);
    const after = await seenByOthers(firstId, 'another reader, after approval');
    assert.ok(after, 'another reader sees the comment once approved');
    assert.deepEqual([after.badges, after.mine, after.body], [[], false, TEXT.first], 'approved: no badge, plain comment');
  });

  test('a trusted reader’s comment appears at once; they edit it, then delete it', { timeout: 30_000 }, async () => {
    assert.ok(firstId, 'the first test must have run (it makes the reader trusted)');
    const { context, page, problems } = await openPage(inPlace.browser, 'desktop', { timeoutMs: WAIT_MS });
    const dialogs = watchDialogs(page);
    let id;
    try {
      await openArticle(page, 'second comment');
      const navigations = countNavigations(page);
      const form = page.locator('form#comment-form');
      await fillComment(form, { ...READER, body: TEXT.second }, 'second comment');
      const posted = await submitInPlace(page, form, 'second comment');
      assert.equal(posted.status, 'approved', `a trusted email with an unhurried ticket is published: ${JSON.stringify(posted)}`);
      id = posted.id;
      assert.match(await form.locator('.comment-form-status').innerText(), /نُشر/, 'the status says it is published');
      const element = page.locator(`#comments article.comment.comment-mine#comment-${id}`);
      await element.waitFor({ state: 'visible', timeout: WAIT_MS });
      let shown = await element.evaluate(describeComment);
      assert.deepEqual(
        [shown.topLevel, shown.beforeForm, shown.badges, shown.body, shown.actions],
        [true, true, [], TEXT.second, ['عدّل', 'احذف']],
        'the published comment in the thread',
      );

      // «عدّل»: a textarea with the text as typed; «احفظ» replaces the body in place.
      await element.getByRole('button', { name: 'عدّل', exact: true }).click();
      const editor = element.locator('form.comment-edit');
      await editor.waitFor({ state: 'visible', timeout: WAIT_MS });
      const area = editor.locator('textarea[name=body]');
      assert.equal(await area.inputValue(), TEXT.second, 'the editor holds the text as typed');
      shown = await element.evaluate(describeComment);
      assert.deepEqual([shown.bodyHidden, shown.actionsHidden], [true, true], 'while editing, body and buttons are hidden');
      await area.fill(TEXT.edited);
      const saved = postTo(page, `/news/${ARTICLE}/comments/${id}/edit`);
      await editor.getByRole('button', { name: 'احفظ', exact: true }).click();
      const savedRes = await saved;
      const savedJson = await savedRes.json();
      assert.equal(savedRes.status(), 200, `edit: ${JSON.stringify(savedJson)}`);
      assert.equal(savedJson.status, 'approved', 'an edit without links or banned words stays published');
      await editor.waitFor({ state: 'detached', timeout: WAIT_MS });
      shown = await element.evaluate(describeComment);
      assert.deepEqual(
        [shown.body, shown.strong, shown.bodyHidden, shown.actionsHidden, shown.editors],
        [TEXT.editedShown, 1, false, false, 0],
        'after saving: the new text (Markdown rendered) in place, buttons back',
      );
      assert.equal(navigations.count, 0, 'posting and editing must not navigate');

      const edited = await seenByOthers(id, 'another reader, after the edit');
      assert.equal(edited?.body, TEXT.editedShown, 'another reader sees the edited text');

      // «احذف» asks first; once confirmed, the comment goes.
      dialogs.accept = 1;
      const deleted = postTo(page, `/news/${ARTICLE}/comments/${id}/delete`);
      await element.getByRole('button', { name: 'احذف', exact: true }).click();
      const deletedRes = await deleted;
      assert.equal(deletedRes.status(), 200, `delete: ${await deletedRes.text()}`);
      await element.waitFor({ state: 'detached', timeout: WAIT_MS });
      assert.deepEqual(dialogs.seen, [`confirm: ${DELETE_CONFIRM}`], 'one confirm before deleting');
      assert.equal(navigations.count, 0, 'deleting must not navigate');
      assertNoProblems(problems, 'second comment (desktop)');
    } finally {
      await context.close();
    }
    assert.equal(await seenByOthers(id, 'another reader, after the deletion'), null, 'the deleted comment is gone for everyone');
  });

  test('a reply posted in place lands under the comment answered', { timeout: 30_000 }, async () => {
    assert.ok(firstId, 'the first test must have run (it makes the reader trusted)');
    const { context, page, problems } = await openPage(inPlace.browser, 'desktop', { timeoutMs: WAIT_MS });
    const dialogs = watchDialogs(page);
    let parentId;
    let id;
    try {
      await openArticle(page, 'reply');
      const url = page.url();
      const navigations = countNavigations(page);
      const link = page.locator('#comments > article.comment a.comment-reply[data-parent]').first();
      parentId = Number(await link.getAttribute('data-parent'));
      const parent = page.locator(`#comments > article.comment#comment-${parentId}`);
      assert.equal(await parent.count(), 1, `the «ردّ» link belongs to top-level #comment-${parentId}`);
      const repliesBefore = await parent.locator(':scope > .comment-replies > article.comment').count();
      await link.click();
      const form = parent.locator(':scope > form.comment-form-inline');
      await form.waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(navigations.count, 0, '«ردّ» opens the form in place, without navigating');
      assert.equal(await form.locator('input[type=hidden][name=parent]').inputValue(), String(parentId), 'the reply form names its parent');
      assert.equal((await form.locator('.comment-form-heading').innerText()).trim(), 'ردّك', 'the reply form’s heading');
      const ids = await page.evaluate(() => {
        const all = [...document.querySelectorAll('[id]')].map((e) => e.id);
        return { forms: document.querySelectorAll('#comment-form').length, duplicates: all.filter((x, i) => all.indexOf(x) !== i) };
      });
      assert.deepEqual(ids, { forms: 1, duplicates: [] }, 'the copied form brings no duplicate ids');

      await fillComment(form, { ...READER, body: TEXT.reply }, 'reply');
      const posted = await submitInPlace(page, form, 'reply');
      assert.equal(posted.status, 'approved', `the trusted reader’s reply is published: ${JSON.stringify(posted)}`);
      id = posted.id;
      const reply = parent.locator(`:scope > .comment-replies > article.comment.comment-mine#comment-${id}`);
      await reply.waitFor({ state: 'visible', timeout: WAIT_MS });
      await form.waitFor({ state: 'detached', timeout: WAIT_MS });
      const shown = await reply.evaluate(describeComment);
      assert.deepEqual([shown.name, shown.badges, shown.body, shown.actions], [READER.name, [], TEXT.reply, ['عدّل', 'احذف']], 'the reply');
      assert.equal(await parent.locator(':scope > .comment-replies').count(), 1, 'one replies list under the parent');
      assert.equal(
        await parent.locator(':scope > .comment-replies > article.comment').count(),
        repliesBefore + 1,
        'the reply joins the earlier replies',
      );
      assert.equal(navigations.count, 0, 'replying must not navigate');
      assert.equal(page.url(), url, 'replying must not leave the article');
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.locator('section#comments').screenshot({ path: path.join(SHOTS, 'comments-thread-desktop.png') });
      assert.deepEqual(dialogs.seen, [], 'no dialog');
      assertNoProblems(problems, 'reply (desktop)');
    } finally {
      await context.close();
    }
    const { context: other, page: otherPage, problems: otherProblems } = await openPage(inPlace.browser, 'desktop', { timeoutMs: WAIT_MS });
    try {
      await openArticle(otherPage, 'another reader, the reply');
      assert.equal(
        await otherPage.locator(`#comments > article#comment-${parentId} > .comment-replies > article.comment#comment-${id}`).count(),
        1,
        'another reader sees the reply under its parent',
      );
      assertNoProblems(otherProblems, 'another reader, the reply');
    } finally {
      await other.close();
    }
  });

  test('without JavaScript the form lands on the writer’s own page, where they edit and delete', { timeout: 30_000 }, async () => {
    const context = await inPlace.browser.newContext({ ...VIEWPORTS.desktop, locale: 'ar', javaScriptEnabled: false });
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    const problems = watchPage(page);
    const landing = () =>
      page.waitForResponse(
        (r) => r.request().method() === 'GET' && r.request().isNavigationRequest() && ![301, 302, 303, 307, 308].includes(r.status()),
        { timeout: WAIT_MS },
      );
    try {
      await openArticle(page, 'no JS');
      const form = page.locator('form#comment-form');
      await form.locator('[name=name]').fill(NO_JS_READER.name);
      await form.locator('[name=email]').fill(NO_JS_READER.email);
      await form.locator('[name=body]').fill(TEXT.noJs);
      const [post, landed] = await Promise.all([
        postTo(page, `/news/${ARTICLE}/comments`),
        landing(),
        form.locator('button[type=submit]').click(),
      ]);
      await page.waitForLoadState('load');
      assert.equal(post.status(), 303, 'the form post answers 303');
      const own = new RegExp(`^/news/${ARTICLE}/comments/(\\d+)$`).exec(pathOf(page.url()));
      assert.ok(own, `landed on the comment’s own page, not ${page.url()}`);
      const id = Number(own[1]);
      assert.equal(landed.status(), 200, 'the own page answers 200');
      assert.match(landed.headers()['cache-control'] || '', /no-store/, 'the own page is no-store');
      const held = (await pendingComments()).find((c) => c.id === id);
      assert.equal(held?.held_for, 'unverified', `a comment sent without the script’s ticket waits: ${JSON.stringify(held)}`);

      const ownPage = async (text, label) => {
        assert.equal((await page.locator('h1').innerText()).trim(), 'تعليقك', `${label}: the heading`);
        assert.match(await page.locator('p.comment-notice[role=status]').innerText(), /بانتظار مراجعة/, `${label}: the notice says it waits`);
        const comment = page.locator(`article.comment#comment-${id}`);
        assert.equal(await comment.count(), 1, `${label}: the comment is shown`);
        assert.equal((await comment.locator('.comment-body').innerText()).trim(), text, `${label}: its text`);
        assert.equal(await page.locator('form#comment-edit-form textarea[name=body]').inputValue(), text, `${label}: the edit form holds the text`);
        assert.equal(await page.locator('form.comment-delete-form').count(), 1, `${label}: the delete form`);
      };
      await ownPage(TEXT.noJs, 'own page');

      const editForm = page.locator('form#comment-edit-form');
      await editForm.locator('textarea[name=body]').fill(TEXT.noJsEdited);
      const [edit] = await Promise.all([
        postTo(page, `/news/${ARTICLE}/comments/${id}/edit`),
        landing(),
        editForm.locator('button[type=submit]').click(),
      ]);
      await page.waitForLoadState('load');
      assert.equal(edit.status(), 303, 'the edit answers 303');
      assert.equal(pathOf(page.url()), `/news/${ARTICLE}/comments/${id}`, 'back on the own page after editing');
      await ownPage(TEXT.noJsEdited, 'own page after the edit');

      const [removal] = await Promise.all([
        postTo(page, `/news/${ARTICLE}/comments/${id}/delete`),
        landing(),
        page.locator('form.comment-delete-form button[type=submit]').click(),
      ]);
      await page.waitForLoadState('load');
      assert.equal(removal.status(), 303, 'the delete answers 303');
      assert.ok(isArticlePath(pathOf(page.url()), ARTICLE), `back on the article after deleting (${page.url()})`);
      assert.equal(await page.locator(`#comment-${id}`).count(), 0, 'the deleted comment is not on the article');
      assert.equal((await pendingComments()).some((c) => c.id === id), false, 'the deleted comment no longer waits for an editor');
      assertNoProblems(problems, 'no JS', { allowFailed: cancelledByNavigation });
    } finally {
      await context.close();
    }
  });
});
