// Headless Chromium checks of how an article travels: the share box, the short link
// /n/{id}, what link previews and search engines read from the page's head, and the feeds.
//
//   cargo build -p khabar && node --test e2e/sharing.test.mjs
//
// Starts `khabar demo` and opens the article the home page links first (its id from
// /news/{id}/…; its short link is <base>/n/{id}). Then:
//   * with JavaScript, on a phone and on a desktop: section.share[data-share] is visible and
//     rtl; .share-links holds four links, facebook, x, telegram and whatsapp in that order,
//     each target=_blank with noopener in rel, pointing at
//     https://www.facebook.com/sharer/sharer.php?u=<canonical>,
//     https://x.com/intent/post?text=<title>&url=<canonical>,
//     https://t.me/share/url?url=<short link>&text=<title> and
//     https://wa.me/?text=<title>\n<short link> (queries decoded before comparing); the page asks
//     nothing of another host (every request the context makes is to the khabar base URL);
//     button.copy-link is visible and, clipboard permissions granted, one click writes
//     «نُسخ الرابط.» in .copy-status and puts the short link on the clipboard
//     (navigator.clipboard.readText()). Screenshots: target/screenshots/sharing-article-phone.png,
//     sharing-article-desktop.png and sharing-box-{phone,desktop}.png;
//   * without JavaScript (same viewports as openPage): button.copy-link stays hidden,
//     input.share-url shows the short link, is read-only but not disabled, and a reader can
//     select its whole text (click, select all: the selection covers the value); typing
//     does not change it;
//   * page.goto(<base>/n/{id}) answers a 301 to the article and lands, with 200, on exactly
//     the <link rel=canonical> href;
//   * the head: og:title is the h1's text, og:url the canonical link, og:image an absolute
//     URL that loads (200, content-type image/…); the two application/ld+json scripts parse,
//     are a NewsArticle (url and mainEntityOfPage @id the canonical link, headline the h1)
//     and a BreadcrumbList (ending at the canonical link); no CSP violation is reported
//     (a securitypolicyviolation listener installed before the page's scripts);
//   * the home page's <link rel=alternate type=application/rss+xml> loads as
//     application/rss+xml, and so does the section feed a section page (the first section
//     link of nav.section-nav, followed by a click) adds to its head.
// Every page must be rtl/ar and free of failed requests, responses >= 400, console errors
// and page errors. No wait is longer than 10 s.
//
// Env: KHABAR_BIN (default <repo>/target/debug/khabar),
//      CHROMIUM_BIN (default /usr/bin/chromium).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  SHOTS,
  VIEWPORTS,
  assertNoProblems,
  clearProblems,
  launchBrowser,
  openPage,
  requireBinary,
  settle,
  shoot,
  startKhabar,
  stopKhabar,
  watchPage,
} from './harness.mjs';

requireBinary();

const WAIT_MS = 10_000;
const COPIED = 'نُسخ الرابط.';
const NETWORKS = ['facebook', 'x', 'telegram', 'whatsapp'];

let server;
let browser;
/** The article the home page links first: { id, path, short }. */
let article;

const pathOf = (url) => new URL(url).pathname;

/** Records every request a context makes (pages, scripts, images, fonts, fetches...). */
function recordRequests(context) {
  const urls = [];
  context.on('request', (req) => urls.push(req.url()));
  return urls;
}

/** Requests that leave the khabar server (data: and blob: URLs never leave the browser). */
const thirdParty = (urls) =>
  urls.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== server.base);

/** Collects CSP violations in window.__cspViolations, from before the page's own scripts run. */
async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`),
    );
  });
}

const cspViolations = (page) => page.evaluate(() => window.__cspViolations ?? null);

/** Opens a page and checks the answer: status 200, rtl/ar. */
async function open(page, url, label) {
  const res = await page.goto(url, { waitUntil: 'load', timeout: WAIT_MS });
  assert.equal(res.status(), 200, `${label}: status of ${url}`);
  const root = await page.evaluate(() => ({
    dir: document.documentElement.getAttribute('dir'),
    lang: document.documentElement.getAttribute('lang'),
  }));
  assert.deepEqual(root, { dir: 'rtl', lang: 'ar' }, `${label}: <html dir lang>`);
  return res;
}

/** The article page's canonical link, h1 and share box, read from the DOM. */
function readArticle(page) {
  return page.evaluate(() => {
    const box = document.querySelector('section.share[data-share]');
    const field = box?.querySelector('input.share-url');
    const button = box?.querySelector('button.copy-link');
    return {
      canonical: document.querySelector('link[rel=canonical]')?.href ?? null,
      shortlink: document.querySelector('link[rel=shortlink]')?.href ?? null,
      title: document.querySelector('h1')?.textContent.trim() ?? null,
      boxes: document.querySelectorAll('section.share[data-share]').length,
      direction: box ? getComputedStyle(box).direction : null,
      links: box
        ? [...box.querySelectorAll('.share-links a')].map((a) => ({
            cls: a.className,
            href: a.getAttribute('href'),
            target: a.getAttribute('target'),
            rel: (a.getAttribute('rel') || '').split(/\s+/).filter(Boolean),
            text: a.textContent.trim(),
          }))
        : [],
      field: field
        ? {
            value: field.value,
            readOnly: field.readOnly,
            disabled: field.disabled,
            dir: field.getAttribute('dir'),
            userSelect: getComputedStyle(field).userSelect,
          }
        : null,
      buttonHiddenAttr: button ? button.hidden : null,
      status: box?.querySelector('.copy-status')?.textContent ?? null,
    };
  });
}

/** Checks the four share links against the canonical link, the short link and the title. */
function checkShareLinks(shown, label) {
  const { canonical, title } = shown;
  const short = article.short;
  assert.deepEqual(
    shown.links.map((l) => l.cls),
    NETWORKS.map((n) => `share-${n}`),
    `${label}: four share links, facebook, x, telegram, whatsapp`,
  );
  for (const link of shown.links) {
    assert.equal(link.target, '_blank', `${label}: ${link.cls} opens in a new tab`);
    assert.ok(link.rel.includes('noopener'), `${label}: ${link.cls} rel="${link.rel.join(' ')}" lacks noopener`);
    assert.ok(link.text.length > 0, `${label}: ${link.cls} has a visible label`);
  }
  const [facebook, x, telegram, whatsapp] = shown.links.map((l) => new URL(l.href));
  const params = (u) => Object.fromEntries(u.searchParams);

  assert.ok(shown.links[0].href.startsWith('https://www.facebook.com/sharer/'), `${label}: facebook href ${shown.links[0].href}`);
  assert.equal(facebook.pathname, '/sharer/sharer.php', `${label}: facebook path`);
  assert.deepEqual(params(facebook), { u: canonical }, `${label}: facebook shares the canonical link`);

  assert.ok(shown.links[1].href.startsWith('https://x.com/intent/post'), `${label}: x href ${shown.links[1].href}`);
  assert.deepEqual(params(x), { text: title, url: canonical }, `${label}: x shares the title and the canonical link`);

  assert.ok(shown.links[2].href.startsWith('https://t.me/share/url'), `${label}: telegram href ${shown.links[2].href}`);
  assert.deepEqual(params(telegram), { url: short, text: title }, `${label}: telegram shares the short link ${short}`);

  assert.ok(shown.links[3].href.startsWith('https://wa.me/'), `${label}: whatsapp href ${shown.links[3].href}`);
  assert.deepEqual(params(whatsapp), { text: `${title}\n${short}` }, `${label}: whatsapp's message is the title and the short link ${short}`);
}

// ------------------------------------------------------------------ the tests

describe('khabar sharing in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    browser = await launchBrowser();
    // The article the home page links first.
    const { context, page, problems } = await openPage(browser, 'desktop', { timeoutMs: WAIT_MS });
    try {
      await open(page, `${server.base}/`, 'home');
      const href = await page.locator('main a[href^="/news/"]').first().getAttribute('href');
      const m = /^\/news\/(\d+)\//.exec(href || '');
      assert.ok(m, `the home page's first article link ${href} is /news/{id}/…`);
      article = { id: Number(m[1]), path: href, url: new URL(href, server.base).href, short: `${server.base}/n/${m[1]}` };
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      assertNoProblems(problems, 'home');
    } finally {
      await context.close();
    }
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      await stopKhabar(server);
    }
  });

  for (const kind of Object.keys(VIEWPORTS)) {
    test(`the share box: four links, nothing from other hosts, the copy button copies the short link (${kind})`, { timeout: 30_000 }, async () => {
      const { context, page, problems } = await openPage(browser, kind, { timeoutMs: WAIT_MS });
      const requests = recordRequests(context);
      try {
        await watchCsp(context);
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
        await open(page, article.url, `article (${kind})`);
        await settle(page);

        const box = page.locator('section.share[data-share]');
        assert.ok(await box.isVisible(), `${kind}: the share box is visible`);
        const shown = await readArticle(page);
        assert.equal(shown.boxes, 1, `${kind}: one share box`);
        assert.equal(shown.direction, 'rtl', `${kind}: the share box is laid out rtl`);
        assert.equal(shown.canonical, article.url, `${kind}: the canonical link is the address the home page links`);
        checkShareLinks(shown, kind);
        for (const network of NETWORKS) {
          assert.ok(await box.locator(`.share-links a.share-${network}`).isVisible(), `${kind}: the ${network} link is visible`);
        }
        assert.equal(shown.field?.value, article.short, `${kind}: the field holds the short link`);

        // The copy button, shown by share.js.
        const button = box.locator('button.copy-link');
        await button.waitFor({ state: 'visible', timeout: WAIT_MS });
        assert.equal(await button.innerText(), 'انسخ الرابط', `${kind}: the button's label`);
        assert.ok(await page.evaluate(() => window.isSecureContext), `${kind}: http://127.0.0.1 is a secure context`);
        await page.evaluate(() => navigator.clipboard.writeText('—'));
        await button.click();
        const status = box.locator('.copy-status');
        await page.waitForFunction(
          () => document.querySelector('section.share .copy-status')?.textContent !== '',
          null,
          { timeout: WAIT_MS },
        );
        assert.equal(await status.textContent(), COPIED, `${kind}: the status after a click`);
        assert.equal(await status.getAttribute('role'), 'status', `${kind}: .copy-status is a role=status`);
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), article.short, `${kind}: the clipboard holds the short link`);

        await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
        await shoot(page, `sharing-article-${kind}`);
        await page.evaluate(() => document.fonts.ready.then(() => undefined));
        fs.mkdirSync(SHOTS, { recursive: true });
        await box.screenshot({ path: path.join(SHOTS, `sharing-box-${kind}.png`) });

        assert.ok(requests.length > 0, `${kind}: requests were recorded`);
        assert.deepEqual(thirdParty(requests), [], `${kind}: requests to hosts other than ${server.base}`);
        assert.deepEqual(await cspViolations(page), [], `${kind}: CSP violations`);
        assertNoProblems(problems, `article (${kind})`);
      } finally {
        await context.close();
      }
    });
  }

  for (const kind of Object.keys(VIEWPORTS)) {
    test(`without JavaScript the short link waits in a read-only field a reader can select (${kind})`, { timeout: 30_000 }, async () => {
      const context = await browser.newContext({ ...VIEWPORTS[kind], locale: 'ar', javaScriptEnabled: false });
      context.setDefaultTimeout(WAIT_MS);
      const page = await context.newPage();
      const problems = watchPage(page);
      const requests = recordRequests(context);
      try {
        await open(page, article.url, `article without JS (${kind})`);
        await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
        const shown = await readArticle(page);
        assert.ok(await page.locator('section.share[data-share]').isVisible(), `${kind}: the share box is visible`);
        checkShareLinks(shown, `${kind}, no JS`);
        const button = page.locator('section.share button.copy-link');
        assert.equal(await button.count(), 1, `${kind}: the copy button is in the page`);
        assert.equal(shown.buttonHiddenAttr, true, `${kind}: the copy button keeps its hidden attribute`);
        assert.ok(await button.isHidden(), `${kind}: the copy button is not shown`);
        assert.equal(shown.status, '', `${kind}: no copy status`);

        const field = page.locator('section.share input.share-url');
        assert.ok(await field.isVisible(), `${kind}: the field is visible`);
        assert.deepEqual(
          shown.field,
          { value: article.short, readOnly: true, disabled: false, dir: 'ltr', userSelect: shown.field?.userSelect },
          `${kind}: the field holds the short link, read-only, not disabled, ltr`,
        );
        assert.notEqual(shown.field.userSelect, 'none', `${kind}: the field's text can be selected (user-select)`);
        assert.equal(await field.inputValue(), article.short, `${kind}: the field's value`);
        assert.equal(await field.isEditable(), false, `${kind}: the field is not editable`);

        // A reader clicks into it and selects all.
        await field.click();
        await page.keyboard.press('ControlOrMeta+A');
        const selection = await field.evaluate((el) => ({
          focused: document.activeElement === el,
          start: el.selectionStart,
          end: el.selectionEnd,
          text: el.value.slice(el.selectionStart, el.selectionEnd),
        }));
        assert.deepEqual(
          selection,
          { focused: true, start: 0, end: article.short.length, text: article.short },
          `${kind}: click and select-all select the whole short link`,
        );
        await page.keyboard.type('x');
        assert.equal(await field.inputValue(), article.short, `${kind}: typing does not change the read-only field`);

        assert.deepEqual(thirdParty(requests), [], `${kind}: requests to hosts other than ${server.base}`);
        assertNoProblems(problems, `article without JS (${kind})`);
      } finally {
        await context.close();
      }
    });
  }

  test('the short link /n/{id} lands on the canonical article URL', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'phone', { timeoutMs: WAIT_MS });
    try {
      await watchCsp(context);
      const res = await open(page, article.short, 'short link');
      const redirect = res.request().redirectedFrom();
      assert.ok(redirect, `${article.short} redirects`);
      assert.equal(redirect.url(), article.short, 'the redirect starts at the short link');
      const first = await redirect.response();
      assert.equal(first?.status(), 301, 'the short link answers a permanent redirect');
      assert.equal(res.status(), 200, 'the article answers 200 after the redirect');
      const shown = await readArticle(page);
      assert.ok(shown.canonical, 'the article has a <link rel=canonical>');
      assert.equal(page.url(), shown.canonical, 'the short link lands on the canonical URL');
      assert.equal(shown.canonical, article.url, 'the canonical URL is the one the home page links');
      assert.equal(shown.shortlink, article.short, '<link rel=shortlink> names the short link');
      assert.equal(shown.field?.value, article.short, 'the landed page offers the same short link');
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      assert.deepEqual(await cspViolations(page), [], 'CSP violations');
      assertNoProblems(problems, 'short link');
    } finally {
      await context.close();
    }
  });

  test('the head: OpenGraph matches the article, og:image loads, JSON-LD parses', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'desktop', { timeoutMs: WAIT_MS });
    try {
      await watchCsp(context);
      await open(page, article.url, 'article head');
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      const head = await page.evaluate(() => {
        const meta = (p) => document.head.querySelector(`meta[property="${p}"]`)?.getAttribute('content') ?? null;
        return {
          h1: document.querySelector('h1')?.textContent.trim() ?? null,
          canonical: document.head.querySelector('link[rel=canonical]')?.getAttribute('href') ?? null,
          ogTitle: meta('og:title'),
          ogUrl: meta('og:url'),
          ogImage: meta('og:image'),
          ogImageType: meta('og:image:type'),
          ogTitles: document.head.querySelectorAll('meta[property="og:title"]').length,
          ldJson: [...document.querySelectorAll('script[type="application/ld+json"]')].map((s) => s.textContent),
        };
      });
      assert.ok(head.h1, 'the article has an h1');
      assert.equal(head.ogTitles, 1, 'one og:title');
      assert.equal(head.ogTitle, head.h1, 'og:title is the h1');
      assert.ok(head.canonical, 'a <link rel=canonical>');
      assert.equal(head.ogUrl, head.canonical, 'og:url is the canonical link');

      assert.ok(head.ogImage, 'an og:image');
      let image;
      assert.doesNotThrow(() => (image = new URL(head.ogImage)), `og:image ${head.ogImage} is an absolute URL`);
      assert.match(image.protocol, /^https?:$/, `og:image ${head.ogImage} is an http(s) URL`);
      const got = await page.request.get(head.ogImage, { timeout: WAIT_MS });
      assert.equal(got.status(), 200, `og:image ${head.ogImage} status`);
      const type = got.headers()['content-type'] || '';
      assert.match(type, /^image\//, `og:image ${head.ogImage} content-type`);
      if (head.ogImageType) assert.ok(type.startsWith(head.ogImageType), `og:image:type ${head.ogImageType} vs content-type ${type}`);
      assert.ok((await got.body()).length > 0, 'og:image is not empty');

      assert.equal(head.ldJson.length, 2, 'two application/ld+json scripts');
      const items = head.ldJson.map((text, i) => {
        try {
          return JSON.parse(text);
        } catch (error) {
          assert.fail(`ld+json #${i + 1} does not parse: ${error.message}\n${text}`);
        }
      });
      assert.deepEqual(items.map((x) => x['@type']), ['NewsArticle', 'BreadcrumbList'], 'the JSON-LD types');
      const [news, crumbs] = items;
      assert.equal(news['@context'], 'https://schema.org', 'NewsArticle @context');
      assert.equal(news.url, head.canonical, 'NewsArticle url is the canonical link');
      assert.equal(news.mainEntityOfPage?.['@id'], head.canonical, 'NewsArticle mainEntityOfPage is the canonical link');
      if ([...head.h1].length <= 110) assert.equal(news.headline, head.h1, 'NewsArticle headline is the h1');
      assert.equal(crumbs['@context'], 'https://schema.org', 'BreadcrumbList @context');
      const list = crumbs.itemListElement || [];
      assert.deepEqual(list.map((x) => x.position), [1, 2, 3], 'breadcrumb positions');
      assert.equal(list[0]?.item, `${server.base}/`, 'the first breadcrumb is the home page');
      assert.equal(list.at(-1)?.item, head.canonical, 'the last breadcrumb is the article');

      assert.deepEqual(await cspViolations(page), [], 'CSP violations');
      assertNoProblems(problems, 'article head');
    } finally {
      await context.close();
    }
  });

  test('the home page and a section page announce RSS feeds that load', { timeout: 30_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'desktop', { timeoutMs: WAIT_MS });
    const rssLinks = () =>
      page.evaluate(() =>
        [...document.head.querySelectorAll('link[rel=alternate][type="application/rss+xml"]')].map((l) => l.href),
      );
    const loadFeed = async (href, label) => {
      const got = await page.request.get(href, { timeout: WAIT_MS });
      assert.equal(got.status(), 200, `${label}: ${href} status`);
      assert.match(got.headers()['content-type'] || '', /^application\/rss\+xml\b/, `${label}: ${href} content-type`);
      const xml = await got.text();
      assert.match(xml, /^<\?xml[^>]*\?>\s*<rss\b/, `${label}: ${href} is an RSS document`);
      return xml;
    };
    try {
      await watchCsp(context);
      await open(page, `${server.base}/`, 'home');
      const homeFeeds = await rssLinks();
      assert.equal(homeFeeds.length, 1, `the home page announces one RSS feed: ${JSON.stringify(homeFeeds)}`);
      const siteFeed = homeFeeds[0];
      assert.equal(new URL(siteFeed).origin, server.base, 'the site feed is on the site');
      await loadFeed(siteFeed, 'site feed');
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      assertNoProblems(problems, 'home');
      clearProblems(problems);

      const section = page.locator('nav.section-nav a:not([href="/"])').first();
      const sectionHref = await section.getAttribute('href');
      const sectionName = (await section.innerText()).trim();
      assert.ok(sectionHref?.startsWith('/section/'), `the first section link ${sectionHref}`);
      await Promise.all([
        page.waitForURL((u) => u.pathname === sectionHref, { waitUntil: 'load', timeout: WAIT_MS }),
        section.click(),
      ]);
      assert.equal(pathOf(page.url()), sectionHref, 'the click opens the section page');
      const sectionFeeds = await rssLinks();
      const own = sectionFeeds.filter((href) => href !== siteFeed);
      assert.equal(own.length, 1, `the section page announces its own RSS feed: ${JSON.stringify(sectionFeeds)}`);
      assert.equal(new URL(own[0]).origin, server.base, 'the section feed is on the site');
      assert.ok(pathOf(own[0]).startsWith(`${sectionHref}/`), `the section feed ${own[0]} is under ${sectionHref}`);
      const xml = await loadFeed(own[0], 'section feed');
      assert.ok(xml.includes(`<title>${sectionName}`), `the section feed's title names «${sectionName}»`);
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      assert.deepEqual(await cspViolations(page), [], 'CSP violations');
      assertNoProblems(problems, 'section page');
    } finally {
      await context.close();
    }
  });
});
