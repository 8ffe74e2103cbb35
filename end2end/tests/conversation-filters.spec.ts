import { expect, test } from '@playwright/test';
import { customerRow, open, pagerRange, rowCells, TOTAL_CUSTOMERS } from './helpers';

// Zoë's twelve scored conversations (fixtures/dataset.mjs): conversation i (from 0) is by
// representative i mod 3 (Ada, Grace, Alan) on channel i mod 3 (voice, chat, email).
const ZOE = 'zoe@example.com';
const ZOE_NAME = 'zoe@example.com\nZoë Ångström';

test.describe('date, channel and representative filters', () => {
  test('a channel narrows the figures and the history to its conversations', async ({ page }) => {
    await open(page, '/customers');
    const channels = page.getByRole('group', { name: 'Channel' });
    await channels.getByLabel('Voice').check();
    await expect(page).toHaveURL(/type=voice/);
    // Voice: conversations 1, 4, 7, 10 — 80, 85, 75, 78.
    await expect.poll(() => rowCells(customerRow(page, ZOE))).toEqual([ZOE_NAME, '4', '31 Dec 2025', '19 May 2026', '79.5']);
    await customerRow(page, ZOE).click();
    const history = page.getByRole('table', { name: 'Interaction history' });
    await expect(history.getByRole('row')).toHaveCount(5);
    await expect(page.locator('.history-pager .range')).toHaveText('1–4 of 4');

    // A second channel widens the view again.
    await channels.getByLabel('Chat').check();
    await expect(page).toHaveURL(/type=voice%2Cchat/);
    await expect.poll(() => rowCells(customerRow(page, ZOE)).then((cells) => cells[1])).toBe('8');
    await channels.getByLabel('Voice').uncheck();
    await channels.getByLabel('Chat').uncheck();
    await expect(page).not.toHaveURL(/type=/);
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('a representative is chosen by typing, and the choice survives a reload', async ({ page }) => {
    await open(page, '/customers');
    const rep = page.getByLabel('Representative');
    // The type-ahead offers the organisation's representatives.
    await expect(page.locator('#filter-rep-options option[value="grace@acme.example"]')).toHaveCount(1);
    await rep.fill('ada@acme.example');
    await rep.press('Enter');
    await expect(page).toHaveURL(/rep=ada%40acme\.example/);
    await expect.poll(() => rowCells(customerRow(page, ZOE))).toEqual([ZOE_NAME, '4', '31 Dec 2025', '19 May 2026', '79.5']);
    await page.reload();
    await expect(page.getByLabel('Representative')).toHaveValue('ada@acme.example');
    expect(await rowCells(customerRow(page, ZOE))).toEqual([ZOE_NAME, '4', '31 Dec 2025', '19 May 2026', '79.5']);
    await page.getByLabel('Representative').fill('');
    await page.getByLabel('Representative').press('Enter');
    await expect(page).not.toHaveURL(/rep=/);
  });

  test('a custom date range counts whole days, both ends included', async ({ page }) => {
    await open(page, '/customers');
    await page.getByLabel('Period').selectOption('Custom range');
    await page.getByLabel('From', { exact: true }).fill('2026-02-03');
    await page.getByLabel('To', { exact: true }).fill('2026-03-17');
    await expect(page).toHaveURL(/from=2026-02-03&to=2026-03-17/);
    // 3 Feb, 17 Feb, 3 Mar and 17 Mar: 70, 85, 95, 60; against 85 over the 43 days before
    // (31 Dec and 20 Jan): −7.5, the Change column a range brings.
    await expect.poll(() => rowCells(customerRow(page, ZOE))).toEqual([ZOE_NAME, '4', '3 Feb 2026', '17 Mar 2026', '77.5', '▼−7.5']);
    await customerRow(page, ZOE).click();
    await expect(page.locator('.history-pager .range')).toHaveText('1–4 of 4');
    // An end before the start is not applied, and says why.
    await page.getByLabel('From', { exact: true }).fill('2026-04-01');
    await expect(page.getByRole('alert')).toContainText('before it starts');
    await expect(page).toHaveURL(/from=2026-02-03&to=2026-03-17/);
  });

  test('a preset period with no conversations shows the empty state; All time brings everyone back', async ({ page }) => {
    await open(page, '/customers');
    // The fixed dataset ends in October 2026, so the last 7 days hold nothing.
    await page.getByLabel('Period').selectOption('Last 7 days');
    await expect(page).toHaveURL(/period=7d/);
    await expect(page.getByRole('status').filter({ hasText: 'No customers' })).toContainText(
      'No customers have conversations matching these filters.',
    );
    await page.getByLabel('Period').selectOption('All time');
    await expect(page).not.toHaveURL(/period=/);
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('a link with a bad date range falls back to All time and says so', async ({ page }) => {
    await open(page, '/customers?from=2026-05-01&to=2026-04-01');
    await expect(page.locator('.notice')).toContainText('Showing All time.');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await open(page, '/customers?from=2026-02-30');
    await expect(page.locator('.notice')).toContainText('not a real YYYY-MM-DD day');
  });

  test('the CSV export follows the channel and representative filters', async ({ page }) => {
    await open(page, '/customers?type=voice&rep=ada%40acme.example');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const text = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
    expect(text).toContain('zoe@example.com,Zoë Ångström,4,31 Dec 2025,19 May 2026,79.5');
  });
});
