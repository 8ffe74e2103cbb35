import { expect, test, type Page } from '@playwright/test';
import { PASSWORD } from '../fixtures/dataset.mjs';
import { expectNoAxeViolations } from './axe';
import { uniqueSuffix } from './cli';
import { customerRow, customersTable, open, pagerRange, signIn } from './helpers';

// axe-core (WCAG 2.0 A and AA, 2.1 AA, 2.2 AA) on every state a person meets: each must have
// no violations at all. A failure lists each rule with the selectors of the offending nodes.

/** Waits until the Customers page has settled: hydrated, no load in flight, the table or
 *  the empty state on screen (axe must not see the dimmed rows of a pending load). */
async function settled(page: Page): Promise<void> {
  await expect(page.locator('.results')).toHaveAttribute('aria-busy', 'false');
  await expect(customersTable(page).or(page.locator('.empty-state'))).toBeVisible();
}

test.describe('signed out', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('the sign-in page, and its error message', async ({ page }) => {
    await open(page, '/login');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expectNoAxeViolations(page, 'the sign-in page');
    // A wrong password for an account that does not exist: no account gets nearer a lock-out.
    await signIn(page, 'nobody@acme.example', 'not the password');
    await expect(page.getByRole('alert')).toBeVisible();
    await expectNoAxeViolations(page, 'the sign-in page with its error');
  });
});

test.describe('the Customers page', () => {
  test('the default view', async ({ page }) => {
    await open(page, '/customers');
    await settled(page);
    await expect(pagerRange(page)).toContainText('1–30 of');
    await expectNoAxeViolations(page, 'Customers, default view');
  });

  test('a search with no result', async ({ page }) => {
    await open(page, '/customers?q=zzzznomatch');
    await settled(page);
    await expect(page.getByRole('status').filter({ hasText: 'No customers match' })).toBeVisible();
    await expectNoAxeViolations(page, 'Customers, searched with no result');
  });

  test('filtered by a custom field and a channel, with the custom date range open', async ({ page }) => {
    await open(page, '/customers?f.queue=Billing&type=voice');
    await settled(page);
    await expect(page.getByLabel('Queue')).toHaveValue('Billing');
    await page.getByLabel('Period').selectOption('Custom range');
    await expect(page.getByLabel('From', { exact: true })).toBeVisible();
    await expectNoAxeViolations(page, 'Customers, filtered');
  });

  test('a row expanded, with its score trend and history', async ({ page }) => {
    await open(page, '/customers');
    await settled(page);
    const toggle = customerRow(page, 'zoe@example.com').getByRole('button', { name: /zoe@example\.com/ });
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByRole('table', { name: 'Interaction history' })).toBeVisible();
    await expect(page.getByRole('img', { name: 'Score trend of zoe@example.com' })).toBeVisible();
    await expect(page.locator('.history-pager .range')).toHaveText('1–8 of 12');
    await expectNoAxeViolations(page, 'Customers, a row expanded');
  });

  test('the saved-views panel open, listing a view, and renaming it', async ({ page }) => {
    await open(page, '/customers?f.region=EMEA');
    await settled(page);
    const button = page.getByRole('button', { name: 'Saved views' });
    await button.click();
    await expect(button).toHaveAttribute('aria-expanded', 'true');
    const panel = page.locator('#saved-views-panel');
    await expect(panel.getByRole('heading', { name: 'Saved views' })).toBeVisible();
    await expect(panel.getByText('Loading saved views…')).toHaveCount(0);
    await expectNoAxeViolations(page, 'Customers, the saved-views panel open');

    // With a view in the list, and its rename form open.
    const name = `Axe check ${uniqueSuffix()}`;
    await panel.getByLabel('Name this view').fill(name);
    await panel.getByRole('button', { name: 'Save view' }).click();
    await expect(panel.getByRole('status').filter({ hasText: /\S/ })).toHaveText(`Saved “${name}”.`);
    await expect(panel.getByRole('link', { name, exact: true })).toBeVisible();
    await expectNoAxeViolations(page, 'Customers, the saved-views panel listing a view');
    await panel.getByRole('button', { name: `Rename ${name}`, exact: true }).click();
    await expect(panel.getByLabel(`New name for ${name}`)).toBeVisible();
    await expectNoAxeViolations(page, 'Customers, the saved-views panel renaming a view');
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await panel.getByRole('button', { name: `Delete ${name}`, exact: true }).click();
    await expect(panel.getByRole('status').filter({ hasText: /\S/ })).toHaveText(`Deleted “${name}”.`);
  });
});

test.describe('the other pages', () => {
  test('a conversation page', async ({ page }) => {
    await open(page, '/conversations/1');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Zoë conversation 1');
    await expectNoAxeViolations(page, 'a conversation page');
  });

  test('a representative page', async ({ page }) => {
    await open(page, '/conversations/1');
    const profile = await page.locator('dl.facts').getByRole('link', { name: 'Ada Lovelace' }).getAttribute('href');
    await open(page, profile!);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ada Lovelace');
    await expectNoAxeViolations(page, 'a representative page');
  });

  test('the 403 page a representative gets for Customers', async ({ browser }) => {
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await open(page, '/login');
    await signIn(page, 'ada@acme.example', PASSWORD);
    await expect(page.getByRole('heading', { name: 'Welcome, Ada Lovelace' })).toBeVisible();
    const response = await page.goto('/customers');
    expect(response?.status()).toBe(403);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByRole('heading', { name: 'Not available to your role' })).toBeVisible();
    await expectNoAxeViolations(page, 'the 403 page');
    await context.close();
  });
});
