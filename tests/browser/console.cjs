// Drives Debian's Chromium (never a downloaded browser) through the delivery console, one
// step per run, and prints what the page showed as one JSON line; the GoogleTest that runs
// it (tests/ctl/console/console_browser_test.cpp) compares that with the database.
// usage: node console.cjs STEP BASE_URL [ARG...]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [step, base, ...rest] = process.argv.slice(2);

async function main(page) {
  switch (step) {
    case 'overview': {
      // rest: screenshot path
      await page.goto(base + '/');
      const counts = await page.$$eval('b.count', (cells) =>
        cells.map((c) => [c.dataset.feed, c.dataset.state, Number(c.textContent)]));
      const totals = await page.$$eval('.tile .total', (cells) =>
        cells.map((c) => [c.dataset.state, Number(c.textContent)]));
      await page.screenshot({ path: rest[0], fullPage: true });
      return { counts, totals, title: await page.title() };
    }
    case 'find-dead': {
      // From the overview, through the list, to the dead job of "indicators". rest: screenshot
      await page.goto(base + '/');
      await Promise.all([page.waitForURL(/\/jobs\?state=dead/), page.click('a.tile[href="/jobs?state=dead"]')]);
      const row = page.locator('#jobs tr[data-id]', { hasText: 'indicators' }).first();
      const id = await row.getAttribute('data-id');
      await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f-]+$/), row.locator('a').first().click()]);
      const attempts = await page.$$eval('tr.attempt', (rows) =>
        rows.map((r) => Array.from(r.cells).map((c) => c.innerText.trim())));
      const state = await page.textContent('#job-state');
      await page.screenshot({ path: rest[0], fullPage: true });
      return { id, state, attempts };
    }
    case 'retry': {
      // rest: job id, token or "-" for none
      const [id, token] = rest;
      await page.goto(base + '/jobs/' + id);
      if (token !== '-') {
        await page.fill('input[name="token"]', token);
        const [login] = await Promise.all([
          page.waitForNavigation(),
          page.click('button:has-text("Sign in")'),
        ]);
        if (!page.url().includes('notice=signed-in')) {
          // Refused: report it and try nothing else.
          const message = await page.$eval('#message', (e) => e.textContent).catch(() => '');
          return { signIn: login ? login.status() : 0, notice: message };
        }
      }
      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.click('button:has-text("Retry now")'),
      ]);
      const notice = await page.$eval('#notice, #message', (e) => e.textContent).catch(() => '');
      const state = await page.$eval('#job-state', (e) => e.textContent).catch(() => null);
      return { status: response ? response.status() : 0, url: page.url(), notice, state };
    }
    case 'markup': {
      // rest: job id
      await page.goto(base + '/jobs/' + rest[0]);
      return {
        xss: await page.evaluate(() => window.__xss === undefined ? null : window.__xss),
        images: await page.$$eval('main img', (e) => e.length),
        scripts: await page.$$eval('script', (e) => e.map((s) => s.getAttribute('src'))),
        body: await page.textContent('#body'),
        requestLine: await page.textContent('pre.request-line'),
        response: await page.textContent('pre.response'),
        headers: await page.$$eval('#headers th', (e) => e.map((h) => h.textContent)),
      };
    }
    default:
      throw new Error('unknown step ' + step);
  }
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
  let context;
  try {
    // A persistent context is how Playwright takes a (fresh) --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      timeout: 60000,
    });
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      // The refusals the retry step provokes (401/403 pages) are what it checks, not errors.
      const refusal = step === 'retry' && /status of 40[13] /.test(m.text());
      if (m.type() === 'error' && !refusal) errors.push(m.text());
    });
    const result = await main(page);
    result.errors = errors;
    console.log(JSON.stringify(result));
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error('browser step ' + step + ' failed: ' + (e && e.stack || e));
  process.exit(1);
});
