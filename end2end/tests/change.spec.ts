import { expect, test, type Locator } from '@playwright/test';
import { expectNoAxeViolations } from './axe';
import { customerRow, customersTable, identifiers, open } from './helpers';

// The Change column (issue 27, items 3 and 4) over the fixed dataset (fixtures/dataset.mjs),
// in Acme's zone, New York.
//
// February 2026 against the 28 days before it (4–31 January):
// - Zoë: 70 and 85 (77.5, two conversations) against 90 on 20 January (one): −12.5, a small
//   sample on both sides, so the change is uncertain;
// - ACC-7731: six conversations 1–6 February (99.0), none before: New.
const FEBRUARY = '/customers?from=2026-02-01&to=2026-02-28';
// 6–10 May 2025 against 1–5 May: Harbour's 70s both sides (five each), no change, certain;
// customer-125 to customer-129 (one conversation each) are new.
const MAY = '/customers?from=2025-05-06&to=2025-05-10';

function changeCell(row: Locator): Locator {
  return row.locator('td.change-col');
}

test.describe('the Change column', () => {
  test('appears with a period, shows sign, arrow and words, and marks small samples', async ({ page }) => {
    await open(page, '/customers');
    await expect(customersTable(page).getByRole('columnheader', { name: 'Change' })).toHaveCount(0);

    await open(page, FEBRUARY);
    const headers = customersTable(page).getByRole('columnheader');
    await expect(headers).toHaveCount(6);
    await expect(headers.nth(5)).toHaveAccessibleName('Change');
    await expect(page.getByRole('list', { name: 'Marks' })).toContainText('Change: against 4 Jan 2026 – 31 Jan 2026');

    const zoe = customerRow(page, 'zoe@example.com');
    const zoeChange = changeCell(zoe);
    await expect(zoeChange.locator('.change')).toHaveText('▼−12.5');
    await expect(zoeChange.locator('.change')).toHaveClass(/\bdown\b/);
    await expect(zoeChange.locator('.change')).toHaveAttribute('aria-hidden', 'true');
    await expect(zoeChange).toContainText('down 12.5 from 90.0');
    await expect(zoeChange.locator('.uncertain-change')).toContainText('uncertain');
    // The average is over two conversations: a small sample, with a mark and words.
    const zoeScore = zoe.getByRole('cell').nth(4);
    await expect(zoeScore.locator('.sample-mark')).toHaveText('*');
    await expect(zoeScore.locator('.small-sample')).toContainText('small sample');

    const account = customerRow(page, 'ACC-7731');
    await expect(changeCell(account)).toHaveText(/^\s*New: no scored conversation in the previous period\s*$/);
    await expect(account.getByRole('cell').nth(4).locator('.small-sample')).toHaveCount(0);
    await expect(changeCell(account).locator('.uncertain-change')).toHaveCount(0);

    const marks = page.getByRole('list', { name: 'Marks' }).getByRole('listitem');
    await expect(marks).toHaveText([
      /Small sample: an average over fewer than 3 scored conversations$/,
      /Change: against 4 Jan 2026 – 31 Jan 2026, with the same filters$/,
      /Uncertain change: either period has fewer than 3 scored conversations$/,
    ]);
    await expectNoAxeViolations(page, 'Customers with the Change column');
  });

  test('sorts by change: certain first, uncertain, then new; the sort is in the URL', async ({ page }) => {
    await open(page, FEBRUARY);
    expect(await identifiers(page)).toEqual(['ACC-7731', 'zoe@example.com']);
    const header = customersTable(page).getByRole('columnheader', { name: 'Change' });
    await header.getByRole('link').click();
    await expect(page).toHaveURL(/sort=change/);
    await expect(header).toHaveAttribute('aria-sort', 'descending');
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com', 'ACC-7731']);
    // The other direction keeps the new customers last.
    await header.getByRole('link').click();
    await expect(page).toHaveURL(/sort=change&dir=asc/);
    await expect(header).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com', 'ACC-7731']);

    // A certain change (no change at all) sorts before the new customers, which follow by
    // identifier; the sort survives a reload from its URL.
    await open(page, `${MAY}&sort=change`);
    expect(await identifiers(page)).toEqual([
      '+44 20 7946 0958',
      'customer-125@example.org',
      'customer-126@example.org',
      'customer-127@example.org',
      'customer-128@example.org',
      'customer-129@example.org',
    ]);
    const harbour = changeCell(customerRow(page, '+44 20 7946 0958'));
    await expect(harbour.locator('.change')).toHaveText('▶±0.0');
    await expect(harbour).toContainText('no change from 70.0');
    await expect(harbour.locator('.uncertain-change')).toHaveCount(0);
    await expectNoAxeViolations(page, 'Customers sorted by change');

    // All time has no Change column, and leaves the change sort.
    await page.getByLabel('Period').selectOption('All time');
    await expect(page).not.toHaveURL(/sort=change/);
    await expect(customersTable(page).getByRole('columnheader')).toHaveCount(5);
  });
});
