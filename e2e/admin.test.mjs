// Headless Chromium checks of the khabar newsroom admin (Arabic, RTL), as its staff use it.
//
//   cargo build -p khabar && node --test e2e/
//
// Starts `khabar demo` in a fresh temp data dir on a free loopback port, creates an admin
// and a contributor from the shell (`khabar admin create`), and, with one browser context
// per role, walks through: log in, upload an image, write and publish an article with it
// (live preview), schedule an article and wait for the job loop to publish it, edit a
// published article and restore its first revision, and a contributor's submission for
// review (and the 403 on /admin/staff). Every admin page visited must be rtl/ar and free
// of failed requests, responses >= 400, console errors and page errors, unless a step
// expects one. Screenshots go to target/screenshots/ (editor-desktop, editor-phone,
// admin-dashboard, ...).
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  VIEWPORTS,
  assertNoProblems,
  clearProblems,
  launchBrowser,
  openPage,
  requireBinary,
  runKhabar,
  shoot,
  sleep,
  startKhabar,
  stopKhabar,
  watchPage,
} from './harness.mjs';

requireBinary();

const PASSWORD = 'زيتون أخضر على الطاولة 42';
const ADMIN = { email: 'admin@example.com', name: 'مديرة التحرير', role: 'admin' };
const CONTRIBUTOR = { email: 'contributor@example.com', name: 'مساهم جديد', role: 'contributor' };
const TIME_ZONE = 'Asia/Damascus';

const CAPTION = 'صورة الاختبار';
const CREDIT = 'تصوير: الاختبار';
const PUBLISHED_TITLE = 'افتتاح خط حافلات جديد يربط أحياء المدينة القديمة بالجامعة';
const EDITED_TITLE = 'تعديل: خط الحافلات الجديد يبدأ العمل الأسبوع المقبل';
const SCHEDULED_TITLE = 'مقال مجدول: معرض الكتاب يفتح أبوابه صباح الغد';
const PUBLISHED_SECTION = 'محليات';
const PUBLISHED_TAGS = 'المدن، النقل العام';
const REVIEW_TITLE = 'مساهمة: مكتبة متنقلة تجوب قرى الريف كل أسبوع';
const BODY = [
  'أعلنت البلدية **اليوم** عن خط حافلات جديد يعمل من السادسة صباحاً حتى منتصف الليل.',
  '',
  '## التفاصيل',
  '',
  'يمر الخط بـ 12 محطة، وتبلغ الأجرة 500 ليرة.',
].join('\n');

let server;
let browser;
const sessions = {}; // role -> { context, page, problems }
let publishedId = null; // flow 1's article, reused by flow 3

/** A session (fresh context, desktop viewport) logged in as `who`; one per role. */
async function session(who) {
  if (sessions[who.role]) return sessions[who.role];
  const s = await openPage(browser, 'desktop');
  const { page, problems } = s;
  await page.goto(`${server.base}/admin/login`, { waitUntil: 'load' });
  await page.getByLabel('البريد الإلكتروني').fill(who.email);
  await page.getByLabel('كلمة المرور').fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/admin', { waitUntil: 'load' }),
    page.getByRole('button', { name: 'دخول' }).click(),
  ]);
  await checkAdminPage(page, problems, `login as ${who.role}`);
  sessions[who.role] = s;
  return s;
}

/**
 * The page must be an Arabic RTL page and nothing may have gone wrong since the last check
 * (except what `allow` excuses); then the problem lists start afresh.
 */
async function checkAdminPage(page, problems, label, allow = {}) {
  await page.waitForLoadState('networkidle');
  const doc = await page.evaluate(() => ({
    dir: document.documentElement.dir,
    lang: document.documentElement.lang,
  }));
  assert.equal(doc.dir, 'rtl', `${label}: <html dir> should be rtl`);
  assert.equal(doc.lang, 'ar', `${label}: <html lang> should be ar`);
  assertNoProblems(problems, label, allow);
  clearProblems(problems);
}

/** Goes to an admin path, expecting 200 and a clean page. */
async function visit({ page, problems }, pathname, label = pathname) {
  const res = await page.goto(`${server.base}${pathname}`, { waitUntil: 'load' });
  assert.equal(res.status(), 200, `${label}: status`);
  await checkAdminPage(page, problems, label);
}

/** Clicks a submit button and waits for the navigation that follows. */
async function submit(page, name) {
  const before = page.url();
  await Promise.all([
    page.waitForURL((u) => u.href !== before, { waitUntil: 'load' }),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
}

/** Expects the page's role="status" notice to contain `text`. */
async function expectNotice(page, text, label) {
  const notice = page.getByRole('status');
  await notice.first().waitFor({ state: 'visible', timeout: 5_000 }).catch(() => {});
  const texts = await notice.allInnerTexts();
  assert.ok(
    texts.some((t) => t.includes(text)),
    `${label}: no notice containing "${text}"; notices: ${JSON.stringify(texts)}; url ${page.url()}`,
  );
}

/** Fills the editor's fields (only those given). */
async function fillEditor(page, { title, body, section, tags, publishAt }) {
  if (title !== undefined) await page.locator('#field-title').fill(title);
  if (body !== undefined) await page.locator('#field-body_markdown').fill(body);
  if (section !== undefined) await page.locator('#field-section').fill(section);
  if (tags !== undefined) await page.locator('#field-tags').fill(tags);
  if (publishAt !== undefined) await page.locator('#field-published_at').fill(publishAt);
}

/**
 * editor-phone.png: the same filled editor, laid out from the start at 390x844 in a second page of
 * the session's context (resizing a laid-out page leaves stale paint in full-page screenshots).
 * The page is closed unsaved; the desktop page's submit then clears the shared local draft.
 */
async function shootEditorOnPhone({ context }) {
  const page = await context.newPage();
  const problems = watchPage(page);
  try {
    await page.setViewportSize(VIEWPORTS.phone.viewport);
    const res = await page.goto(`${server.base}/admin/articles/new`, { waitUntil: 'load' });
    assert.equal(res.status(), 200, 'editor (phone): status');
    await fillEditor(page, {
      title: PUBLISHED_TITLE,
      body: BODY,
      section: PUBLISHED_SECTION,
      tags: PUBLISHED_TAGS,
    });
    await page.locator('#field-media').selectOption({ label: CAPTION });
    await page.locator('#preview strong').first().waitFor({ state: 'attached', timeout: 3_000 });
    await checkAdminPage(page, problems, 'editor (phone)');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `editor at 390 px overflows horizontally by ${overflow} px`);
    await shoot(page, 'editor-phone');
  } finally {
    await page.close();
  }
}

/** The article id in an editor URL (/admin/articles/{id}...). */
function articleIdOf(url) {
  const m = new URL(url).pathname.match(/^\/admin\/articles\/(\d+)/);
  assert.ok(m, `not an article editor URL: ${url}`);
  return Number(m[1]);
}

/** `date` as a datetime-local value (YYYY-MM-DDTHH:MM:SS) in the site's time zone. */
function siteLocal(date) {
  const fmt = new Intl.DateTimeFormat('sv-SE', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return fmt.format(date).replace(' ', 'T');
}

/** Fetches the public home page (no cookies) and says whether it links an article titled `title`. */
async function homeShows(title) {
  const res = await fetch(`${server.base}/`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, 'home page status');
  const html = await res.text();
  return html.includes(title);
}

/** Opens the public page of article `id` (following its canonical redirect) and returns its <h1>. */
async function publicTitle({ page, problems }, id) {
  const res = await page.goto(`${server.base}/news/${id}`, { waitUntil: 'load' });
  assert.equal(res.status(), 200, `/news/${id} status`);
  const title = (await page.locator('h1').first().innerText()).trim();
  await checkAdminPage(page, problems, `/news/${id}`);
  return title;
}

/** Writes a real PNG (a screenshot of a small rendered page) to a temp file and returns its path. */
async function makePng() {
  const { context, page } = await openPage(browser, 'desktop');
  try {
    await page.setViewportSize({ width: 640, height: 400 });
    await page.setContent(
      '<body style="margin:0;background:linear-gradient(135deg,#0a5,#036);height:400px;' +
        'display:flex;align-items:center;justify-content:center;color:#fff;font:64px sans-serif">' +
        'اختبار</body>',
    );
    const file = path.join(server.tmp, 'upload.png');
    fs.writeFileSync(file, await page.screenshot({ type: 'png' }));
    return file;
  } finally {
    await context.close();
  }
}

describe('khabar newsroom admin in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    for (const who of [ADMIN, CONTRIBUTOR]) {
      const { stdout } = await runKhabar(
        ['admin', 'create', '--data', server.dataDir, '--email', who.email, '--name', who.name, '--role', who.role],
        { env: { KHABAR_PASSWORD: PASSWORD } },
      );
      assert.match(stdout, /created .* account/, `khabar admin create (${who.role}) said: ${stdout}`);
    }
    browser = await launchBrowser();
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      await stopKhabar(server);
    }
  });

  test('admin logs in, uploads an image and publishes an article with it', { timeout: 90_000 }, async () => {
    const s = await session(ADMIN);
    const { page, problems } = s;
    assert.equal(new URL(page.url()).pathname, '/admin', 'landed on the dashboard');
    await page.getByRole('heading', { level: 1 }).filter({ hasText: ADMIN.name }).waitFor();
    await shoot(page, 'admin-dashboard');

    // Upload an image.
    await visit(s, '/admin/media');
    await page.locator('#upload-file').setInputFiles(await makePng());
    await page.locator('#upload-caption').fill(CAPTION);
    await page.locator('#upload-credit').fill(CREDIT);
    await submit(page, 'رفع');
    await checkAdminPage(page, problems, 'media upload');
    await expectNotice(page, 'رُفعت الصورة', 'media upload');
    await shoot(page, 'admin-media');

    // Write the article; the live preview renders the Markdown while typing.
    await visit(s, '/admin/articles/new');
    await page.locator('#field-title').fill(PUBLISHED_TITLE);
    await page.locator('#field-body_markdown').pressSequentially(BODY, { delay: 2 });
    await page.locator('#preview strong').first().waitFor({ state: 'attached', timeout: 3_000 });
    assert.equal((await page.locator('#preview strong').first().innerText()).trim(), 'اليوم', 'preview <strong>');
    await fillEditor(page, { section: PUBLISHED_SECTION, tags: PUBLISHED_TAGS });
    const media = page.locator('#field-media');
    assert.equal(
      await media.locator('option', { hasText: CAPTION }).count(),
      1,
      `#field-media has one option labelled "${CAPTION}"`,
    );
    await media.selectOption({ label: CAPTION });
    await checkAdminPage(page, problems, 'editor (filled)');
    await shoot(page, 'editor-desktop');
    await shootEditorOnPhone(s);

    await submit(page, 'نشر الآن');
    await checkAdminPage(page, problems, 'publish');
    await expectNotice(page, 'نُشر المقال', 'publish');
    publishedId = articleIdOf(page.url());

    // The reader's view: the home page links it, and its page shows the featured image.
    const res = await page.goto(`${server.base}/`, { waitUntil: 'load' });
    assert.equal(res.status(), 200, 'home page status');
    const link = page.locator(`a[href^="/news/${publishedId}/"], a[href="/news/${publishedId}"]`, {
      hasText: PUBLISHED_TITLE,
    });
    assert.ok((await link.count()) > 0, `home page does not link "${PUBLISHED_TITLE}" to /news/${publishedId}/`);
    const href = await link.first().getAttribute('href');
    const art = await page.goto(new URL(href, server.base).href, { waitUntil: 'load' });
    assert.equal(art.status(), 200, 'article page status');
    assert.equal((await page.locator('h1').first().innerText()).trim(), PUBLISHED_TITLE, 'article <h1>');
    const figure = page.locator('figure.featured');
    assert.equal(await figure.count(), 1, 'article page has one <figure class="featured">');
    const figText = await figure.innerText();
    assert.ok(figText.includes(CAPTION), `featured figure lacks the caption: ${JSON.stringify(figText)}`);
    const img = figure.locator('img');
    assert.ok((await img.count()) > 0, 'featured figure has no <img>');
    await img.first().scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () => {
        const i = document.querySelector('figure.featured img');
        return i && i.complete && i.naturalWidth > 0;
      },
      null,
      { timeout: 10_000 },
    );
    await checkAdminPage(page, problems, 'published article page');
    await shoot(page, 'admin-published-article');
  });

  test('a scheduled article appears on the home page when its time comes', { timeout: 120_000 }, async () => {
    const s = await session(ADMIN);
    const { page, problems } = s;
    await visit(s, '/admin/articles/new');
    const when = siteLocal(new Date(Date.now() + 15_000));
    await fillEditor(page, {
      title: SCHEDULED_TITLE,
      body: 'يفتتح **معرض الكتاب** دورته الجديدة بمشاركة 300 دار نشر.',
      section: 'ثقافة وفنون',
      tags: 'الكتب',
      publishAt: when,
    });
    // The input normalizes its value: whole minutes (":00" seconds, 1 run in 60) read back without seconds.
    assert.equal(
      await page.locator('#field-published_at').inputValue(),
      when.replace(/:00$/, ''),
      'datetime-local kept the value',
    );
    await submit(page, 'جدولة النشر');
    await checkAdminPage(page, problems, 'schedule');
    await expectNotice(page, 'جُدول المقال', 'schedule');

    assert.equal(await homeShows(SCHEDULED_TITLE), false, 'scheduled article is on the home page too early');
    const deadline = Date.now() + 45_000;
    let shown = false;
    while (!shown && Date.now() < deadline) {
      await sleep(1_000);
      shown = await homeShows(SCHEDULED_TITLE);
    }
    assert.ok(shown, `scheduled for ${when} (${TIME_ZONE}); not on the home page 45 s later`);
  });

  test('editing a published article, then restoring revision 1', { timeout: 90_000 }, async () => {
    assert.ok(publishedId, 'needs the article published by the first test');
    const s = await session(ADMIN);
    const { page, problems } = s;
    await visit(s, `/admin/articles/${publishedId}`);
    assert.equal(await page.locator('#field-title').inputValue(), PUBLISHED_TITLE, 'editor shows the title');
    await fillEditor(page, { title: EDITED_TITLE });
    await submit(page, 'حفظ التعديلات');
    await checkAdminPage(page, problems, 'save edits');
    await expectNotice(page, 'حُفظت', 'save edits');
    assert.equal(await publicTitle(s, publishedId), EDITED_TITLE, 'public title after the edit');

    await visit(s, `/admin/articles/${publishedId}`);

    await Promise.all([
      page.waitForURL((u) => u.pathname === `/admin/articles/${publishedId}/revisions`, { waitUntil: 'load' }),
      page.getByRole('link', { name: 'النسخ السابقة' }).click(),
    ]);
    await checkAdminPage(page, problems, 'revisions');
    const removed = await page.locator('.diff-removed').allInnerTexts();
    const added = await page.locator('.diff-added').allInnerTexts();
    assert.ok(
      removed.some((t) => t.includes(PUBLISHED_TITLE)),
      `.diff-removed lacks the old title: ${JSON.stringify(removed)}`,
    );
    assert.ok(added.some((t) => t.includes(EDITED_TITLE)), `.diff-added lacks the new title: ${JSON.stringify(added)}`);
    await shoot(page, 'admin-revisions');

    const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: '1', exact: true }) });
    assert.equal(await row.count(), 1, 'one row for revision 1');
    const before = page.url();
    await Promise.all([
      page.waitForURL((u) => u.href !== before, { waitUntil: 'load' }),
      row.getByRole('button', { name: 'استعادة' }).click(),
    ]);
    await checkAdminPage(page, problems, 'restore');
    await expectNotice(page, 'استُعيدت', 'restore');

    assert.equal(await publicTitle(s, publishedId), PUBLISHED_TITLE, 'public title after restoring revision 1');
  });

  test('a contributor submits for review; the admin sees it waiting', { timeout: 90_000 }, async () => {
    const c = await session(CONTRIBUTOR);
    const { page, problems } = c;
    await visit(c, '/admin/articles/new');
    assert.equal(await page.getByRole('button', { name: 'إرسال للمراجعة' }).count(), 1, '"إرسال للمراجعة" button');
    assert.equal(await page.getByRole('button', { name: 'نشر الآن' }).count(), 0, 'contributor sees "نشر الآن"');
    await fillEditor(page, {
      title: REVIEW_TITLE,
      body: 'تحمل **المكتبة المتنقلة** أكثر من ألفي كتاب للأطفال والكبار.',
      section: 'ثقافة وفنون',
      tags: 'الكتب، الثقافة',
    });
    await submit(page, 'إرسال للمراجعة');
    await checkAdminPage(page, problems, 'submit for review');
    await expectNotice(page, 'أُرسل المقال إلى المحررين للمراجعة', 'submit for review');
    await shoot(page, 'contributor-submitted');

    const staffUrl = `${server.base}/admin/staff`;
    const res = await page.goto(staffUrl, { waitUntil: 'load' });
    assert.equal(res.status(), 403, '/admin/staff as a contributor');
    const text = await page.locator('body').innerText();
    assert.ok(text.includes('غير مسموح'), `403 page lacks "غير مسموح": ${text.slice(0, 300)}`);
    await checkAdminPage(page, problems, '403 page', {
      allowBad: (b) => b === `403 ${staffUrl}`,
      allowConsole: (c) => /status of 403/.test(c) && c.includes(staffUrl),
    });
    await shoot(page, 'contributor-403');

    const a = await session(ADMIN);
    await visit(a, '/admin');
    const waiting = a.page.locator('section').filter({
      has: a.page.getByRole('heading', { name: 'بانتظار مراجعتك' }),
    });
    assert.equal(await waiting.count(), 1, 'dashboard has a "بانتظار مراجعتك" section');
    assert.ok(
      (await waiting.getByRole('link', { name: REVIEW_TITLE }).count()) > 0,
      `"بانتظار مراجعتك" does not list "${REVIEW_TITLE}": ${await waiting.innerText()}`,
    );
    await shoot(a.page, 'admin-dashboard-waiting');
  });
});
