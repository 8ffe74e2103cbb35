import { expect, test } from '@playwright/test';
import { customerRow, customersTable, identifiers, open, pagerRange, rowCells, TOTAL_CUSTOMERS } from './helpers';

test.describe('the Customers table', () => {
  test('the main navigation leads to the Customers page', async ({ page }) => {
    await open(page, '/');
    await expect(page).toHaveURL(/\/customers$/);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').first()).toHaveText('Custs.');
    await expect(page.getByRole('banner')).toContainText('Playbook');
    await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  });

  test('has exactly the five headers, and only the four numeric ones sort', async ({ page }) => {
    await open(page, '/customers');
    const headers = customersTable(page).getByRole('columnheader');
    await expect(headers).toHaveCount(5);
    const names = ['Customer', 'Interactions', 'First Interaction', 'Latest Interaction', 'Avg Score'];
    for (const [index, name] of names.entries()) {
      await expect(headers.nth(index)).toHaveAccessibleName(name);
    }
    await expect(headers.nth(0).getByRole('link')).toHaveCount(0);
    await expect(headers.nth(0).locator('.sort-indicator')).toHaveCount(0);
    for (const index of [1, 2, 3, 4]) {
      await expect(headers.nth(index).locator('.sort-indicator')).toBeVisible();
    }
  });

  test('rows show the identifier, the display name, counts, dates in the organisation time zone and a one-decimal average', async ({ page }) => {
    await open(page, '/customers');
    // Only scored conversations count: Zoë has 12 scored and 1 unscored.
    // Her first is 1 Jan 2026 03:00 UTC, which is still 31 Dec 2025 in New York.
    const zoe = customerRow(page, 'zoe@example.com');
    await expect(zoe.locator('.display-name')).toHaveText('Zoë Ångström');
    expect(await rowCells(zoe)).toEqual(['zoe@example.com\nZoë Ångström', '12', '31 Dec 2025', '15 Jun 2026', '80.0']);
    // No display name: the identifier alone.
    const account = customerRow(page, 'ACC-7731');
    await expect(account.locator('.display-name')).toHaveCount(0);
    expect(await rowCells(account)).toEqual(['ACC-7731', '6', '1 Feb 2026', '6 Feb 2026', '99.0']);
  });

  test('defaults to Interactions, highest first, with ties by identifier, 30 a page', async ({ page }) => {
    await open(page, '/customers');
    const interactions = page.getByRole('columnheader', { name: 'Interactions' });
    await expect(interactions).toHaveAttribute('aria-sort', 'descending');
    const rows = await identifiers(page);
    expect(rows).toHaveLength(30);
    expect(rows.slice(0, 8)).toEqual([
      'zoe@example.com',
      '+44 20 7946 0958',
      'ACC-7731',
      'sale_50%@example.com',
      'corp\\jdoe',
      'sale-50x@example.com',
      'customer-001@example.org',
      'customer-002@example.org',
    ]);
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('customers with only unscored conversations, and other organisations, never appear', async ({ page }) => {
    await open(page, '/customers?q=unscored');
    await expect(page.getByRole('status').filter({ hasText: /\S/ })).toContainText('No customers match “unscored”');
    await open(page, '/customers?q=intruder');
    await expect(page.getByRole('status').filter({ hasText: /\S/ })).toContainText('No customers match “intruder”');
  });
});

test.describe('sorting', () => {
  test('a new header sorts descending, the sorted one flips, one column at a time', async ({ page }) => {
    await open(page, '/customers');
    const score = page.getByRole('columnheader', { name: 'Avg Score' });
    const interactions = page.getByRole('columnheader', { name: 'Interactions' });

    await score.getByRole('link').click();
    await expect(page).toHaveURL(/sort=score/);
    await expect(score).toHaveAttribute('aria-sort', 'descending');
    await expect(interactions).not.toHaveAttribute('aria-sort');
    // Ties at 80.0 are broken by identifier, byte order.
    await expect.poll(() => identifiers(page).then((ids) => ids.slice(0, 5))).toEqual([
      'ACC-7731',
      'customer-060@example.org',
      'customer-121@example.org',
      'customer-182@example.org',
      'zoe@example.com',
    ]);

    await score.getByRole('link').click();
    await expect(page).toHaveURL(/sort=score&dir=asc|dir=asc.*sort=score/);
    await expect(score).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(() => identifiers(page).then((ids) => ids.slice(0, 4))).toEqual([
      'customer-061@example.org',
      'customer-122@example.org',
      'customer-183@example.org',
      'customer-001@example.org',
    ]);
    await expect(customerRow(page, 'customer-061@example.org').getByRole('cell').nth(4)).toHaveText('20.0▼Low*(small sample: fewer than 3 scored conversations)');

    const latest = page.getByRole('columnheader', { name: 'Latest Interaction' });
    await latest.getByRole('link').click();
    await expect(latest).toHaveAttribute('aria-sort', 'descending');
    await expect(score).not.toHaveAttribute('aria-sort');
    await expect.poll(() => identifiers(page).then((ids) => ids.slice(0, 4))).toEqual([
      'corp\\jdoe',
      'sale_50%@example.com',
      'sale-50x@example.com',
      'zoe@example.com',
    ]);

    const first = page.getByRole('columnheader', { name: 'First Interaction' });
    await first.getByRole('link').click();
    await first.getByRole('link').click();
    await expect(first).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(() => identifiers(page).then((ids) => ids[0])).toBe('customer-001@example.org');
  });

  test('a sort change returns to page 1', async ({ page }) => {
    await open(page, '/customers?page=3');
    await expect(pagerRange(page)).toHaveText(`61–90 of ${TOTAL_CUSTOMERS} customers`);
    await page.getByRole('columnheader', { name: 'Latest Interaction' }).getByRole('link').click();
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await expect(page).not.toHaveURL(/page=/);
  });
});
