import { expect, test } from '@playwright/test';
import { customerRow, identifiers, open, pagerRange, rowCells, TOTAL_CUSTOMERS } from './helpers';

test.describe('custom-field filters', () => {
  test('one input per field, right of the search box, labelled with the field label', async ({ page }) => {
    await open(page, '/customers');
    const search = page.getByLabel('Search customers');
    const queue = page.getByLabel('Queue');
    const region = page.getByLabel('Region');
    const product = page.getByLabel('Product');
    await expect(queue).toBeVisible();
    await expect(queue.getByRole('option')).toHaveText(['Any', 'Billing', 'Technical', 'Sales']);
    await expect(region.getByRole('option')).toHaveText(['Any', 'EMEA', 'Americas', 'APAC']);
    await expect(product).toHaveAttribute('type', 'text');
    const searchBox = (await search.boundingBox())!;
    for (const control of [queue, region, product]) {
      expect((await control.boundingBox())!.x).toBeGreaterThan(searchBox.x);
    }
  });

  test('a select filter narrows customers and their figures to matching conversations', async ({ page }) => {
    await open(page, '/customers?page=2');
    await page.getByLabel('Queue').selectOption('Billing');
    await expect(page).toHaveURL(/f\.queue=Billing/);
    await expect(page).not.toHaveURL(/page=/);
    // Zoë's six Billing conversations (1, 3, 5, 7, 9, 11): 80, 70, 95, 75, 92, 66 average 79.7;
    // her unscored Billing one does not count.
    await expect.poll(() => rowCells(customerRow(page, 'zoe@example.com'))).toEqual([
      'zoe@example.com\nZoë Ångström', '6', '31 Dec 2025', '2 Jun 2026', '79.7',
    ]);
    await expect(pagerRange(page)).toHaveText('1–30 of 81 customers');
    await expect(customerRow(page, 'only-unscored@example.com')).toHaveCount(0);

    // The expanded history agrees with the row.
    await customerRow(page, 'zoe@example.com').click();
    const history = page.getByRole('table', { name: 'Interaction history' });
    await expect(history.getByRole('row')).toHaveCount(7);
    await expect(page.locator('.history-pager .range')).toHaveText('1–6 of 6');
    await expect(history).not.toContainText('Zoë conversation 2');
  });

  test('filters combine: every active filter must hold on the same conversation', async ({ page }) => {
    await open(page, '/customers');
    await page.getByLabel('Queue').selectOption('Technical');
    await page.getByLabel('Product').fill('WIDGET');
    // Only Zoë's conversation 2 is both Technical and Widget Pro.
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);
    expect(await rowCells(customerRow(page, 'zoe@example.com'))).toEqual([
      'zoe@example.com\nZoë Ångström', '1', '20 Jan 2026', '20 Jan 2026', '90.0',
    ]);
    await customerRow(page, 'zoe@example.com').click();
    const history = page.getByRole('table', { name: 'Interaction history' });
    await expect(history.getByRole('link', { name: 'Zoë conversation 2' })).toBeVisible();
    await expect(history.getByRole('row')).toHaveCount(2);

    // Clearing a field removes its filter.
    await page.getByLabel('Queue').selectOption('Any');
    await expect(page).not.toHaveURL(/f\.queue/);
    await expect.poll(() => identifiers(page)).toEqual(['+44 20 7946 0958', 'zoe@example.com']);
    await expect(pagerRange(page)).toHaveText('2 customers');
    await page.getByLabel('Product').fill('');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('filters and search combine, and a reload keeps them', async ({ page }) => {
    await open(page, '/customers');
    await page.getByLabel('Region').selectOption('EMEA');
    await page.getByLabel('Search customers').fill('zoë');
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);
    await page.reload();
    await expect(page.getByLabel('Region')).toHaveValue('EMEA');
    await expect(page.getByLabel('Search customers')).toHaveValue('zoë');
    expect(await identifiers(page)).toEqual(['zoe@example.com']);
  });

  test('nothing matching the filters shows an empty state', async ({ page }) => {
    await open(page, '/customers?f.region=EMEA&f.product=gizmo');
    await expect(page.getByRole('status').filter({ hasText: /\S/ })).toContainText('No customers have conversations matching these filters.');
  });
});

test.describe('CSV export', () => {
  test('downloads the current view: search, filters and sort applied, every page', async ({ page }) => {
    await open(page, '/customers?sort=score&f.queue=Billing');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^customers-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('Customer,Display name,Interactions,First Interaction,Latest Interaction,Avg Score');
    // 81 customers have a scored Billing conversation: more than the 30 on one page.
    expect(lines).toHaveLength(1 + 81);
    // Sorted by average score, highest first; Zoë's figures are over her Billing conversations.
    expect(lines).toContain('zoe@example.com,Zoë Ångström,6,31 Dec 2025,2 Jun 2026,79.7');
    const scores = lines.slice(1).map((line) => Number(line.split(',').at(-1)));
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });
});
