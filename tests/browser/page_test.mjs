// The built-in page in a real browser: headless Debian Chromium, driven by
// playwright-core (pinned in package-lock.json). scripts/browser_test.sh
// starts marketd with the simulator and runs this against it:
//   node tests/browser/page_test.mjs http://127.0.0.1:PORT/ build/browser/page.png [updates]
// Checks, within 60 s: no console error, page error or failed request; the
// simulator's 8 symbols listed; candles drawn on the chart; recent trades;
// the depth ladder's checksum verified ok for `updates` book updates (20)
// with no mismatch — on the first symbol, then again after choosing BTC-USD,
// the 1s interval and depth 20. Then a screenshot. Exit 0 when all hold.
import { chromium } from 'playwright-core';

const [url, screenshot, updatesArg] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error('usage: page_test.mjs URL SCREENSHOT.png [UPDATES]');
  process.exit(2);
}
const wantedUpdates = Number(updatesArg ?? 20);
const SIMULATOR_SYMBOLS = ['AAPL', 'BTC-USD', 'ES.Z26', 'ETH-USD', 'EUR-USD', 'MSFT', 'SOL-USD', 'XAU-USD'];
const deadline = Date.now() + 60_000;
const left = () => Math.max(1, deadline - Date.now());

const problems = [];
let browser;
const watchdog = setTimeout(() => finish('timed out after 60 s'), left());

async function finish(failure) {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
  if (failure) {
    console.error(`page_test: ${failure}`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log('page_test: ok');
  process.exit(0);
}

/** Waits until `fn` (run in the page) is truthy; says `what` when it is not by the deadline. */
async function until(page, what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: left(), polling: 100 });
  } catch (e) {
    const state = await page.evaluate(() => {
      const p = window.marketdPage;
      return p
        ? {
            symbol: p.symbol(),
            symbols: p.symbols(),
            candles: p.candleCount(),
            checksum: p.checksum(),
            verified: p.verifiedUpdates(),
            mismatches: p.mismatches(),
            trades: p.tradeCount(),
            notice: document.getElementById('notice').textContent,
            connection: document.getElementById('connection').textContent,
          }
        : 'window.marketdPage is missing';
    }).catch((err) => `(the page did not answer: ${err.message})`);
    throw new Error(`${what}: not so before the deadline; the page says ${JSON.stringify(state)}`);
  }
}

/** The checks that hold for whichever symbol is chosen. */
async function checkChosen(page, symbol) {
  await until(page, `${symbol} chosen`, (s) => window.marketdPage.symbol() === s, symbol);
  await until(page, `${symbol}: candles drawn`, () => window.marketdPage.candleCount() > 0);
  await until(page, `${symbol}: recent trades`, () => document.querySelectorAll('#trades tr').length > 0);
  await until(
    page,
    `${symbol}: checksum ok for ${wantedUpdates} book updates`,
    (n) => {
      const el = document.getElementById('checksum');
      return el.dataset.checksum === 'ok' && Number(el.dataset.verified) >= n;
    },
    wantedUpdates,
  );
  const mismatches = await page.evaluate(() => window.marketdPage.mismatches());
  if (mismatches !== 0) throw new Error(`${symbol}: ${mismatches} checksum mismatches`);
}

try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    timeout: left(),
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });

  const res = await page.goto(url, { waitUntil: 'load', timeout: left() });
  if (!res || res.status() !== 200) throw new Error(`GET ${url}: ${res ? res.status() : 'no answer'}`);

  await until(page, 'the 8 simulator symbols listed', (want) => {
    const shown = [...document.querySelectorAll('#symbols button[data-symbol]')].map((b) => b.dataset.symbol);
    return JSON.stringify(shown.sort()) === JSON.stringify(want);
  }, SIMULATOR_SYMBOLS);
  await checkChosen(page, 'AAPL'); // the first, by default

  // Another symbol, the 1s candles and a depth of 20, as a person would choose them.
  await page.click('#symbols button[data-symbol="BTC-USD"]');
  await page.click('#intervals button[data-interval="1s"]');
  await page.click('#depths button[data-depth="20"]');
  await checkChosen(page, 'BTC-USD');
  if (new URL(page.url()).searchParams.get('symbol') !== 'BTC-USD') {
    throw new Error(`the address does not name the chosen symbol: ${page.url()}`);
  }
  // A few seconds of 1s candles make a picture worth looking at.
  await page.waitForFunction(() => window.marketdPage.candleCount() >= 8, undefined, {
    timeout: Math.min(left(), 15_000),
    polling: 200,
  }).catch(() => {});
  await page.screenshot({ path: screenshot });

  if (problems.length) await finish(`${problems.length} problems in the page`);
  await finish();
} catch (e) {
  await finish(e.message);
}
