import { expect, test } from '@playwright/test';
import { dataset } from '../fixtures/dataset.mjs';
import { expectNoAxeViolations } from './axe';
import { customerRow, open } from './helpers';

// The criteria breakdown of an opened row (issue 27, item 2): Zoë is weak on resolution
// (see the dataset), so it comes first; her figures and the organisation's are recomputed
// here from the dataset.
const acme = dataset.organisations[0];
const ZOE = 'zoe@example.com';
const scored = acme.conversations.filter((c) => c.score !== null && c.score !== undefined);

type Sums = { count: number; sum: number };
function sums(conversations: typeof scored, key: string): Sums {
  const values = conversations
    .map((c) => (c.criteria as Record<string, number | null> | undefined)?.[key])
    .filter((v): v is number => v !== null && v !== undefined);
  return { count: values.length, sum: values.reduce((a, b) => a + b, 0) };
}

/** Each criterion's label and Zoë's count, weakest against the organisation first. */
function expectedRows(): { label: string; key: string; count: number; mine: number | null; all: number | null }[] {
  const zoe = scored.filter((c) => c.customer === ZOE);
  const rows = acme.criteria.map((criterion: { key: string; label: string }) => {
    const mine = sums(zoe, criterion.key);
    const all = sums(scored, criterion.key);
    return {
      label: criterion.label,
      key: criterion.key,
      count: mine.count,
      mine: mine.count ? mine.sum / mine.count : null,
      all: all.count ? all.sum / all.count : null,
    };
  });
  const difference = (row: (typeof rows)[number]) => (row.mine === null || row.all === null ? null : row.mine - row.all);
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const [x, y] = [difference(a.row), difference(b.row)];
      if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0) || a.index - b.index;
      return x - y || a.index - b.index;
    })
    .map(({ row }) => row);
}

test.describe('the criteria breakdown', () => {
  test('an opened row lists each criterion weakest first, beside the organisation', async ({ page }) => {
    const rows = expectedRows();
    expect(rows[0].key).toBe('resolution');
    await open(page, '/customers');
    await customerRow(page, ZOE).click();
    const table = page.getByRole('table', { name: 'Criteria, weakest against the organisation first' });
    await expect(table).toBeVisible();
    await expect(table.getByRole('columnheader')).toHaveText(['Criterion', 'This customer', 'Conversations scored', 'Organisation']);
    await expect(table.getByRole('rowheader')).toHaveText(rows.map((row) => new RegExp(`^${row.label}`)));
    const bodyRows = table.locator('tbody tr');
    for (const [index, row] of rows.entries()) {
      const cells = bodyRows.nth(index).getByRole('cell');
      await expect(cells.nth(1)).toHaveText(String(row.count));
      // Averages to one decimal, with a band mark (its word for screen readers).
      for (const [cell, exact] of [[0, row.mine], [2, row.all]] as const) {
        const text = (await cells.nth(cell).innerText()).trim();
        if (exact === null) {
          expect(text).toBe('No score');
        } else {
          expect(Math.abs(parseFloat(text) - exact)).toBeLessThanOrEqual(0.05);
          expect(text).toMatch(/(Low|Medium|High)$/);
        }
      }
    }
    await expectNoAxeViolations(page, 'an opened row with its criteria');
  });

  test('a criterion links to the history lowest first on it, and back to newest first', async ({ page }) => {
    await open(page, '/customers');
    await customerRow(page, ZOE).click();
    const table = page.getByRole('table', { name: 'Criteria, weakest against the organisation first' });
    await table.getByRole('link', { name: /^Resolution/ }).click();
    await expect(page).toHaveURL(/open=zoe%40example\.com&hsort=resolution|hsort=resolution/);
    const history = page.getByRole('table', { name: 'Interaction history, lowest Resolution first' });
    await expect(history).toBeVisible();
    await expect(history.getByRole('columnheader')).toHaveText(['Conversation', 'Date', 'Representative', 'Resolution', 'Score']);
    const shown = await history.locator('tbody tr').evaluateAll((rows) =>
      rows.map((row) => parseFloat((row as HTMLTableRowElement).cells[3].textContent ?? '')),
    );
    expect(shown.length).toBeGreaterThan(1);
    expect([...shown].sort((a, b) => a - b)).toEqual(shown);
    await expectNoAxeViolations(page, 'a history sorted by a criterion');

    await page.getByRole('link', { name: 'Show newest first' }).click();
    await expect(page.getByRole('table', { name: 'Interaction history' })).toBeVisible();
    await expect(page.getByRole('table', { name: /lowest Resolution first/ })).toHaveCount(0);
  });

  test('an address with the sort opens the row sorted (the link works as a plain page load)', async ({ page }) => {
    await open(page, `/customers?q=zoe&open=${encodeURIComponent(ZOE)}&hsort=resolution`);
    await expect(page.getByRole('table', { name: 'Interaction history, lowest Resolution first' })).toBeVisible();
  });

  test('a representative page has the breakdown over their conversations', async ({ page }) => {
    await open(page, '/conversations/1');
    const profile = await page.locator('dl.facts').getByRole('link', { name: 'Ada Lovelace' }).getAttribute('href');
    await open(page, profile!);
    const table = page.getByRole('table', { name: 'Criteria, weakest against the organisation first' });
    await expect(table.getByRole('columnheader')).toHaveText(['Criterion', 'This representative', 'Conversations scored', 'Organisation']);
    await expect(table.getByRole('rowheader')).toHaveCount(acme.criteria.length);
    await expectNoAxeViolations(page, 'a representative page with criteria');
  });
});
