// Headless Chromium checks of the site search (البحث), as readers use it.
//
//   cargo build -p khabar && node --test e2e/search.test.mjs
//
// Starts `khabar demo` (30 Arabic articles), waits until the search index built in the
// background answers (/api/content/search?q=المفاوضات finds something, at most 15 s), and,
// with JavaScript on:
//   * on a phone and on a desktop: types «مفاوضات» in the masthead's form.site-search
//     (#site-search-q) of the home page and presses Enter; the browser lands on
//     /search?q=مفاوضات, which shows section.search-page with its form.search-form (the
//     query kept in #search-q), a role=status p.search-count with the count as the site
//     words it («مقالان», «٣ مقالات»...; the JSON twin /api/content/search gives the number),
//     and ol.search-results > li.search-hit in the JSON's order; the first hit's
//     p.search-hit-snippet holds a <mark> around the word as written (e.g. «المفاوضات»);
//     clicking the first hit's title opens that article (200, rtl) whose text has the
//     marked word. Screenshots: target/screenshots/search-results-phone.png and
//     search-results-desktop.png;
//   * spellings of one word (harakat «المُفَاوَضَات», tatweel «المفاوضـــات», a glued
//     conjunction «والمفاوضات») typed in #search-q all find article 1
//     («اختتام جولة المفاوضات…», a link starting /news/1/);
//   * the quoted phrase «"المياه المشتركة"» lists exactly the articles whose text (title,
//     summary, body, from the content API, harakat and tatweel left out) has those two words
//     in a row, as many as the JSON API counts, and marks those words in each snippet;
//   * choosing a section in #search-section and submitting keeps only that section's hits
//     (each p.search-hit-meta names it; fewer than without the filter, as many as the JSON
//     API counts); a «من تاريخ» (#search-from) after today gives «لا نتائج…» and no hit;
//   * more than ten hits are paged (nav.pagination, rel=next to page 2 with other hits);
//   * odd input on a phone (an empty query sent from the masthead, «!!!», «"», «🙂», 300
//     characters of words, a 300-character link pasted without spaces) answers a normal
//     page: 200, both search forms there, no status line and no result list for the empty
//     query, «لا نتائج…» or a count otherwise, and no horizontal overflow;
//   * every hit's title is the article's whole title, with the matched words in <mark>
//     (for a word and for a quoted phrase alike).
// Every page must be rtl/ar and free of failed requests, responses >= 400, console errors
// and page errors. No phone page may overflow horizontally: scrollWidth <= innerWidth + 1
// with innerWidth still 390 (a mobile viewport widens innerWidth to fit overflowing
// content). No wait is longer than 10 s.
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
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
} from './harness.mjs';

requireBinary();

const WAIT_MS = 10_000;
const INDEX_READY_MS = 15_000;
const PER_PAGE = 10;
const MASTHEAD_WORD = 'مفاوضات';
const ARTICLE_ONE_TITLE_START = 'اختتام جولة المفاوضات';
const VARIANTS = ['المُفَاوَضَات', 'المفاوضـــات', 'والمفاوضات'];
const PHRASE = ['المياه', 'المشتركة'];
// A word in almost every article (more than ten hits, several sections).
const COMMON_WORD = 'عام';
// A word in several sections, with every hit on one page.
const FILTER_WORD = 'الحكومة';
const FILTER_SECTION = 'سياسة';
const NO_RESULTS = 'لا نتائج';
// 300 characters of words, and a 300-character link pasted into the box (no space in it).
const LONG_WORDS = `${'المفاوضات حول المياه '.repeat(15)}`.slice(0, 299) + 'ة';
const LONG_LINK = `https://example.com/news?q=${'مفاوضات'.repeat(60)}`.slice(0, 299) + 'x';
const PHONE_WIDTH = VIEWPORTS.phone.viewport.width;

let server;
let browser;

const pathOf = (url) => new URL(url).pathname;

// ------------------------------------------------------------------ text helpers

/** Harakat, superscript alef and tatweel left out: how a reader compares words. */
const fold = (text) => String(text).replace(/[\u064B-\u065F\u0670\u0640]/g, '');

/** Arabic-Indic (and Persian) digits and separators as ASCII. */
const asciiDigits = (text) =>
  String(text)
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[\u066C,]/g, '');

/** How the site counts articles (khabar_arabic::plural::ARTICLES), digits as ASCII, n < 100. */
function countPhrase(n) {
  if (n === 1) return 'مقال واحد';
  if (n === 2) return 'مقالان';
  if (n >= 3 && n <= 10) return `${n} مقالات`;
  if (n >= 11 && n <= 99) return `${n} مقالًا`;
  throw new Error(`countPhrase: ${n} not expected in the demo`);
}

const stripTags = (html) =>
  String(html)
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

// ------------------------------------------------------------------ the JSON twins

async function getJson(pathAndQuery) {
  const res = await fetch(`${server.base}${pathAndQuery}`, { signal: AbortSignal.timeout(WAIT_MS) });
  assert.equal(res.status, 200, `${pathAndQuery} status`);
  return res.json();
}

function apiSearch(params) {
  return getJson(`/api/content/search?${new URLSearchParams(params)}`);
}

/** Every article with its whole text (title, summary, body), from the content API. */
async function allArticles() {
  const list = await getJson('/api/content/articles?limit=100');
  assert.equal(list.articles.length, list.total, 'the content API lists every article on one page');
  return Promise.all(list.articles.map((a) => getJson(`/api/content/articles/${a.id}`)));
}

/** Waits (at most 15 s) until the index built at start answers. */
async function waitForIndex() {
  const deadline = Date.now() + INDEX_READY_MS;
  let last = null;
  for (;;) {
    try {
      last = await apiSearch({ q: 'المفاوضات' });
      if (last.total > 0) return;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(`the search index found nothing for «المفاوضات» after ${INDEX_READY_MS / 1000} s: ${JSON.stringify(last)}\n${server.output()}`);
    }
    await sleep(200);
  }
}

// ------------------------------------------------------------------ page helpers

/** What the results page shows, read from the DOM. */
function readResults(page) {
  return page.evaluate(() => {
    const marks = (el) => (el ? [...el.querySelectorAll('mark')].map((m) => m.textContent) : []);
    const count = document.querySelector('section.search-page p.search-count');
    const list = document.querySelector('section.search-page ol.search-results');
    return {
      count: count ? count.textContent.trim() : null,
      countRole: count ? count.getAttribute('role') : null,
      hasList: Boolean(list),
      hits: [...document.querySelectorAll('section.search-page ol.search-results > li.search-hit')].map((li) => {
        const title = li.querySelector('h2.search-hit-title');
        const link = title ? title.querySelector('a') : null;
        const meta = li.querySelector('p.search-hit-meta');
        const snippet = li.querySelector('p.search-hit-snippet');
        return {
          href: link ? link.getAttribute('href') : null,
          title: link ? link.textContent.trim() : null,
          titleMarks: marks(link),
          meta: meta ? meta.textContent.replace(/\s+/g, ' ').trim() : null,
          snippet: snippet ? snippet.textContent : null,
          snippetMarks: marks(snippet),
          // Marks next to each other with only spaces between them (a marked phrase).
          snippetHtml: snippet ? snippet.innerHTML : null,
        };
      }),
    };
  });
}

/** The page's widths. */
function overflowOf(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    innerWidth: window.innerWidth,
  }));
}

/**
 * No horizontal overflow on the phone: scrollWidth <= innerWidth + 1, and the layout viewport
 * is still the phone's width (a mobile viewport widens innerWidth itself to fit content that
 * overflows, so scrollWidth <= innerWidth alone would pass a page laid out 1000 px wide).
 */
function assertNoOverflow(o, label) {
  assert.ok(
    o.scrollWidth <= o.innerWidth + 1 && o.innerWidth <= PHONE_WIDTH + 1 && o.clientWidth <= PHONE_WIDTH + 1,
    `${label}: horizontal overflow on a ${PHONE_WIDTH} px phone: scrollWidth ${o.scrollWidth}, innerWidth ${o.innerWidth}, clientWidth ${o.clientWidth}`,
  );
}

/** The page must be the search page, rtl/ar, with both forms, and nothing may have gone wrong since the last check. */
async function checkSearchPage(page, problems, label, { phone = false } = {}) {
  await page.waitForLoadState('load');
  const info = await page.evaluate(() => ({
    dir: document.documentElement.getAttribute('dir'),
    lang: document.documentElement.getAttribute('lang'),
    sectionDir: document.querySelector('section.search-page')
      ? getComputedStyle(document.querySelector('section.search-page')).direction
      : null,
    masthead: document.querySelectorAll('header form.site-search[role=search][action="/search"] input#site-search-q[name=q]').length,
    form: document.querySelectorAll('section.search-page form.search-form[action="/search"] input#search-q[name=q]').length,
    section: document.querySelectorAll('form.search-form select#search-section[name=section]').length,
    dates: document.querySelectorAll('form.search-form input#search-from[type=date], form.search-form input#search-to[type=date]').length,
  }));
  assert.equal(info.dir, 'rtl', `${label}: <html dir>`);
  assert.equal(info.lang, 'ar', `${label}: <html lang>`);
  assert.equal(info.sectionDir, 'rtl', `${label}: section.search-page (computed direction)`);
  assert.equal(info.masthead, 1, `${label}: the masthead's form.site-search with #site-search-q`);
  assert.equal(info.form, 1, `${label}: form.search-form with #search-q`);
  assert.equal(info.section, 1, `${label}: #search-section`);
  assert.equal(info.dates, 2, `${label}: #search-from and #search-to`);
  if (phone) assertNoOverflow(await overflowOf(page), label);
  // The sidebar's scripts (poll state...) must be done before the next navigation aborts them.
  await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
  assertNoProblems(problems, label);
  clearProblems(problems);
}

/** The status line shows the count for `total` (not «لا نتائج»). */
function expectCount(shown, total, label) {
  assert.ok(shown.count !== null, `${label}: no p.search-count`);
  assert.equal(shown.countRole, 'status', `${label}: p.search-count is a role=status`);
  assert.ok(!shown.count.includes(NO_RESULTS), `${label}: the status says «${shown.count}»`);
  assert.equal(asciiDigits(shown.count), countPhrase(total), `${label}: the status line «${shown.count}» for ${total} hits`);
}

function expectNoResults(shown, query, label) {
  assert.ok(shown.count !== null, `${label}: no p.search-count`);
  assert.equal(shown.countRole, 'status', `${label}: p.search-count is a role=status`);
  assert.ok(
    shown.count.startsWith(`${NO_RESULTS} لـ«`) && shown.count.includes(query.trim()),
    `${label}: the status line should be «${NO_RESULTS} لـ«${query}»…»: «${shown.count}»`,
  );
  assert.deepEqual(shown.hits, [], `${label}: no li.search-hit`);
}

/** Submits form.search-form with its «ابحث» button and waits for the results page. */
async function submitSearchForm(page) {
  const button = page.locator('form.search-form').getByRole('button', { name: 'ابحث', exact: true });
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && pathOf(r.url()) === '/search', { timeout: WAIT_MS }),
    page.waitForURL((u) => u.pathname === '/search', { waitUntil: 'load', timeout: WAIT_MS }),
    button.click({ timeout: WAIT_MS }),
  ]);
  return res;
}

/** Opens /search?… directly (a link or a typed address). */
async function openSearch(page, params) {
  const res = await page.goto(`${server.base}/search?${new URLSearchParams(params)}`, { waitUntil: 'load', timeout: WAIT_MS });
  assert.equal(res.status(), 200, `/search?${new URLSearchParams(params)} status`);
  return res;
}

const hitIds = (shown) => shown.hits.map((h) => Number((h.href || '').split('/')[2]));

// ------------------------------------------------------------------ the tests

describe('khabar search in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    await waitForIndex();
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
    const phone = kind === 'phone';
    test(`the masthead box finds «${MASTHEAD_WORD}» and a hit opens its article (${kind})`, { timeout: 30_000 }, async () => {
      const { context, page, problems } = await openPage(browser, kind);
      try {
        const home = await page.goto(`${server.base}/`, { waitUntil: 'load', timeout: WAIT_MS });
        assert.equal(home.status(), 200, 'home page status');
        await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
        assertNoProblems(problems, `home (${kind})`);

        const box = page.locator('header form.site-search[role=search] #site-search-q');
        assert.equal(await box.count(), 1, 'the masthead has #site-search-q');
        assert.ok(await box.isVisible(), `the masthead box is visible (${kind})`);
        assert.ok(
          await page.locator('header form.site-search').getByRole('button', { name: 'بحث', exact: true }).isVisible(),
          'the masthead form has a visible «بحث» button',
        );
        await box.click();
        await box.pressSequentially(MASTHEAD_WORD);
        const [res] = await Promise.all([
          page.waitForResponse((r) => r.request().isNavigationRequest() && pathOf(r.url()) === '/search', { timeout: WAIT_MS }),
          page.waitForURL((u) => u.pathname === '/search', { waitUntil: 'load', timeout: WAIT_MS }),
          box.press('Enter'),
        ]);
        assert.equal(res.status(), 200, '/search status');
        const url = new URL(page.url());
        assert.equal(url.pathname, '/search', 'Enter in the masthead box goes to /search');
        assert.equal(url.searchParams.get('q'), MASTHEAD_WORD, `the URL carries q=${MASTHEAD_WORD}`);
        await checkSearchPage(page, problems, `results for «${MASTHEAD_WORD}» (${kind})`, { phone });
        assert.equal(await page.locator('#search-q').inputValue(), MASTHEAD_WORD, '#search-q keeps the query');
        assert.equal(await page.locator('#site-search-q').inputValue(), MASTHEAD_WORD, '#site-search-q keeps the query');

        const api = await apiSearch({ q: MASTHEAD_WORD });
        assert.ok(api.total > 0, `the JSON API finds «${MASTHEAD_WORD}»`);
        const shown = await readResults(page);
        expectCount(shown, api.total, `results for «${MASTHEAD_WORD}» (${kind})`);
        assert.equal(shown.hits.length, Math.min(api.total, PER_PAGE), 'one li.search-hit per hit on the page');
        assert.deepEqual(shown.hits.map((h) => h.href), api.hits.map((h) => h.url), 'the hits, in the JSON API order');
        for (const hit of shown.hits) {
          assert.match(hit.href || '', /^\/news\/\d+\/./, `hit link ${hit.href}`);
          assert.ok(hit.meta && hit.meta.includes(' · '), `hit meta «${hit.meta}» is «section · date»`);
          assert.ok(hit.snippet && hit.snippet.trim().length > 0, `hit ${hit.href} has a snippet`);
        }
        const first = shown.hits[0];
        const marked = first.snippetMarks.find((m) => fold(m).includes(MASTHEAD_WORD));
        assert.ok(
          marked,
          `the first hit's snippet marks «${MASTHEAD_WORD}»; marks: ${JSON.stringify(first.snippetMarks)}, snippet: «${first.snippet}»`,
        );
        assert.ok(first.snippet.includes(marked), 'the marked text is in the snippet as written');
        assert.ok(!/[<>]/.test(first.snippet), `the snippet shows no markup as text: «${first.snippet}»`);

        await shoot(page, `search-results-${kind}`);

        // A reader follows the first hit.
        const link = page.locator('ol.search-results > li.search-hit').first().locator('h2.search-hit-title a');
        const target = new URL(first.href, server.base);
        const [article] = await Promise.all([
          page.waitForResponse((r) => r.request().isNavigationRequest() && pathOf(r.url()) === target.pathname, { timeout: WAIT_MS }),
          page.waitForURL((u) => u.pathname === target.pathname, { waitUntil: 'load', timeout: WAIT_MS }),
          link.click({ timeout: WAIT_MS }),
        ]);
        assert.equal(article.status(), 200, `${first.href} status`);
        const info = await page.evaluate(() => ({
          dir: document.documentElement.getAttribute('dir'),
          lang: document.documentElement.getAttribute('lang'),
          h1: document.querySelector('h1')?.textContent.trim() ?? null,
          text: document.body.innerText,
        }));
        assert.equal(info.dir, 'rtl', 'article <html dir>');
        assert.equal(info.lang, 'ar', 'article <html lang>');
        assert.equal(info.h1, api.hits[0].title, 'the article page is the first hit');
        assert.ok(info.text.includes(marked), `the article's text has the marked «${marked}»`);
        if (phone) assertNoOverflow(await overflowOf(page), `article ${first.href}`);
        await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
        assertNoProblems(problems, `article ${first.href} (${kind})`);
      } finally {
        await context.close();
      }
    });
  }

  test('spellings of one word all find article 1', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'desktop');
    try {
      await openSearch(page, {});
      await checkSearchPage(page, problems, 'the empty search page');
      for (const variant of VARIANTS) {
        const label = `«${variant}»`;
        await page.locator('#search-q').fill(variant);
        const res = await submitSearchForm(page);
        assert.equal(res.status(), 200, `${label}: /search status`);
        assert.equal(new URL(page.url()).searchParams.get('q'), variant, `${label}: the URL carries the query as typed`);
        await checkSearchPage(page, problems, label);
        assert.equal(await page.locator('#search-q').inputValue(), variant, `${label}: #search-q keeps the query as typed`);
        const shown = await readResults(page);
        const api = await apiSearch({ q: variant });
        expectCount(shown, api.total, label);
        const one = shown.hits.find((h) => (h.href || '').startsWith('/news/1/'));
        assert.ok(one, `${label}: no hit links to /news/1/; hits: ${JSON.stringify(shown.hits.map((h) => h.href))}`);
        assert.ok(
          fold(one.title).startsWith(ARTICLE_ONE_TITLE_START),
          `${label}: the /news/1/ hit's title «${one.title}»`,
        );
        assert.ok(
          one.snippetMarks.some((m) => fold(m).includes(MASTHEAD_WORD)),
          `${label}: article 1's snippet marks the word; marks ${JSON.stringify(one.snippetMarks)}`,
        );
      }
    } finally {
      await context.close();
    }
  });

  test('a quoted phrase finds exactly the articles with those words in a row', { timeout: 30_000 }, async () => {
    const query = `"${PHRASE.join(' ')}"`;
    // What the articles hold, independently of the index.
    const articles = await allArticles();
    const phraseRe = new RegExp(`(^|[^\\u0621-\\u064A])${PHRASE.join('\\s+')}([^\\u0621-\\u064A]|$)`);
    const expected = articles
      .filter((a) => phraseRe.test(fold(`${a.title}\n${a.summary}\n${stripTags(a.body_html)}`)))
      .map((a) => a.id)
      .sort((x, y) => x - y);
    assert.ok(expected.length > 0, `some demo article has «${PHRASE.join(' ')}»`);
    assert.ok(expected.length <= PER_PAGE, 'the phrase hits fit on one page');
    const api = await apiSearch({ q: query });

    const { context, page, problems } = await openPage(browser, 'phone');
    try {
      await openSearch(page, {});
      await checkSearchPage(page, problems, 'the empty search page (phone)', { phone: true });
      await page.locator('#search-q').fill(query);
      const res = await submitSearchForm(page);
      assert.equal(res.status(), 200, `${query}: /search status`);
      await checkSearchPage(page, problems, `results for ${query} (phone)`, { phone: true });
      const shown = await readResults(page);
      assert.equal(shown.hits.length, api.total, `${query}: as many hits as the JSON API counts`);
      expectCount(shown, api.total, query);
      assert.deepEqual([...hitIds(shown)].sort((x, y) => x - y), expected, `${query}: the hits are the articles with the phrase`);
      for (const hit of shown.hits) {
        const marks = hit.snippetMarks.map(fold);
        assert.ok(marks.length > 0, `${query}: ${hit.href}'s snippet has no <mark>: «${hit.snippet}»`);
        for (const m of marks) {
          assert.ok(PHRASE.includes(m), `${query}: ${hit.href} marks «${m}», not a word of the phrase`);
        }
        const pair = new RegExp(`<mark>${PHRASE[0]}</mark>\\s+<mark>${PHRASE[1]}</mark>`);
        assert.match(fold(hit.snippetHtml), pair, `${query}: ${hit.href}'s snippet marks the phrase's words in a row`);
      }
    } finally {
      await context.close();
    }
  });

  test('the section and date filters narrow the results', { timeout: 30_000 }, async () => {
    const sections = await getJson('/api/content/sections');
    const section = sections.find((s) => s.name === FILTER_SECTION);
    assert.ok(section, `the demo has the section «${FILTER_SECTION}»`);
    const all = await apiSearch({ q: FILTER_WORD });
    const only = await apiSearch({ q: FILTER_WORD, section: section.slug });
    assert.ok(only.total > 0 && only.total < all.total, `«${FILTER_WORD}» is in «${FILTER_SECTION}» and elsewhere (${only.total} of ${all.total})`);
    assert.ok(only.total <= PER_PAGE, 'the filtered hits fit on one page');

    const { context, page, problems } = await openPage(browser, 'desktop');
    try {
      await openSearch(page, { q: FILTER_WORD });
      await checkSearchPage(page, problems, `results for «${FILTER_WORD}»`);
      expectCount(await readResults(page), all.total, `results for «${FILTER_WORD}»`);
      const options = await page.locator('#search-section option').evaluateAll((os) => os.map((o) => [o.value, o.textContent.trim()]));
      assert.deepEqual(options[0], ['', 'كل الأقسام'], '#search-section starts with «كل الأقسام»');
      assert.deepEqual(
        options.slice(1),
        sections.map((s) => [s.slug, s.name]),
        '#search-section lists the sections by slug',
      );

      await page.locator('#search-section').selectOption({ label: FILTER_SECTION });
      const res = await submitSearchForm(page);
      assert.equal(res.status(), 200, 'filtered /search status');
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('section'), section.slug, 'the URL carries the section slug');
      assert.equal(url.searchParams.get('q'), FILTER_WORD, 'the URL keeps the query');
      await checkSearchPage(page, problems, `«${FILTER_WORD}» in «${FILTER_SECTION}»`);
      assert.equal(await page.locator('#search-section').inputValue(), section.slug, '#search-section keeps the chosen section');
      const shown = await readResults(page);
      expectCount(shown, only.total, `«${FILTER_WORD}» in «${FILTER_SECTION}»`);
      assert.equal(shown.hits.length, only.total, 'every filtered hit is on the page');
      for (const hit of shown.hits) {
        assert.equal(hit.meta.split(' · ')[0].trim(), FILTER_SECTION, `hit ${hit.href} meta «${hit.meta}»`);
      }
      assert.deepEqual(shown.hits.map((h) => h.href), only.hits.map((h) => h.url), 'the filtered hits, as the JSON API has them');

      // A start date after today: nothing can match, whatever the section.
      const future = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      await page.locator('#search-section').selectOption('');
      await page.locator('#search-from').fill(future);
      const res2 = await submitSearchForm(page);
      assert.equal(res2.status(), 200, 'future-dated /search status');
      const url2 = new URL(page.url());
      assert.equal(url2.searchParams.get('from'), future, 'the URL carries the from date');
      assert.equal(url2.searchParams.get('section'), '', 'the URL has no section');
      await checkSearchPage(page, problems, `«${FILTER_WORD}» from ${future}`);
      assert.equal(await page.locator('#search-from').inputValue(), future, '#search-from keeps the date');
      expectNoResults(await readResults(page), FILTER_WORD, `«${FILTER_WORD}» from ${future}`);
      assert.equal((await apiSearch({ q: FILTER_WORD, from: future })).total, 0, 'the JSON API agrees: nothing from the future');
    } finally {
      await context.close();
    }
  });

  test('more than ten hits are paged', { timeout: 30_000 }, async () => {
    const api = await apiSearch({ q: COMMON_WORD });
    assert.ok(api.total > PER_PAGE, `«${COMMON_WORD}» has more than ${PER_PAGE} hits (${api.total})`);
    const second = await apiSearch({ q: COMMON_WORD, page: '2' });
    const { context, page, problems } = await openPage(browser, 'phone');
    try {
      await openSearch(page, { q: COMMON_WORD });
      await checkSearchPage(page, problems, `«${COMMON_WORD}» page 1 (phone)`, { phone: true });
      const one = await readResults(page);
      expectCount(one, api.total, `«${COMMON_WORD}» page 1`);
      assert.equal(one.hits.length, PER_PAGE, `«${COMMON_WORD}» page 1 shows ${PER_PAGE} hits`);
      const nav = page.locator('section.search-page nav.pagination');
      assert.equal(await nav.count(), 1, 'a nav.pagination');
      assert.equal(await nav.locator('a[rel=prev]').count(), 0, 'no «previous» on page 1');
      const next = nav.locator('a[rel=next]');
      assert.equal(await next.count(), 1, 'a rel=next link');
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('page') === '2', { waitUntil: 'load', timeout: WAIT_MS }),
        next.click({ timeout: WAIT_MS }),
      ]);
      assert.equal(new URL(page.url()).searchParams.get('q'), COMMON_WORD, 'page 2 keeps the query');
      await checkSearchPage(page, problems, `«${COMMON_WORD}» page 2 (phone)`, { phone: true });
      const two = await readResults(page);
      expectCount(two, api.total, `«${COMMON_WORD}» page 2`);
      assert.deepEqual(two.hits.map((h) => h.href), second.hits.map((h) => h.url), 'page 2 shows the JSON API page 2');
      const overlap = two.hits.filter((h) => one.hits.some((o) => o.href === h.href));
      assert.deepEqual(overlap, [], 'page 2 repeats no hit of page 1');
      assert.equal(await page.locator('section.search-page nav.pagination a[rel=prev]').count(), 1, 'a «previous» link on page 2');
    } finally {
      await context.close();
    }
  });

  test('odd input answers a normal page', { timeout: 30_000 }, async () => {
    assert.equal([...LONG_WORDS].length, 300, 'the long query of words has 300 characters');
    assert.equal([...LONG_LINK].length, 300, 'the pasted link has 300 characters');
    const { context, page, problems } = await openPage(browser, 'phone');
    // Overflow is gathered and asserted last, so that every input gets its other checks.
    const overflows = [];
    const noteOverflow = async (label) => {
      try {
        assertNoOverflow(await overflowOf(page), label);
      } catch (error) {
        overflows.push(error.message);
      }
    };
    try {
      // The empty query, as the masthead sends it.
      const home = await page.goto(`${server.base}/`, { waitUntil: 'load', timeout: WAIT_MS });
      assert.equal(home.status(), 200, 'home page status');
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().isNavigationRequest() && pathOf(r.url()) === '/search', { timeout: WAIT_MS }),
        page.waitForURL((u) => u.pathname === '/search', { waitUntil: 'load', timeout: WAIT_MS }),
        page.locator('#site-search-q').press('Enter'),
      ]);
      assert.equal(res.status(), 200, 'empty query: /search status');
      assert.equal(new URL(page.url()).searchParams.get('q'), '', 'empty query: q= in the URL');
      await checkSearchPage(page, problems, 'empty query (phone)');
      await noteOverflow('empty query (phone)');
      const empty = await readResults(page);
      assert.equal(empty.hasList, false, 'empty query: no ol.search-results');
      assert.equal(empty.count, null, 'empty query: no status line');

      for (const query of ['!!!', '"', '🙂', LONG_WORDS, LONG_LINK]) {
        const label = `query «${query.length > 40 ? `${query.slice(0, 40)}…` : query}» (${[...query].length} chars, phone)`;
        await openSearch(page, { q: query });
        await checkSearchPage(page, problems, label);
        await noteOverflow(label);
        const shown = await readResults(page);
        const api = await apiSearch({ q: query });
        if (api.total === 0) {
          expectNoResults(shown, [...query].slice(0, 200).join(''), label);
        } else {
          expectCount(shown, api.total, label);
        }
        const kept = await page.locator('#search-q').inputValue();
        assert.ok(query.startsWith(kept) && kept.length > 0, `${label}: #search-q keeps (the start of) the query: «${kept}»`);
      }
      assert.deepEqual(overflows, [], 'search pages that overflow the phone horizontally');
    } finally {
      await context.close();
    }
  });

  const TITLE_CASES = [
    { q: MASTHEAD_WORD, words: [MASTHEAD_WORD] },
    { q: `"${PHRASE.join(' ')}"`, words: PHRASE },
  ];

  test('every hit shows the whole title', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'desktop');
    try {
      const cut = [];
      for (const { q } of TITLE_CASES) {
        await openSearch(page, { q });
        await checkSearchPage(page, problems, `titles for ${q}`);
        const api = await apiSearch({ q });
        const shown = await readResults(page);
        assert.equal(shown.hits.length, api.hits.length, `${q}: hits`);
        shown.hits.forEach((hit, i) => {
          if (hit.title !== api.hits[i].title) {
            cut.push(`${q}: /news/${api.hits[i].id}/ shows «${hit.title}» for «${api.hits[i].title}»`);
          }
        });
      }
      assert.deepEqual(cut, [], 'hit titles that are not the whole article title');
    } finally {
      await context.close();
    }
  });

  test('the matched words are marked in the hit titles, for words and quoted phrases', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'desktop');
    try {
      const unmarked = [];
      for (const { q, words } of TITLE_CASES) {
        await openSearch(page, { q });
        await checkSearchPage(page, problems, `title marks for ${q}`);
        const shown = await readResults(page);
        const one = shown.hits.find((h) => (h.href || '').startsWith('/news/1/'));
        assert.ok(one, `${q}: article 1 is a hit`);
        const marks = one.titleMarks.map(fold);
        for (const word of words) {
          assert.ok(fold(one.title).includes(word), `${q}: article 1's title has «${word}»`);
          if (!marks.some((m) => m.includes(word))) {
            unmarked.push(`${q}: «${word}» unmarked in article 1's title «${one.title}» (marks ${JSON.stringify(one.titleMarks)})`);
          }
        }
      }
      assert.deepEqual(unmarked, [], 'matched words left unmarked in hit titles');
    } finally {
      await context.close();
    }
  });
});
