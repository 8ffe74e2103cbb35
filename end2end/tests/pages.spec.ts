import { expect, test } from '@playwright/test';
import { customersTable, identifiers, MANAGER_STATE, markDocument, open, pagerRange, TOTAL_CUSTOMERS } from './helpers';

test.describe('pagination', () => {
  test('first, previous, next, last and page numbers with ellipses around the current one', async ({ page }) => {
    await open(page, '/customers');
    const sameDocument = await markDocument(page);
    const pager = page.getByRole('navigation', { name: 'Customer pages' });
    await expect(pager.getByLabel('First page')).toHaveAttribute('aria-disabled', 'true');
    await expect(pager.getByLabel('Previous page')).toHaveAttribute('aria-disabled', 'true');

    await pager.getByRole('link', { name: 'Next page' }).click();
    await expect(pagerRange(page)).toHaveText(`31–60 of ${TOTAL_CUSTOMERS} customers`);
    await expect(page).toHaveURL(/page=2/);
    expect((await identifiers(page))[0]).toBe('customer-025@example.org');

    await pager.getByRole('link', { name: 'Page 4' }).click();
    await expect(pager.locator('[aria-current="page"]')).toHaveText('4');
    await pager.getByRole('link', { name: 'Page 5' }).click();
    await expect(pager.locator('[aria-current="page"]')).toHaveText('5');
    await expect(pagerRange(page)).toHaveText(`121–150 of ${TOTAL_CUSTOMERS} customers`);
    // The ends, two pages either side of the current one, and ellipses for the gaps.
    await expect(pager.locator('.pager-links > .page-number, .pager-links > .ellipsis')).toHaveText([
      '1', '…', '3', '4', '5', '6', '7', '…', '9',
    ]);

    await pager.getByRole('link', { name: 'Last page' }).click();
    await expect(pagerRange(page)).toHaveText(`241–246 of ${TOTAL_CUSTOMERS} customers`);
    await expect(pager.getByLabel('Next page')).toHaveAttribute('aria-disabled', 'true');
    await expect(pager.getByLabel('Last page')).toHaveAttribute('aria-disabled', 'true');

    await pager.getByRole('link', { name: 'Previous page' }).click();
    await expect(pagerRange(page)).toHaveText(`211–240 of ${TOTAL_CUSTOMERS} customers`);
    await pager.getByRole('link', { name: 'First page' }).click();
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await sameDocument();
  });

  test('a box jumps to a page number', async ({ page }) => {
    await open(page, '/customers');
    await page.getByLabel('Go to page').fill('7');
    await page.getByRole('button', { name: 'Go' }).click();
    await expect(page).toHaveURL(/page=7/);
    await expect(pagerRange(page)).toHaveText(`181–210 of ${TOTAL_CUSTOMERS} customers`);
    // A number past the end is refused by the box itself, saying why, and the view stays.
    const box = page.getByLabel('Go to page');
    await box.fill('99');
    await box.press('Enter');
    expect(await box.evaluate((input: HTMLInputElement) => input.validationMessage)).toMatch(/9/);
    await expect(pagerRange(page)).toHaveText(`181–210 of ${TOTAL_CUSTOMERS} customers`);
    await box.fill('9');
    await box.press('Enter');
    await expect(pagerRange(page)).toHaveText(`241–246 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('no pager controls when everything fits on one page', async ({ page }) => {
    await open(page, '/customers?q=sale');
    await expect(pagerRange(page)).toHaveText('2 customers');
    await expect(page.getByRole('navigation', { name: 'Customer pages' })).toHaveCount(0);
  });
});

test.describe('the view lives in the URL', () => {
  test('reload, a shared link, back and forward give the same view', async ({ page, context }) => {
    await open(page, '/customers');
    await page.getByRole('columnheader', { name: 'Avg Score' }).getByRole('link').click();
    await expect(page).toHaveURL(/sort=score/);
    await page.getByLabel('Queue').selectOption('Billing');
    await expect(page).toHaveURL(/f\.queue=Billing/);
    await page.getByRole('navigation', { name: 'Customer pages' }).getByRole('link', { name: 'Next page' }).click();
    await expect(pagerRange(page)).toHaveText('31–60 of 81 customers');
    const view = await identifiers(page);
    const url = page.url();

    await page.reload();
    await expect(pagerRange(page)).toHaveText('31–60 of 81 customers');
    expect(await identifiers(page)).toEqual(view);

    const shared = await context.newPage();
    await open(shared, url);
    expect(await identifiers(shared)).toEqual(view);
    await expect(shared.getByRole('columnheader', { name: 'Avg Score' })).toHaveAttribute('aria-sort', 'descending');
    await expect(shared.getByLabel('Queue')).toHaveValue('Billing');

    await page.goBack();
    await expect(pagerRange(page)).toHaveText('1–30 of 81 customers');
    await page.goBack();
    await expect(page.getByLabel('Queue')).toHaveValue('');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await page.goForward();
    await expect(page.getByLabel('Queue')).toHaveValue('Billing');
    await expect(pagerRange(page)).toHaveText('1–30 of 81 customers');
  });

  test('back and forward restore the search box', async ({ page }) => {
    await open(page, '/customers');
    await page.getByLabel('Search customers').fill('harbour');
    await expect.poll(() => identifiers(page)).toEqual(['+44 20 7946 0958']);
    await page.getByRole('columnheader', { name: 'Latest Interaction' }).getByRole('link').click();
    await expect(page).toHaveURL(/sort=latest/);
    await page.goBack();
    await expect(page).not.toHaveURL(/sort=latest/);
    await expect(page.getByLabel('Search customers')).toHaveValue('harbour');
    await page.goBack();
    await expect(page.getByLabel('Search customers')).toHaveValue('');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('invalid values fall back to sensible defaults and never error the page', async ({ page }) => {
    for (const path of [
      '/customers?sort=shoe-size&dir=sideways',
      '/customers?page=0',
      '/customers?page=-3',
      '/customers?page=abc',
      '/customers?f.no_such_field=1&f.BAD%20KEY=2',
      '/customers?f.queue=Nonexistent',
    ]) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
      await expect(page.getByRole('columnheader', { name: 'Interactions' }), path).toHaveAttribute('aria-sort', 'descending');
      await expect(pagerRange(page), path).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    }
    const pastTheEnd = await page.goto('/customers?page=4000');
    expect(pastTheEnd?.status()).toBe(200);
    await expect(pagerRange(page)).toHaveText(`241–246 of ${TOTAL_CUSTOMERS} customers`);
  });

  test('a bad server-function call gets a clear error, not a crash', async ({ request }) => {
    const response = await request.post('/api/customers', {
      data: { query: { search: 'x'.repeat(5000), sort: 'Interactions', dir: 'Desc', page: 1, filters: {} } },
    });
    expect(response.status()).toBe(400);
    expect(await response.text()).toMatch(/search/i);
    const malformed = await request.post('/api/customers', { data: { nonsense: true } });
    expect(malformed.status()).toBeGreaterThanOrEqual(400);
    expect(malformed.status()).toBeLessThan(500);
  });
});

test.describe('rendering and feel', () => {
  test('the first load is rendered on the server, readable without the wasm', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, storageState: MANAGER_STATE });
    const page = await context.newPage();
    await page.goto('/customers?sort=score');
    await expect(customersTable(page)).toBeVisible();
    expect((await identifiers(page))[0]).toBe('ACC-7731');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await expect(page.getByLabel('Queue')).toBeVisible();
    await context.close();
  });

  test('the current rows stay visible with a busy indicator while the next view loads', async ({ page }) => {
    await open(page, '/customers');
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/customers', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('columnheader', { name: 'Avg Score' }).getByRole('link').click();
    await expect(page.locator('.results')).toHaveAttribute('aria-busy', 'true');
    await expect(page.getByText('Loading…')).toBeVisible();
    expect((await identifiers(page))[0]).toBe('zoe@example.com');
    release();
    await expect.poll(() => identifiers(page).then((ids) => ids[0])).toBe('ACC-7731');
    await expect(page.locator('.results')).toHaveAttribute('aria-busy', 'false');
  });

  test('a failed load shows an inline error with a retry', async ({ page }) => {
    await open(page, '/customers');
    let failures = 0;
    await page.route('**/api/customers', async (route) => {
      if (failures === 0) {
        failures += 1;
        await route.fulfill({ status: 503, contentType: 'text/plain', body: 'service unavailable' });
      } else {
        await route.continue();
      }
    });
    await page.getByRole('columnheader', { name: 'Avg Score' }).getByRole('link').click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('The customers could not be loaded.');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => identifiers(page).then((ids) => ids[0])).toBe('ACC-7731');
    await expect(page.getByRole('alert')).toHaveCount(0);
  });

  test('works 360 px wide: nothing spills out of the page', async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, storageState: MANAGER_STATE });
    const page = await context.newPage();
    await open(page, '/customers');
    await expect(page.getByLabel('Search customers')).toBeVisible();
    await expect(customersTable(page)).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const searchBox = (await page.getByLabel('Search customers').boundingBox())!;
    expect(searchBox.x + searchBox.width).toBeLessThanOrEqual(360);
    await context.close();
  });
});
