import { expect, test } from '@playwright/test';
import { customersTable, identifiers, markDocument, open, pagerRange, TOTAL_CUSTOMERS } from './helpers';

test.describe('search as you type', () => {
  test('matches identifier or display name, case-insensitively, Unicode too, and updates in place', async ({ page }) => {
    await open(page, '/customers');
    const sameDocument = await markDocument(page);
    const search = page.getByLabel('Search customers');

    await search.pressSequentially('ZOË', { delay: 40 });
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);
    await expect(page).toHaveURL(/q=ZO%C3%8B/);

    await search.fill('harbour');
    await expect.poll(() => identifiers(page)).toEqual(['+44 20 7946 0958']);

    await search.fill('7946 09');
    await expect.poll(() => identifiers(page)).toEqual(['+44 20 7946 0958']);
    await expect(pagerRange(page)).toHaveText('1 customer');

    await search.fill('');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await expect(page).not.toHaveURL(/q=/);
    await sameDocument();
  });

  test('%, _ and \\ are plain characters, not wildcards', async ({ page }) => {
    await open(page, '/customers');
    const search = page.getByLabel('Search customers');
    await search.fill('sale_50%');
    await expect.poll(() => identifiers(page)).toEqual(['sale_50%@example.com']);
    await search.fill('\\');
    await expect.poll(() => identifiers(page)).toEqual(['corp\\jdoe']);
    await search.fill('%');
    await expect.poll(() => identifiers(page)).toEqual(['sale_50%@example.com']);
  });

  test('no match shows an empty state that says what was searched', async ({ page }) => {
    await open(page, '/customers');
    await page.getByLabel('Search customers').fill('no such customer');
    const empty = page.getByRole('status').filter({ hasText: /\S/ });
    await expect(empty).toContainText('No customers match “no such customer”.');
    await expect(customersTable(page)).toHaveCount(0);
    await empty.getByRole('link', { name: 'Show all customers' }).click();
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await expect(page.getByLabel('Search customers')).toHaveValue('');
  });

  test('a search returns to page 1', async ({ page }) => {
    await open(page, '/customers?page=4');
    await expect(pagerRange(page)).toHaveText(`91–120 of ${TOTAL_CUSTOMERS} customers`);
    await page.getByLabel('Search customers').fill('customer-1');
    await expect(pagerRange(page)).toHaveText('1–30 of 100 customers');
    await expect(page).not.toHaveURL(/page=/);
  });

  test('an answer for an older text never replaces the answer for a newer one', async ({ page }) => {
    await open(page, '/customers');
    // Hold back the answer for "sale" until after the answer for "sale_" has arrived.
    let heldBack = 0;
    await page.route('**/api/customers', async (route) => {
      const body = route.request().postDataJSON() as { query?: { search?: string } };
      if (body?.query?.search === 'sale') {
        heldBack += 1;
        await new Promise((resolve) => setTimeout(resolve, 2500));
      }
      await route.continue();
    });
    const search = page.getByLabel('Search customers');
    await search.fill('sale');
    await expect.poll(() => heldBack).toBe(1);
    await search.fill('sale_');
    await expect.poll(() => identifiers(page)).toEqual(['sale_50%@example.com']);
    // The older answer ("sale" finds two customers) lands now, and must be ignored.
    await page.waitForTimeout(3000);
    expect(await identifiers(page)).toEqual(['sale_50%@example.com']);
    await expect(search).toHaveValue('sale_');
  });
});
