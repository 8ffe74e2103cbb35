import { expect, type Locator, type Page } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the signed-in manager's cookie is kept between the setup and the tests. */
export const MANAGER_STATE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.e2e', 'manager.json');

/** Totals of the fixed dataset (fixtures/dataset.mjs): 6 named customers with scored
 *  conversations and 240 numbered ones; one more has only unscored conversations. */
export const TOTAL_CUSTOMERS = 246;

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Opens a page and waits until the wasm has hydrated it (the hydrate entry marks <html>). */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}

export function customersTable(page: Page): Locator {
  return page.getByRole('table', { name: 'Customers' });
}

/** The identifiers of the rows on screen, top to bottom. */
export async function identifiers(page: Page): Promise<string[]> {
  return customersTable(page).locator('tbody > tr.customer-row .identifier').allInnerTexts();
}

/** The body row of one customer, found by its identifier. */
export function customerRow(page: Page, identifier: string): Locator {
  return customersTable(page)
    .locator('tbody > tr.customer-row')
    .filter({ has: page.locator('.identifier', { hasText: new RegExp(`^${escapeRegExp(identifier)}$`) }) });
}

/** The cells of a customer row as text: customer, interactions, first, latest, avg score
 *  (and the change, with a period). The marks (bands, small samples, uncertain changes,
 *  checked by insights.spec.ts and change.spec.ts) and words for screen readers are left
 *  out, so figures read plainly. */
export async function rowCells(row: Locator): Promise<string[]> {
  return (
    await row.getByRole('cell').evaluateAll((cells) =>
      cells.map((cell) => {
        const marks = Array.from(cell.querySelectorAll<HTMLElement>('.band, .small-sample, .uncertain-change, .visually-hidden'));
        marks.forEach((mark) => (mark.style.display = 'none'));
        const text = (cell as HTMLElement).innerText;
        marks.forEach((mark) => (mark.style.display = ''));
        return text;
      }),
    )
  ).map((text) => text.trim());
}

/** The disclosure button that opens and closes a customer row. */
export function rowToggle(row: Locator): Locator {
  return row.locator('.row-toggle');
}

export function pagerRange(page: Page): Locator {
  return page.locator('.results .pager-range');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Fails the test if the document is reloaded after this call. */
export async function markDocument(page: Page): Promise<() => Promise<void>> {
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
  return async () => {
    const same = await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);
    expect(same, 'the page should update in place, without a full page load').toBe(true);
  };
}
