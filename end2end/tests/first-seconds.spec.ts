import { expect, test, type Browser, type Page } from '@playwright/test';
import { customerRow, identifiers, MANAGER_STATE, pagerRange, rowToggle, TOTAL_CUSTOMERS } from './helpers';

/** The identifiers a hydrated page shows at `path`, in a page of its own. */
async function hydratedIdentifiers(browser: Browser, path: string): Promise<string[]> {
  const context = await browser.newContext({ storageState: MANAGER_STATE });
  const page = await context.newPage();
  await page.goto(path);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  const rows = await identifiers(page);
  await context.close();
  return rows;
}

/** The address shown, without the origin. */
function pathOf(page: Page): string {
  const url = new URL(page.url());
  return url.pathname + url.search;
}

test.describe('before the client wakes, and without it', () => {
  test('with WebAssembly blocked, search, a filter, a channel, a sort, paging and opening a row give the rows of their URLs', async ({ page, browser }) => {
    await page.route('**/*.wasm', (route) => route.abort());
    await page.goto('/customers');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);

    // The search box is part of a plain form: Enter submits it.
    const search = page.getByLabel('Search customers');
    await search.fill('example.com');
    await search.press('Enter');
    await expect(page).toHaveURL(/[?&]q=example\.com/);
    expect(await identifiers(page)).toEqual(['zoe@example.com', 'sale_50%@example.com', 'sale-50x@example.com']);
    await expect(page.getByLabel('Search customers')).toHaveValue('example.com');

    // A filter, applied with the form's button; the search stays.
    await page.getByLabel('Region').selectOption('EMEA');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/f\.region=EMEA/);
    await expect(page).toHaveURL(/q=example\.com/);
    expect(await identifiers(page)).toEqual(['zoe@example.com']);

    // Two channels ticked: the plain form sends `type` twice, and the page reads both.
    await page.goto('/customers');
    await page.getByLabel('Chat').check();
    await page.getByLabel('Email').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/type=chat&type=email/);
    await expect(page.getByLabel('Chat')).toBeChecked();
    await expect(page.getByLabel('Email')).toBeChecked();
    await expect(page.getByLabel('Voice')).not.toBeChecked();
    expect(await identifiers(page)).toEqual(await hydratedIdentifiers(browser, '/customers?type=chat,email'));

    // A sort header is a link.
    await page.goto('/customers');
    await page.getByRole('columnheader', { name: 'Avg Score' }).getByRole('link').click();
    await expect(page).toHaveURL(/sort=score/);
    await expect(page.getByRole('columnheader', { name: 'Avg Score' })).toHaveAttribute('aria-sort', 'descending');
    expect(await identifiers(page)).toEqual(await hydratedIdentifiers(browser, pathOf(page)));

    // So are the pager's steps.
    await page.getByRole('navigation', { name: 'Customer pages' }).getByRole('link', { name: 'Next page' }).click();
    await expect(pagerRange(page)).toHaveText(`31–60 of ${TOTAL_CUSTOMERS} customers`);
    expect(await identifiers(page)).toEqual(await hydratedIdentifiers(browser, pathOf(page)));

    // A row's button is a link to its address, which opens it once the client is there.
    await page.goto('/customers?q=zoe');
    await rowToggle(customerRow(page, 'zoe@example.com')).click();
    await expect(page).toHaveURL(/open=zoe%40example\.com/);
    // The server's page shows the row opened, its history's first page, and a pager of links.
    const zoe = customerRow(page, 'zoe@example.com');
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'true');
    const history = page.getByRole('table', { name: 'Interaction history' });
    const historyPager = page.getByRole('navigation', { name: 'Interaction history pages' });
    await expect(history.locator('tbody tr')).toHaveCount(8);
    await expect(history.locator('tbody tr').first().getByRole('link').first()).toHaveText('Zoë conversation 12');
    await expect(historyPager).toContainText('1–8 of 12');
    await historyPager.getByRole('link', { name: 'Next page' }).click();
    await expect(page).toHaveURL(/hpage=2/);
    await expect(historyPager).toContainText('9–12 of 12');
    await expect(history.locator('tbody tr').last().getByRole('link').first()).toHaveText('Zoë conversation 1');
    // And its button, now a link to the address without it, closes it.
    await rowToggle(customerRow(page, 'zoe@example.com')).click();
    await expect(page).not.toHaveURL(/open=/);
    await expect(history).toHaveCount(0);
    // Still no client: the page was served whole each time.
    await expect(page.locator('html')).not.toHaveAttribute('data-hydrated', 'true');
  });

  test('what is typed and ticked before the client wakes is kept, and the search runs', async ({ page }) => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/*.wasm', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto('/customers');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await page.getByLabel('Chat').check();
    const search = page.getByLabel('Search customers');
    await search.fill('zoe');
    await expect(page.locator('html')).not.toHaveAttribute('data-hydrated', 'true');

    release();
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    await expect(page).toHaveURL(/q=zoe/);
    await expect(page).toHaveURL(/type=chat/);
    await expect(search).toHaveValue('zoe');
    await expect(page.getByLabel('Chat')).toBeChecked();
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);
    await expect(search).toBeFocused();
    // And the page goes on as a live one: unticking and typing update it in place.
    await page.getByLabel('Chat').uncheck();
    await expect(page).not.toHaveURL(/type=/);
    await search.fill('sale');
    await expect
      .poll(async () => (await identifiers(page)).sort())
      .toEqual(['sale-50x@example.com', 'sale_50%@example.com'].sort());
  });
});
