// Headless Chromium check of static pages (الصفحات) as an editor makes them:
//
//   cargo build -p khabar && node --test e2e/pages.test.mjs
//
// Starts `khabar demo` in a fresh temp data dir, creates an editor from the shell, then in the
// browser: logs in, opens /admin/pages, writes «اتصل بنا» in Markdown, publishes it with
// "رابط في تذييل الموقع" ticked, and checks as a reader that the page is at /page/اتصل-بنا and
// that the home page's footer (a cached page, shown before the change) now links to it, and
// that following the footer link opens it. Every page visited must be rtl/ar and free of failed
// requests, responses >= 400, console errors and page errors. Screenshots: pages-admin-list,
// pages-editor, page-contact (desktop and phone), pages-footer.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertNoProblems,
  clearProblems,
  launchBrowser,
  openPage,
  requireBinary,
  runKhabar,
  settle,
  shoot,
  startKhabar,
  stopKhabar,
} from './harness.mjs';

requireBinary();

const PASSWORD = 'زيتون أخضر على الطاولة 42';
const EDITOR = { email: 'editor@example.com', name: 'محررة الموقع', role: 'editor' };
const TITLE = 'اتصل بنا';
const BODY = ['يسعدنا أن نسمع منكم.', '', '## البريد', '', 'اكتبوا إلى **غرفة الأخبار** في أي وقت.'].join('\n');

let server;
let browser;

async function checkPage(page, problems, label) {
  await page.waitForLoadState('networkidle');
  const doc = await page.evaluate(() => ({ dir: document.documentElement.dir, lang: document.documentElement.lang }));
  assert.equal(doc.dir, 'rtl', `${label}: <html dir>`);
  assert.equal(doc.lang, 'ar', `${label}: <html lang>`);
  assertNoProblems(problems, label);
  clearProblems(problems);
}

describe('static pages in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    const { stdout } = await runKhabar(
      ['admin', 'create', '--data', server.dataDir, '--email', EDITOR.email, '--name', EDITOR.name, '--role', EDITOR.role],
      { env: { KHABAR_PASSWORD: PASSWORD } },
    );
    assert.match(stdout, /created .* account/, `khabar admin create said: ${stdout}`);
    browser = await launchBrowser();
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      await stopKhabar(server);
    }
  });

  test('an editor creates a page, links it in the footer, and readers see it', { timeout: 90_000 }, async () => {
    // A reader's view of the home page first: it is now in the page cache.
    const reader = await openPage(browser, 'desktop');
    await reader.page.goto(`${server.base}/`, { waitUntil: 'load' });
    assert.equal(await reader.page.locator('footer').getByRole('link', { name: TITLE }).count(), 0, 'no link yet');
    await checkPage(reader.page, reader.problems, 'home before');

    const { page, problems } = await openPage(browser, 'desktop');
    await page.goto(`${server.base}/admin/login`, { waitUntil: 'load' });
    await page.getByLabel('البريد الإلكتروني').fill(EDITOR.email);
    await page.getByLabel('كلمة المرور').fill(PASSWORD);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/admin', { waitUntil: 'load' }),
      page.getByRole('button', { name: 'دخول' }).click(),
    ]);
    await checkPage(page, problems, 'login');

    await Promise.all([
      page.waitForURL((u) => u.pathname === '/admin/pages', { waitUntil: 'load' }),
      page.getByRole('link', { name: 'الصفحات', exact: true }).click(),
    ]);
    await checkPage(page, problems, '/admin/pages');
    await shoot(page, 'pages-admin-list');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/admin/pages/new', { waitUntil: 'load' }),
      page.getByRole('link', { name: 'صفحة جديدة' }).click(),
    ]);
    await page.getByLabel('العنوان', { exact: true }).fill(TITLE);
    await page.getByLabel('النص (Markdown)').fill(BODY);
    await page.getByLabel('الحالة').selectOption('published');
    await page.getByLabel('رابط في تذييل الموقع').check();
    await shoot(page, 'pages-editor');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/admin/pages', { waitUntil: 'load' }),
      page.getByRole('button', { name: 'حفظ', exact: true }).click(),
    ]);
    await checkPage(page, problems, 'saved');
    const notice = await page.getByRole('status').allInnerTexts();
    assert.ok(notice.some((t) => t.includes('حُفظ التغيير')), `notice: ${JSON.stringify(notice)}`);
    const row = page.locator('tbody tr').filter({ hasText: TITLE });
    assert.equal(await row.count(), 1, 'listed');
    assert.ok((await row.innerText()).includes('منشورة'), 'published');

    // The reader's home page (cached before) now links the page from its footer.
    await reader.page.goto(`${server.base}/`, { waitUntil: 'load' });
    const link = reader.page.locator('footer').getByRole('link', { name: TITLE });
    assert.equal(await link.count(), 1, 'the footer links the new page');
    await settle(reader.page);
    await reader.page.locator('footer').scrollIntoViewIfNeeded();
    await shoot(reader.page, 'pages-footer');
    await Promise.all([reader.page.waitForURL((u) => u.pathname.startsWith('/page/'), { waitUntil: 'load' }), link.click()]);
    assert.equal(decodeURIComponent(new URL(reader.page.url()).pathname), '/page/اتصل-بنا');
    assert.equal(await reader.page.getByRole('heading', { level: 1 }).innerText(), TITLE);
    assert.equal(await reader.page.locator('.article-body h2').innerText(), 'البريد');
    assert.equal(await reader.page.locator('.article-body strong').innerText(), 'غرفة الأخبار');
    await settle(reader.page);
    await checkPage(reader.page, reader.problems, '/page/اتصل-بنا');
    await shoot(reader.page, 'page-contact-desktop');

    const phone = await openPage(browser, 'phone');
    await phone.page.goto(`${server.base}/page/${encodeURIComponent('اتصل-بنا')}`, { waitUntil: 'load' });
    await settle(phone.page);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling on a phone (${overflow}px)`);
    await checkPage(phone.page, phone.problems, 'page on a phone');
    await shoot(phone.page, 'page-contact-phone');
  });
});
