// The first seconds of the Customers page as a person waits for them: cold loads in Chromium
// under Lighthouse's "Slow 4G" (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip) and a 4×
// CPU slowdown, each in a fresh browser context with the cache disabled. For each load it
// prints when the table's rows were visible, when the client had hydrated the page
// (`data-hydrated` on <html>), both from the start of the navigation, and the bytes that
// travelled until then. `tools bench` runs it against a release server on the demo data and
// writes the medians to docs/BENCHMARKS.md.
//
//   node bench/first-seconds.mjs --url http://127.0.0.1:3000/customers --cookie NAME=VALUE [--runs 5]
//
// Output: one JSON object on stdout, {"runs": [{"table_ms", "interactive_ms", "bytes"}, ...]}.

import { chromium } from '@playwright/test';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return process.argv[at + 1];
}

const url = new URL(option('url'));
const [cookieName, ...cookieValue] = option('cookie').split('=');
const runs = Number(option('runs', '5'));
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');

const SLOW_4G = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1024 * 1024) / 8,
  uploadThroughput: (750 * 1024) / 8,
};
const CPU_SLOWDOWN = 4;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--no-first-run'],
});

async function coldLoad() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await context.addCookies([{ name: cookieName, value: cookieValue.join('='), url: url.origin }]);
  const page = await context.newPage();
  // Marks the two moments from inside the page, on the navigation's own clock.
  await page.addInitScript(() => {
    const mark = () => {
      if (window.__tableAt === undefined && document.querySelector('.results table tbody tr')) {
        window.__tableAt = performance.now();
      }
      if (window.__interactiveAt === undefined && document.documentElement.dataset.hydrated === 'true') {
        window.__interactiveAt = performance.now();
      }
    };
    new MutationObserver(mark).observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-hydrated'],
    });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event) => (bytes += event.encodedDataLength));
  await page.goto(url.href);
  await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 60_000, polling: 50 });
  const { table, interactive } = await page.evaluate(() => ({
    table: window.__tableAt,
    interactive: window.__interactiveAt,
  }));
  if (table === undefined) throw new Error(`no customer rows on ${url.href}: is the cookie a reviewer's?`);
  await context.close();
  return { table_ms: Math.round(table), interactive_ms: Math.round(interactive), bytes };
}

try {
  const results = [];
  for (let run = 0; run < runs; run += 1) results.push(await coldLoad());
  console.log(JSON.stringify({ runs: results }));
} finally {
  await browser.close();
}
