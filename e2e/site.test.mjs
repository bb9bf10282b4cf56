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
import {
  VIEWPORTS,
  assertNoProblems,
  launchBrowser,
  openPage as openWatchedPage,
  requireBinary,
  settle,
  shoot,
  startKhabar,
  stopKhabar,
} from './harness.mjs';

const FONT_FAMILY = 'Noto Naskh Arabic';
const RELATED_HEADING = 'أخبار ذات صلة';

// Fail the whole file up front (not as five "cancelled" tests) when there is nothing to test.
requireBinary();

let server; // { proc, base, dataDir, output() }
let browser;

const openPage = (kind) => openWatchedPage(browser, kind);

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
  assertNoProblems(problems, label);
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

describe('khabar reader site in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    browser = await launchBrowser();
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
        // Let the page's own requests (the poll's state) finish first: leaving
        // mid-request aborts it, and the watcher would count that as a failure.
        await page.waitForLoadState('networkidle');
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
      assertNoProblems(problems, '404 page', {
        allowBad: (b) => b.endsWith(url),
        allowConsole: () => true,
      });
      await shoot(page, 'notfound-phone');
    } finally {
      await context.close();
    }
  });
});
