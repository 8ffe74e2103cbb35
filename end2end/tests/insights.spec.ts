import { expect, test, type Locator, type Page } from '@playwright/test';
import { dataset, PASSWORD } from '../fixtures/dataset.mjs';
import { serverCli, uniqueSuffix } from './cli';
import { customerRow, identifiers, markDocument, open, pagerRange, signIn, TOTAL_CUSTOMERS } from './helpers';

// The Customers page's insights: score bands, the score trend of an expanded row, links that
// open a customer's row, saved views; and the counts of the representative page.

const ZOE = 'zoe@example.com';
const HARBOUR = '+44 20 7946 0958';

/** The disclosure button in a customer row's first cell. */
function rowToggle(page: Page, identifier: string): Locator {
  return customerRow(page, identifier).locator('.row-toggle');
}

/** The open history of a customer row (`#history-<id>`, which its toggle controls). */
async function historyOf(page: Page, identifier: string): Promise<Locator> {
  const id = await rowToggle(page, identifier).getAttribute('aria-controls');
  expect(id, `the toggle of ${identifier} names what it controls`).toMatch(/^history-\d+$/);
  return page.locator(`#${id}`);
}

async function expand(page: Page, identifier: string): Promise<Locator> {
  const toggle = rowToggle(page, identifier);
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const history = await historyOf(page, identifier);
  await expect(history.getByRole('table', { name: 'Interaction history' })).toBeVisible();
  return history;
}

/** The terms and descriptions of a `dl.facts`, as a map of trimmed texts. */
async function facts(page: Page): Promise<Record<string, string>> {
  return page.locator('dl.facts').evaluate((list) => {
    const out: Record<string, string> = {};
    let term = '';
    for (const element of list.querySelectorAll('dt, dd')) {
      const text = (element.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (element.tagName === 'DT') term = text;
      else out[term] = text;
    }
    return out;
  });
}

/** Checks a link goes to the Customers page searched for one customer, with its row open. */
async function expectCustomerLink(link: Locator, identifier: string): Promise<void> {
  const href = await link.getAttribute('href');
  expect(href, `link to ${identifier}`).not.toBeNull();
  const url = new URL(href!, 'http://example.invalid');
  expect(url.pathname).toBe('/customers');
  expect(url.searchParams.get('q')).toBe(identifier);
  expect(url.searchParams.get('open')).toBe(identifier);
}

const GLYPH = { Low: '▼', Medium: '◆', High: '▲' } as const;
type BandName = keyof typeof GLYPH;

/** A score cell: the number, then the band's shape (hidden from screen readers) and its word,
 *  and for an average over fewer than 3 conversations the small-sample mark and its words. */
async function expectBand(cell: Locator, score: string, band: BandName, small = false): Promise<void> {
  const sample = small ? '\\*\\(small sample: fewer than 3 scored conversations\\)' : '';
  await expect(cell).toHaveText(new RegExp(`^\\s*${score.replace('.', '\\.')}\\s*${GLYPH[band]}\\s*${band}\\s*${sample}\\s*$`));
  const mark = cell.locator('.band');
  await expect(mark).toHaveClass(new RegExp(`\\bband-${band.toLowerCase()}\\b`));
  await expect(mark.locator('[aria-hidden="true"]')).toHaveText(GLYPH[band]);
  // The word is there for screen readers, not drawn.
  const word = mark.getByText(band, { exact: true });
  const box = await word.boundingBox();
  expect(box === null || (box.width <= 1 && box.height <= 1), `“${band}” is visually hidden`).toBe(true);
}

test.describe('score bands', () => {
  test('a legend says what each band covers, each with a shape screen readers skip', async ({ page }) => {
    await open(page, '/customers');
    const legend = page.getByRole('list', { name: 'Score bands' });
    await expect(legend).toBeVisible();
    const items = legend.getByRole('listitem');
    await expect(items).toHaveText([/^\s*▼\s*Low: below 60$/, /^\s*◆\s*Medium: 60 to 80$/, /^\s*▲\s*High: 80 and above$/]);
    for (const [index, glyph] of ['▼', '◆', '▲'].entries()) {
      await expect(items.nth(index).locator('[aria-hidden="true"]')).toHaveText(glyph);
    }
  });

  test('every average and every history score shows its band as a shape and a word', async ({ page }) => {
    await open(page, '/customers');
    // Averages: 80.0 sits on the High edge; 70.0 is Medium; 55.0 and 40.0 are Low.
    await expectBand(customerRow(page, ZOE).getByRole('cell').nth(4), '80.0', 'High');
    await expectBand(customerRow(page, 'ACC-7731').getByRole('cell').nth(4), '99.0', 'High');
    await expectBand(customerRow(page, HARBOUR).getByRole('cell').nth(4), '70.0', 'Medium');
    await expectBand(customerRow(page, 'corp\\jdoe').getByRole('cell').nth(4), '55.0', 'Low', true);
    await expectBand(customerRow(page, 'sale_50%@example.com').getByRole('cell').nth(4), '40.0', 'Low');

    // Zoë's history, newest first: 60 is on the Medium edge, 80 (her first) on the High one.
    const history = await expand(page, ZOE);
    const scores = history.getByRole('table', { name: 'Interaction history' }).locator('tbody tr td:nth-child(4)');
    const firstPage: [string, BandName][] = [
      ['81', 'High'], ['66', 'Medium'], ['78', 'Medium'], ['92', 'High'],
      ['88', 'High'], ['75', 'Medium'], ['60', 'Medium'], ['95', 'High'],
    ];
    await expect(scores).toHaveCount(firstPage.length);
    for (const [index, [score, band]] of firstPage.entries()) await expectBand(scores.nth(index), score, band);
    await history.getByRole('button', { name: 'Next page' }).click();
    await expect(history.locator('.history-pager .range')).toHaveText('9–12 of 12');
    const secondPage: [string, BandName][] = [['85', 'High'], ['70', 'Medium'], ['90', 'High'], ['80', 'High']];
    await expect(scores).toHaveCount(secondPage.length);
    for (const [index, [score, band]] of secondPage.entries()) await expectBand(scores.nth(index), score, band);
  });

  test('the bands follow the organisation’s setting', async ({ browser }) => {
    // Globex, the other tenant, so no test reading Acme's bands sees them change.
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await open(page, '/login');
    await signIn(page, 'manager@globex.example', PASSWORD);
    await expect(page).toHaveURL(/\/customers$/);
    const intruder = customerRow(page, 'intruder@globex.example');
    await expectBand(intruder.getByRole('cell').nth(4), '99.0', 'High', true);
    try {
      serverCli('org', 'set-score-bands', '--org', 'globex', '50', '99.5');
      await open(page, '/customers');
      await expect(page.getByRole('list', { name: 'Score bands' }).getByRole('listitem')).toHaveText([
        /Low: below 50$/, /Medium: 50 to 99\.5$/, /High: 99\.5 and above$/,
      ]);
      await expectBand(intruder.getByRole('cell').nth(4), '99.0', 'Medium', true);
      const history = await expand(page, 'intruder@globex.example');
      await expectBand(history.getByRole('table', { name: 'Interaction history' }).locator('tbody tr td:nth-child(4)').first(), '99', 'Medium');
      await expect(history.locator('svg line.band-edge')).toHaveCount(2);
    } finally {
      serverCli('org', 'set-score-bands', '--org', 'globex', '60', '80');
      await context.close();
    }
  });
});

test.describe('the score trend of an expanded row', () => {
  test('draws every scored conversation, the moving average and the band edges, and sums it up', async ({ page }) => {
    await open(page, '/customers');
    const history = await expand(page, ZOE);
    const figure = history.locator('figure.trend');
    await expect(figure).toBeVisible();
    const chart = figure.getByRole('img', { name: `Score trend of ${ZOE}` });
    await expect(chart).toBeVisible();
    expect(await chart.evaluate((element) => element.tagName.toLowerCase())).toBe('svg');
    // All twelve scored conversations, though the history's first page lists eight; not the unscored one.
    await expect(chart.locator('circle.trend-point')).toHaveCount(12);
    await expect(history.getByRole('table', { name: 'Interaction history' }).locator('tbody tr')).toHaveCount(8);
    await expect(chart.locator('polyline.trend-average')).toHaveCount(1);
    await expect(chart.locator('line.band-edge')).toHaveCount(2);
    // Her first scores (80, 90, 70, 85, 95) are higher than her last (88, 92, 78, 66, 81);
    // the first was on 31 Dec 2025 in New York, the last in June 2026.
    await expect(figure.locator('figcaption')).toHaveText(/^Average fell from \d+ to \d+\b.*\bJune 2026\b/);
    await expect(figure.locator('figcaption')).toContainText('December 2025');
  });

  test('one conversation, or steady scores, are said so', async ({ page }) => {
    await open(page, '/customers');
    // customer-001: one conversation, 2 Jan 2025 12:00 UTC, score 21.
    const single = await expand(page, 'customer-001@example.org');
    await expect(single.locator('circle.trend-point')).toHaveCount(1);
    await expect(single.locator('figure.trend figcaption')).toHaveText('One scored conversation: 21 on 2 January 2025.');
    // Harbour Freight: ten conversations, all 70.
    const steady = await expand(page, HARBOUR);
    await expect(steady.locator('circle.trend-point')).toHaveCount(10);
    await expect(steady.locator('figure.trend figcaption')).toHaveText(/^Average held at about 70\b/);
  });

  test('follows the filters: with a channel chosen, only that channel’s conversations are drawn', async ({ page }) => {
    await open(page, '/customers?type=voice');
    // Voice: Zoë's conversations 1, 4, 7 and 10 (80, 85, 75, 78).
    const history = await expand(page, ZOE);
    await expect(history.locator('circle.trend-point')).toHaveCount(4);
    await expect(history.locator('.history-pager .range')).toHaveText('1–4 of 4');
    await expect(history.locator('figure.trend figcaption')).toHaveText(/^Average fell\b/);
  });
});

test.describe('links to a customer', () => {
  test('?open= opens that row; &hpage= opens its history on that page', async ({ page }) => {
    await open(page, `/customers?open=${encodeURIComponent(ZOE)}`);
    await expect(rowToggle(page, ZOE)).toHaveAttribute('aria-expanded', 'true');
    await expect((await historyOf(page, ZOE)).locator('.history-pager .range')).toHaveText('1–8 of 12');
    await expect(rowToggle(page, HARBOUR)).toHaveAttribute('aria-expanded', 'false');

    await open(page, `/customers?q=${encodeURIComponent(ZOE)}&open=${encodeURIComponent(ZOE)}&hpage=2`);
    await expect(rowToggle(page, ZOE)).toHaveAttribute('aria-expanded', 'true');
    await expect((await historyOf(page, ZOE)).locator('.history-pager .range')).toHaveText('9–12 of 12');
  });

  test('expanding a row and paging its history rewrite the address in place', async ({ page }) => {
    // Harbour's average is low: a search keeps it on the first page whatever the sort.
    await open(page, '/customers?q=harbour&sort=score');
    const sameDocument = await markDocument(page);
    const entries = await page.evaluate(() => window.history.length);
    // An identifier with a plus and spaces must survive the trip through the address.
    const history = await expand(page, HARBOUR);
    await expect.poll(() => new URL(page.url()).searchParams.get('open')).toBe(HARBOUR);
    expect(new URL(page.url()).searchParams.get('sort')).toBe('score');
    expect(new URL(page.url()).searchParams.get('q')).toBe('harbour');
    await history.getByRole('button', { name: 'Next page' }).click();
    await expect(history.locator('.history-pager .range')).toHaveText('9–10 of 10');
    await expect.poll(() => new URL(page.url()).searchParams.get('hpage')).toBe('2');
    expect(await page.evaluate(() => window.history.length), 'the address is replaced, not pushed').toBe(entries);
    await sameDocument();

    // The address is a link that shows the same thing.
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    await expect(rowToggle(page, HARBOUR)).toHaveAttribute('aria-expanded', 'true');
    await expect((await historyOf(page, HARBOUR)).locator('.history-pager .range')).toHaveText('9–10 of 10');
  });

  test('a customer not on this page of results gets a notice', async ({ page }) => {
    await open(page, `/customers?open=${encodeURIComponent('customer-240@example.org')}`);
    await expect(page.getByRole('status').filter({ hasText: 'not on this page' })).toHaveText(
      'Customer “customer-240@example.org” is not on this page of results.',
    );
    await expect(page.getByRole('table', { name: 'Interaction history' })).toHaveCount(0);
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('the conversation page’s customer links back to the customer’s open row', async ({ page }) => {
    // Harbour's first conversation (the 14th loaded): its identifier has a plus and spaces.
    await open(page, '/conversations/14');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Harbour shipment 1');
    const link = page.locator('dl.facts').getByRole('link', { name: new RegExp(HARBOUR.replace(/[+]/g, '\\+')) });
    await expectCustomerLink(link, HARBOUR);
    await link.click();
    await expect(page).toHaveURL(/\/customers\?/);
    await expect(page.getByLabel('Search customers')).toHaveValue(HARBOUR);
    await expect(rowToggle(page, HARBOUR)).toHaveAttribute('aria-expanded', 'true');
    await expect((await historyOf(page, HARBOUR)).locator('.history-pager .range')).toHaveText('1–8 of 10');
  });
});

test.describe('the representative page', () => {
  test('counts every conversation, scored or not, and links each customer', async ({ page }) => {
    const ada = dataset.organisations[0].conversations.filter((c) => c.representative === 'ada@acme.example');
    const scored = ada.filter((c) => c.score !== null && c.score !== undefined);
    const hundredths = scored.reduce((sum, c) => sum + Math.round((c.score as number) * 100), 0);
    const thousands = (n: number) => n.toLocaleString('en-GB');
    expect(ada.length).toBeGreaterThan(scored.length);

    await open(page, '/conversations/1');
    const profile = await page.locator('dl.facts').getByRole('link', { name: 'Ada Lovelace' }).getAttribute('href');
    await open(page, profile!);
    const shown = await facts(page);
    expect(shown['Conversations']).toBe(thousands(ada.length));
    expect(shown['Scored conversations']).toBe(thousands(scored.length));
    expect(shown['Average score']).toBe((hundredths / scored.length / 100).toFixed(1));

    const table = page.getByRole('table', { name: 'All conversations, scored and unscored' });
    await expect(table.locator('caption')).toContainText('All conversations, scored and unscored');
    await expect(page.getByRole('navigation', { name: 'Conversation pages' })).toContainText(`1–20 of ${thousands(ada.length)}`);
    const rows = table.locator('tbody tr');
    await expect(rows).toHaveCount(20);
    for (const row of await rows.all()) {
      const cell = row.getByRole('cell').nth(2);
      const link = cell.getByRole('link');
      await expect(link, 'each Customer cell is a link').toHaveCount(1);
      const identifier = (await link.locator('.identifier').count()) > 0
        ? (await link.locator('.identifier').innerText()).trim()
        : (await link.innerText()).split('\n')[0].trim();
      await expectCustomerLink(link, identifier);
    }
  });
});

test.describe('saved views', () => {
  function panelOf(page: Page): Locator {
    return page.locator('#saved-views-panel');
  }

  async function openPanel(page: Page): Promise<Locator> {
    const button = page.getByRole('button', { name: 'Saved views' });
    await expect(button).toHaveAttribute('aria-controls', 'saved-views-panel');
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await button.click();
    await expect(button).toHaveAttribute('aria-expanded', 'true');
    const panel = panelOf(page);
    await expect(panel.getByRole('heading', { name: 'Saved views' })).toBeVisible();
    await expect(panel.getByText('Loading saved views…')).toHaveCount(0);
    return panel;
  }

  async function saveAs(panel: Locator, name: string): Promise<void> {
    await panel.getByLabel('Name this view').fill(name);
    await panel.getByRole('button', { name: 'Save view' }).click();
    await expect(panel.getByRole('status').filter({ hasText: /\S/ })).toHaveText(`Saved “${name}”.`);
  }

  test('save, open, rename, replace and delete a view', async ({ page }) => {
    const name = `Billing by score ${uniqueSuffix()}`;
    const renamed = `${name} (renamed)`;

    // The view: a sort, a custom field, a channel, a date range and a representative.
    await open(page, '/customers?sort=score&f.queue=Billing&type=voice&from=2026-01-01&to=2026-12-31&rep=ada%40acme.example');
    await expect(page.getByLabel('Queue')).toHaveValue('Billing');
    const saved = new URL(page.url()).searchParams;
    const view = await identifiers(page);
    expect(view.length).toBeGreaterThan(0);

    let panel = await openPanel(page);
    await saveAs(panel, name);
    const link = panel.getByRole('link', { name, exact: true });
    await expect(link).toBeVisible();

    // Opening it from the default view brings everything back.
    await open(page, '/customers');
    panel = await openPanel(page);
    await panel.getByRole('link', { name, exact: true }).click();
    await expect(page).toHaveURL(/sort=score/);
    const opened = new URL(page.url()).searchParams;
    for (const key of ['sort', 'f.queue', 'type', 'from', 'to', 'rep']) {
      expect(opened.get(key), key).toBe(saved.get(key));
    }
    await expect.poll(() => identifiers(page)).toEqual(view);
    await expect(page.getByLabel('Queue')).toHaveValue('Billing');
    await expect(page.getByRole('group', { name: 'Channel' }).getByLabel('Voice')).toBeChecked();
    await expect(page.getByLabel('Representative')).toHaveValue('ada@acme.example');
    await expect(page.getByLabel('From', { exact: true })).toHaveValue('2026-01-01');
    await expect(page.getByRole('columnheader', { name: 'Avg Score' })).toHaveAttribute('aria-sort', 'descending');

    // Rename: a box with the old name, then Cancel leaves it as it was.
    await open(page, '/customers?q=harbour');
    panel = await openPanel(page);
    await panel.getByRole('button', { name: `Rename ${name}`, exact: true }).click();
    const box = panel.getByLabel(`New name for ${name}`);
    await expect(box).toHaveValue(name);
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await expect(box).toHaveCount(0);
    await expect(panel.getByRole('link', { name, exact: true })).toBeVisible();
    await panel.getByRole('button', { name: `Rename ${name}`, exact: true }).click();
    await box.fill(renamed);
    await panel.getByRole('button', { name: 'Save name' }).click();
    await expect(panel.getByRole('status').filter({ hasText: /\S/ })).toHaveText(`Renamed to “${renamed}”.`);
    await expect(panel.getByRole('link', { name: renamed, exact: true })).toBeVisible();
    await expect(panel.getByRole('link', { name, exact: true })).toHaveCount(0);

    // Saving the current view (a search for harbour) under the same name replaces the view.
    await saveAs(panel, renamed);
    await expect(panel.getByRole('link', { name: renamed, exact: true })).toHaveCount(1);
    const replaced = new URL((await panel.getByRole('link', { name: renamed, exact: true }).getAttribute('href'))!, page.url());
    expect(replaced.searchParams.get('q')).toBe('harbour');
    expect(replaced.searchParams.get('f.queue')).toBeNull();

    await panel.getByRole('button', { name: `Delete ${renamed}`, exact: true }).click();
    await expect(panel.getByRole('status').filter({ hasText: /\S/ })).toHaveText(`Deleted “${renamed}”.`);
    await expect(panel.getByRole('link', { name: renamed, exact: true })).toHaveCount(0);
  });

  test('a view whose custom field was deleted opens without that filter, and says so', async ({ page }) => {
    // A field of its own, so deleting it takes nothing from the other tests.
    const suffix = uniqueSuffix();
    const key = `e2e_gone_${suffix}`;
    const label = `Gone ${suffix}`;
    const name = `Gone field ${suffix}`;
    serverCli('field', 'define', '--org', 'acme', '--key', key, '--label', label, '--kind', 'text');
    let deleted = false;
    try {
      await open(page, '/customers');
      await page.getByLabel(label).fill('anything');
      await expect(page).toHaveURL(new RegExp(`f\\.${key}=anything`));
      let panel = await openPanel(page);
      await saveAs(panel, name);

      serverCli('field', 'delete', '--org', 'acme', '--key', key);
      deleted = true;
      await open(page, '/customers');
      await expect(page.getByLabel(label)).toHaveCount(0);
      panel = await openPanel(page);
      await panel.getByRole('link', { name, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`f\\.${key}=anything`));
      await expect(page.getByRole('status').filter({ hasText: 'was dropped' })).toHaveText(
        `The filter on “${key}” was dropped: the organisation no longer has that field.`,
      );
      await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);

      panel = await openPanel(page);
      await panel.getByRole('button', { name: `Delete ${name}`, exact: true }).click();
      await expect(panel.getByRole('status').filter({ hasText: /\S/ })).toHaveText(`Deleted “${name}”.`);
    } finally {
      if (!deleted) {
        try {
          serverCli('field', 'delete', '--org', 'acme', '--key', key);
        } catch {
          // Without the delete command there is nothing more to do; the database is rebuilt each run.
        }
      }
    }
  });
});
