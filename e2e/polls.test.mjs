// Headless Chromium checks of the reader poll in the home page's sidebar, as readers vote.
//
//   cargo build -p khabar && node --test e2e/polls.test.mjs
//
// Starts `khabar demo` (its sidebar holds one open poll, id 1, four answers, no votes) and:
//   * on a phone with JavaScript: the box shows the question and the four answers; the
//     page script asks /polls/1/state and, since this reader has not voted, keeps the
//     form; choosing the second answer and pressing «صوّت» votes in place (a fetch with
//     Accept: application/json, no navigation) and the box shows the results: four rows
//     (label, figures, a <progress>), the notice «شكرًا، حُسب صوتك.» and a total with
//     «صوت واحد»; after a reload the box shows the results again (from /polls/1/state),
//     not the form. The same reader's cookie on a desktop shows the results too; a new
//     reader (fresh context) still gets the form.
//   * on a desktop with JavaScript disabled: the form posts normally and lands on an
//     HTML results page with «شكرًا، حُسب صوتك.»; then /polls/1 and the /polls archive
//     show «صوتان» in the total.
// Every page must be rtl/ar and free of failed requests, responses >= 400, console
// errors and page errors; phone pages must not overflow horizontally. Screenshots go
// to target/screenshots/ (poll-voted-phone and poll-voted-desktop: the viewport with
// the voted box in view; poll-box-voted-phone: the box alone; poll-form-desktop: the
// box a new reader sees; poll-voted-nojs-desktop and poll-results-desktop: the pages
// without JavaScript).
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
  sleep,
  startKhabar,
  stopKhabar,
  watchPage,
} from './harness.mjs';

requireBinary();

const POLL = 1;
const VOTE_BUTTON = 'صوّت';
const THANKS = 'شكرًا، حُسب صوتك.';
const ONE_VOTE = 'صوت واحد';
const TWO_VOTES = 'صوتان';
const VOTER_COOKIE = 'khabar_voter';
// After /polls/1/state has answered, the script renders in the same task chain; this
// is only slack for its promise callbacks.
const SCRIPT_SLACK_MS = 300;

let server;
let browser;
let poll; // /api/content/polls/1 before anyone voted: { question, options: [{ id, label }] }
let phoneCookies; // the first reader's cookies, after voting

const pathOf = (url) => new URL(url).pathname;

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

/** Saves a screenshot of what the viewport shows (the box scrolled into view) to target/screenshots/<name>.png. */
async function shootViewport(page, box, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await box.scrollIntoViewIfNeeded();
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function shootElement(element, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await element.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Waits for the page script's GET /polls/1/state (start waiting before the navigation). */
function stateAnswer(page) {
  return page.waitForResponse((r) => pathOf(r.url()) === `/polls/${POLL}/state` && r.request().method() === 'GET');
}

/** Opens the home page; with JavaScript, also waits for the script's state request to be answered and handled. */
async function openHome(page, { js = true } = {}) {
  const state = js ? stateAnswer(page) : null;
  const res = await page.goto(`${server.base}/`, { waitUntil: 'load' });
  assert.equal(res.status(), 200, 'home page status');
  if (state) {
    const answer = await state;
    assert.equal(answer.status(), 200, `/polls/${POLL}/state status`);
    assert.match(answer.headers()['cache-control'] || '', /no-store/, `/polls/${POLL}/state must not be cached`);
    await answer.finished();
    await sleep(SCRIPT_SLACK_MS);
    return answer.json();
  }
  return null;
}

/** The sidebar poll box, checked to be there with the question and the four answers as a form. */
async function pollBox(page, label) {
  const box = page.locator(`section.poll-box[data-poll="${POLL}"]`);
  assert.equal(await box.count(), 1, `${label}: one section.poll-box[data-poll="${POLL}"]`);
  assert.equal((await box.locator('.poll-question').innerText()).trim(), poll.question, `${label}: the question`);
  assert.equal(
    await box.evaluate((el) => getComputedStyle(el).direction),
    'rtl',
    `${label}: the poll box's computed direction`,
  );
  const form = box.locator(`form[method="post"][action="/polls/${POLL}/vote"]`);
  assert.equal(await form.count(), 1, `${label}: the box holds the vote form`);
  return {
    box,
    form,
    radios: form.locator('input[type=radio][name=option]'),
    submit: form.getByRole('button', { name: VOTE_BUTTON, exact: true }),
    results: box.locator('.poll-results'),
  };
}

/** The form is what the reader sees (not voted yet): visible answers, no results. */
async function expectForm(p, label) {
  assert.ok(await p.form.isVisible(), `${label}: the form should be visible`);
  assert.equal(await p.radios.count(), poll.options.length, `${label}: radio inputs`);
  const labels = (await p.form.locator('label.poll-option').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(labels, poll.options.map((o) => o.label), `${label}: the answers, in order`);
  const values = await p.radios.evaluateAll((inputs) => inputs.map((i) => Number(i.value)));
  assert.deepEqual(values, poll.options.map((o) => o.id), `${label}: the radios' values are the option ids`);
  assert.ok(await p.submit.isVisible(), `${label}: the «${VOTE_BUTTON}» button`);
  assert.equal(await p.box.locator('.poll-result-list').count(), 0, `${label}: no results shown to a reader who has not voted`);
}

/**
 * The box shows results instead of the form: a list of four rows in the poll's order, each
 * with label, figures and a <progress>; the chosen answer has every vote when it is the only
 * one. Returns the total's text.
 */
async function expectResults(p, label, { chosen = null, voters, notice }) {
  const list = p.box.locator('ul.poll-result-list');
  await list.waitFor({ state: 'visible', timeout: 5_000 });
  assert.equal(await p.form.isVisible(), false, `${label}: the form should be hidden once results show`);
  const rows = list.locator('li');
  assert.equal(await rows.count(), poll.options.length, `${label}: result rows`);
  const shown = await rows.evaluateAll((items) =>
    items.map((li) => ({
      label: li.querySelector('.poll-result-label')?.textContent.trim() ?? null,
      figures: li.querySelector('.poll-result-figures')?.textContent.trim() ?? null,
      progress: li.querySelector('progress') ? Number(li.querySelector('progress').value) : null,
    })),
  );
  assert.deepEqual(shown.map((r) => r.label), poll.options.map((o) => o.label), `${label}: result labels, in order`);
  for (const row of shown) {
    assert.ok(row.figures, `${label}: no .poll-result-figures for «${row.label}»`);
    assert.notEqual(row.progress, null, `${label}: no <progress> for «${row.label}»`);
  }
  if (chosen !== null && voters === 1) {
    const index = poll.options.findIndex((o) => o.id === chosen);
    shown.forEach((row, i) => {
      if (i === index) {
        assert.equal(row.progress, 100, `${label}: the chosen answer's bar`);
        assert.ok(row.figures.includes('100٪') && row.figures.includes(ONE_VOTE), `${label}: chosen figures ${row.figures}`);
      } else {
        assert.equal(row.progress, 0, `${label}: bar of «${row.label}»`);
      }
    });
  }
  const notices = await p.box.locator('p.poll-notice').allInnerTexts();
  if (notice) {
    assert.deepEqual(notices.map((t) => t.trim()), [notice], `${label}: the notice`);
    assert.equal(await p.box.locator('p.poll-notice').getAttribute('role'), 'status', `${label}: the notice is a status`);
  } else {
    assert.deepEqual(notices, [], `${label}: no notice`);
  }
  const total = (await p.box.locator('.poll-total').innerText()).trim();
  // RTL: in each row the label comes first, so it sits to the right of the figures.
  const first = rows.first();
  const labelBox = await first.locator('.poll-result-label').boundingBox();
  const figuresBox = await first.locator('.poll-result-figures').boundingBox();
  assert.ok(
    labelBox && figuresBox && labelBox.x + labelBox.width > figuresBox.x + figuresBox.width,
    `${label}: in RTL the label should be right of the figures (label ${JSON.stringify(labelBox)}, figures ${JSON.stringify(figuresBox)})`,
  );
  return total;
}

/** The results on a poll page (no JS): heading, rows, total; returns the total's text. */
async function expectResultsPage(page, label) {
  const h1 = page.locator('h1');
  assert.equal(await h1.count(), 1, `${label}: one <h1>`);
  assert.equal((await h1.innerText()).trim(), poll.question, `${label}: <h1> is the question (url ${page.url()})`);
  const rows = page.locator('ul.poll-result-list li');
  assert.equal(await rows.count(), poll.options.length, `${label}: result rows`);
  const labels = (await page.locator('ul.poll-result-list .poll-result-label').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(labels, poll.options.map((o) => o.label), `${label}: result labels, in order`);
  assert.equal(await page.locator('ul.poll-result-list progress').count(), poll.options.length, `${label}: <progress> bars`);
  assert.equal(await page.locator('.poll-total').count(), 1, `${label}: one .poll-total`);
  return (await page.locator('.poll-total').innerText()).trim();
}

async function contentApi() {
  const res = await fetch(`${server.base}/api/content/polls/${POLL}`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `/api/content/polls/${POLL} status`);
  return res.json();
}

describe('khabar reader polls in headless Chromium', () => {
  before(async () => {
    server = await startKhabar();
    browser = await launchBrowser();
    poll = await contentApi();
    assert.equal(poll.voters, 0, 'the demo poll starts without votes');
    assert.equal(poll.open, true, 'the demo poll is open');
    assert.equal(poll.options.length, 4, 'the demo poll has four answers');
  });

  after(async () => {
    try {
      if (browser) await browser.close();
    } finally {
      await stopKhabar(server);
    }
  });

  test('a reader votes in place and keeps seeing the results; a new reader sees the form', { timeout: 90_000 }, async () => {
    const { context, page, problems } = await openPage(browser, 'phone');
    try {
      const before = await openHome(page);
      assert.equal(before.voted, false, 'a new reader has not voted');
      await checkPage(page, problems, 'home (phone)', { phone: true });
      const p = await pollBox(page, 'home (phone)');
      await expectForm(p, 'home (phone), before voting');

      const second = poll.options[1];
      await p.radios.nth(1).check();
      assert.ok(await p.form.getByLabel(second.label, { exact: true }).isChecked(), 'the second answer is chosen');

      const urlBefore = page.url();
      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations += 1;
      });
      const voteAnswer = page.waitForResponse(
        (r) => pathOf(r.url()) === `/polls/${POLL}/vote` && r.request().method() === 'POST',
      );
      await p.submit.click();
      const answer = await voteAnswer;
      assert.equal(answer.status(), 200, 'vote status');
      const sent = answer.request();
      assert.match(sent.headers().accept || '', /application\/json/, 'the script asks for JSON');
      const body = new URLSearchParams(sent.postData() || '');
      assert.deepEqual(body.getAll('option'), [String(second.id)], 'the vote names the second answer');
      assert.equal(body.get('csrf'), await p.form.locator('input[name=csrf]').inputValue(), 'the vote carries the form token');
      const json = await answer.json();
      assert.equal(json.counted, 'accepted', `vote answer: ${JSON.stringify(json)}`);
      assert.equal(json.voted, true, 'vote answer: voted');
      assert.equal(json.results.voters, 1, 'vote answer: one voter');

      const total = await expectResults(p, 'after voting (phone)', { chosen: second.id, voters: 1, notice: THANKS });
      assert.ok(total.includes(ONE_VOTE), `the total should say «${ONE_VOTE}»: «${total}»`);
      assert.equal(page.url(), urlBefore, 'voting must not leave the page');
      assert.equal(navigations, 0, 'voting must not navigate');
      await checkPage(page, problems, 'after voting (phone)', { phone: true });

      const cookies = await context.cookies();
      const voter = cookies.find((c) => c.name === VOTER_COOKIE);
      assert.ok(voter, `a ${VOTER_COOKIE} cookie after voting; cookies: ${JSON.stringify(cookies.map((c) => c.name))}`);
      assert.equal(voter.httpOnly, true, `${VOTER_COOKIE} is HttpOnly`);
      phoneCookies = cookies;

      await shootViewport(page, p.box, 'poll-voted-phone');
      await shootElement(p.box, 'poll-box-voted-phone');

      // A reload: the page is the same cached HTML with the form; the state request says "voted".
      const state = stateAnswer(page);
      await page.reload({ waitUntil: 'load' });
      const reloaded = await (await state).json();
      assert.equal(reloaded.voted, true, `/polls/${POLL}/state after voting: ${JSON.stringify(reloaded)}`);
      await sleep(SCRIPT_SLACK_MS);
      const again = await pollBox(page, 'reloaded (phone)');
      const totalAgain = await expectResults(again, 'reloaded (phone)', { chosen: second.id, voters: 1, notice: null });
      assert.ok(totalAgain.includes(ONE_VOTE), `after a reload the total should say «${ONE_VOTE}»: «${totalAgain}»`);
      await checkPage(page, problems, 'reloaded (phone)', { phone: true });
    } finally {
      await context.close();
    }

    // The same reader (their cookie) on a desktop: results, from the state request.
    {
      const { context: desk, page: deskPage, problems: deskProblems } = await openPage(browser, 'desktop');
      try {
        await desk.addCookies(phoneCookies);
        const state = await openHome(deskPage);
        assert.equal(state.voted, true, 'the same voter cookie is "voted" on another device');
        await checkPage(deskPage, deskProblems, 'home (desktop, same reader)');
        const p = await pollBox(deskPage, 'home (desktop, same reader)');
        const total = await expectResults(p, 'home (desktop, same reader)', { chosen: poll.options[1].id, voters: 1, notice: null });
        assert.ok(total.includes(ONE_VOTE), `desktop total should say «${ONE_VOTE}»: «${total}»`);
        await shootViewport(deskPage, p.box, 'poll-voted-desktop');
      } finally {
        await desk.close();
      }
    }

    // A new reader (fresh context, no cookies) still gets the form.
    {
      const { context: other, page: otherPage, problems: otherProblems } = await openPage(browser, 'desktop');
      try {
        const state = await openHome(otherPage);
        assert.equal(state.voted, false, 'a new reader has not voted');
        assert.equal(state.results.voters, 1, 'the state request reports the one vote');
        await checkPage(otherPage, otherProblems, 'home (desktop, new reader)');
        const p = await pollBox(otherPage, 'home (desktop, new reader)');
        await expectForm(p, 'home (desktop, new reader)');
        assert.equal(
          (await other.cookies()).filter((c) => c.name === VOTER_COOKIE).length,
          0,
          'reading the page sets no voter cookie',
        );
        await p.box.scrollIntoViewIfNeeded();
        await shootElement(p.box, 'poll-form-desktop');
      } finally {
        await other.close();
      }
    }
  });

  test('without JavaScript the form posts and the results come back as a page', { timeout: 60_000 }, async () => {
    // Runs after the first test: exactly one vote so far.
    assert.equal((await contentApi()).voters, 1, 'one vote before this reader (the first test must have voted)');
    const context = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'ar', javaScriptEnabled: false });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const problems = watchPage(page);
    try {
      await openHome(page, { js: false });
      await checkPage(page, problems, 'home (no JS)');
      const p = await pollBox(page, 'home (no JS)');
      await expectForm(p, 'home (no JS)');
      const third = poll.options[2];
      await p.form.getByLabel(third.label, { exact: true }).check();

      const [res] = await Promise.all([
        page.waitForResponse((r) => pathOf(r.url()) === `/polls/${POLL}/vote` && r.request().method() === 'POST'),
        page.waitForURL((u) => u.pathname === `/polls/${POLL}/vote`, { waitUntil: 'load' }),
        p.submit.click(),
      ]);
      assert.equal(res.status(), 200, 'vote (no JS) status');
      assert.match(res.headers()['content-type'] || '', /^text\/html/, 'the vote answers a page');
      const notices = (await page.getByRole('status').allInnerTexts()).map((t) => t.trim());
      assert.ok(notices.includes(THANKS), `no «${THANKS}» notice; notices: ${JSON.stringify(notices)}`);
      const total = await expectResultsPage(page, 'vote page (no JS)');
      assert.ok(total.includes(TWO_VOTES), `vote page total should say «${TWO_VOTES}»: «${total}»`);
      await checkPage(page, problems, 'vote page (no JS)');
      await page.screenshot({ path: path.join(SHOTS, 'poll-voted-nojs-desktop.png'), fullPage: true });

      const resultsRes = await page.goto(`${server.base}/polls/${POLL}`, { waitUntil: 'load' });
      assert.equal(resultsRes.status(), 200, `/polls/${POLL} status`);
      const pageTotal = await expectResultsPage(page, `/polls/${POLL}`);
      assert.ok(pageTotal.includes(TWO_VOTES), `/polls/${POLL} total should say «${TWO_VOTES}»: «${pageTotal}»`);
      assert.equal(await page.getByRole('status').count(), 0, `/polls/${POLL}: no "thanks" notice when just looking`);
      await checkPage(page, problems, `/polls/${POLL}`);
      await page.screenshot({ path: path.join(SHOTS, 'poll-results-desktop.png'), fullPage: true });

      const archiveRes = await page.goto(`${server.base}/polls`, { waitUntil: 'load' });
      assert.equal(archiveRes.status(), 200, '/polls status');
      const entry = page.locator('article', { has: page.locator(`a[href="/polls/${POLL}"]`) });
      assert.equal(await entry.count(), 1, '/polls lists the poll');
      const archiveTotal = (await entry.locator('.poll-total').innerText()).trim();
      assert.ok(archiveTotal.includes(TWO_VOTES), `/polls total should say «${TWO_VOTES}»: «${archiveTotal}»`);
      await checkPage(page, problems, '/polls');

      const api = await contentApi();
      assert.equal(api.voters, 2, '/api/content/polls/1 counts two voters');
      const votes = Object.fromEntries(api.options.map((o) => [o.id, o.votes]));
      assert.equal(votes[poll.options[1].id], 1, 'one vote for the second answer');
      assert.equal(votes[third.id], 1, 'one vote for the third answer');
    } finally {
      await context.close();
    }
  });
});
