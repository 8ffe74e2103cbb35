import { expect, test, type Page } from '@playwright/test';
import { PASSWORD } from '../fixtures/dataset.mjs';
import { customerRow, identifiers, open, pagerRange, TOTAL_CUSTOMERS } from './helpers';

// Everything here is done with the keyboard alone: no clicks, no fill(). Locators only look.

/** A short description of the focused element and whether it shows a focus indicator: an
 *  outline that is drawn (not none, not zero wide, not transparent) or a box shadow. */
async function focusedElement(page: Page): Promise<{ what: string; indicator: boolean; style: string } | null> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body || element === document.documentElement) return null;
    const style = getComputedStyle(element);
    const transparent = /^(transparent|rgba\(\d+, \d+, \d+, 0\))$/.test(style.outlineColor);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1 && !transparent;
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
    const name = (element.getAttribute('aria-label') ?? element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40);
    const id = element.id ? `#${element.id}` : '';
    const classes = element.classList.length ? `.${[...element.classList].join('.')}` : '';
    return {
      what: `${element.tagName.toLowerCase()}${id}${classes} “${name}”`,
      indicator: outline || shadow,
      style: `outline: ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}; box-shadow: ${style.boxShadow}`,
    };
  });
}

/** Presses Tab (or Shift+Tab) until the focused element matches `selector`, checking on the
 *  way that every element focused shows a focus indicator; those that do not are collected
 *  in `unmarked`. Fails, listing the stops, if the element is not reached. */
async function tabTo(
  page: Page,
  selector: string,
  unmarked: Set<string>,
  { backwards = false, max = 60 }: { backwards?: boolean; max?: number } = {},
): Promise<void> {
  const stops: string[] = [];
  for (let step = 0; step < max; step++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const focused = await focusedElement(page);
    if (focused) {
      stops.push(focused.what);
      if (!focused.indicator) unmarked.add(`${focused.what} (${focused.style})`);
    } else {
      stops.push('(nothing: the page itself)');
    }
    if (await page.evaluate((css) => document.activeElement?.matches(css) ?? false, selector)) return;
  }
  throw new Error(`${backwards ? 'Shift+Tab' : 'Tab'} never reached ${selector}; focus went to:\n  ${stops.join('\n  ')}`);
}

async function focusedMatches(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((css) => document.activeElement?.matches(css) ?? false, selector);
}

test.describe('keyboard only', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('sign in, search, sort, filter, open a row, page its history, open a conversation and come back', async ({ page, context }) => {
    const unmarked = new Set<string>();

    // Sign in.
    await open(page, '/login');
    await tabTo(page, '#login-email', unmarked);
    await page.keyboard.type('manager@acme.example');
    await page.keyboard.press('Tab');
    expect(await focusedMatches(page, '#login-password'), 'Tab goes from Email to Password').toBe(true);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/customers$/);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);

    // `/` goes to the search box, and is not typed into it.
    const search = page.getByLabel('Search customers');
    await page.keyboard.press('/');
    await expect(search).toBeFocused();
    await expect(search).toHaveValue('');
    await page.keyboard.type('example.com');
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com', 'sale_50%@example.com', 'sale-50x@example.com']);

    // Sort by average score: Enter on the header's button.
    const score = page.getByRole('columnheader', { name: 'Avg Score' });
    await tabTo(page, 'table[aria-label="Customers"] th:nth-child(5) a', unmarked);
    await page.keyboard.press('Enter');
    await expect(score).toHaveAttribute('aria-sort', 'descending');
    await expect(page.getByRole('columnheader', { name: 'Interactions' })).not.toHaveAttribute('aria-sort');
    await expect(page).toHaveURL(/sort=score/);
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com', 'sale-50x@example.com', 'sale_50%@example.com']);
    expect
      .soft(await focusedMatches(page, 'table[aria-label="Customers"] th:nth-child(5) a'), 'focus stays on the sort button after sorting')
      .toBe(true);

    // A filter: back to Region, and the arrow key picks EMEA (Any, EMEA, Americas, APAC).
    await tabTo(page, '#filter-region', unmarked, { backwards: true });
    await page.keyboard.press('ArrowDown');
    await expect(page.getByLabel('Region')).toHaveValue('EMEA');
    await expect(page).toHaveURL(/f\.region=EMEA/);
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);

    // Open Zoë's row with its disclosure button.
    const toggle = customerRow(page, 'zoe@example.com').locator('.row-toggle');
    await tabTo(page, 'tr.customer-row .row-toggle', unmarked);
    await page.keyboard.press('Enter');
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const historyId = await toggle.getAttribute('aria-controls');
    const history = page.locator(`#${historyId}`);
    await expect(history.getByRole('table', { name: 'Interaction history' })).toBeVisible();
    const range = history.locator('.history-pager .range');
    await expect(range).toHaveText('1–8 of 12');

    // Its next page.
    await tabTo(page, `#${historyId} button[aria-label="Next page"]`, unmarked);
    await page.keyboard.press('Enter');
    await expect(range).toHaveText('9–12 of 12');
    await expect(page).toHaveURL(/hpage=2/);
    // On the last page Next is disabled; focus must not fall out of the history to the page.
    expect
      .soft(
        await page.evaluate((id) => !!document.activeElement?.closest(`#${id}`), historyId),
        'focus stays in the history after turning to its last page (Next is disabled there)',
      )
      .toBe(true);

    // A conversation of that page, back up the history.
    await tabTo(page, `#${historyId} a[href^="/conversations/"]`, unmarked, { backwards: true });
    const link = page.locator(`#${historyId} a[href^="/conversations/"]:focus`);
    const title = (await page.evaluate(() => document.activeElement?.textContent ?? '')).trim();
    expect(title).toMatch(/^Zoë conversation [1-4]$/);
    const viewUrl = page.url();
    const inNewTab = (await link.getAttribute('target')) === '_blank';
    if (inNewTab) {
      const [tab] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('Enter')]);
      await tab.waitForLoadState();
      await expect(tab.getByRole('heading', { level: 1 })).toHaveText(title);
      await tab.close();
      await page.bringToFront();
    } else {
      await page.keyboard.press('Enter');
      await expect(page).toHaveURL(/\/conversations\/\d+$/);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
      // Alt+ArrowLeft is the browser's own shortcut, which a headless browser has no window for.
      await page.goBack();
    }

    // The view is as it was left.
    expect(page.url()).toBe(viewUrl);
    await expect(search).toHaveValue('example.com');
    await expect(score).toHaveAttribute('aria-sort', 'descending');
    await expect(page.getByLabel('Region')).toHaveValue('EMEA');
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await expect(range).toHaveText('9–12 of 12');

    expect([...unmarked], 'every element Tab reached shows a focus indicator').toEqual([]);
  });
});

test.describe('keyboard shortcuts of the Customers page', () => {
  test('`/` focuses the search box, Escape there clears the search', async ({ page }) => {
    await open(page, '/customers');
    const search = page.getByLabel('Search customers');
    await page.keyboard.press('/');
    await expect(search).toBeFocused();
    await page.keyboard.type('harbour');
    await expect.poll(() => identifiers(page)).toEqual(['+44 20 7946 0958']);
    await expect(page).toHaveURL(/q=harbour/);
    await page.keyboard.press('Escape');
    await expect(search).toHaveValue('');
    await expect(search).toBeFocused();
    await expect(pagerRange(page)).toHaveText(`1–30 of ${TOTAL_CUSTOMERS} customers`);
    await expect(page).not.toHaveURL(/q=/);
  });

  test('`/` is an ordinary character in a text field', async ({ page }) => {
    await open(page, '/customers');
    const unmarked = new Set<string>();
    await tabTo(page, '#filter-product', unmarked);
    await page.keyboard.type('a/b');
    await expect(page.getByLabel('Product')).toHaveValue('a/b');
    await expect(page.getByLabel('Product')).toBeFocused();
    await expect(page.getByLabel('Search customers')).toHaveValue('');
    expect([...unmarked], 'every element Tab reached shows a focus indicator').toEqual([]);
  });
});

test.describe('the saved-views panel by keyboard', () => {
  const BUTTON = 'button[aria-controls="saved-views-panel"]';

  test('Escape closes it and gives focus back to its button', async ({ page }) => {
    await open(page, '/customers');
    const unmarked = new Set<string>();
    const button = page.getByRole('button', { name: 'Saved views' });
    await tabTo(page, BUTTON, unmarked);
    await page.keyboard.press('Enter');
    await expect(button).toHaveAttribute('aria-expanded', 'true');
    await page.keyboard.press('Tab');
    expect(await focusedMatches(page, '#saved-views-panel *'), 'Tab goes from the button into the panel').toBe(true);
    await page.keyboard.press('Escape');
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await expect(page.locator('#saved-views-panel')).toBeHidden();
    await expect(button, 'focus returns to the Saved views button').toBeFocused();
    expect([...unmarked], 'every element Tab reached shows a focus indicator').toEqual([]);
  });

  test('tabbing out of the open panel never leaves focus hidden under it (WCAG 2.4.11)', async ({ page }) => {
    await open(page, '/customers');
    const unmarked = new Set<string>();
    await tabTo(page, BUTTON, unmarked);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('button', { name: 'Saved views' })).toHaveAttribute('aria-expanded', 'true');
    await expect(page.locator('#saved-views-panel').getByText('Loading saved views…')).toHaveCount(0);
    const hidden: string[] = [];
    let outside = 0;
    for (let step = 0; step < 40 && outside < 6; step++) {
      await page.keyboard.press('Tab');
      const report = await page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        const panel = document.getElementById('saved-views-panel');
        if (!element || !panel || panel.contains(element)) return null;
        const box = element.getBoundingClientRect();
        const points = [
          [box.left + box.width / 2, box.top + box.height / 2],
          [box.left + 1, box.top + 1], [box.right - 1, box.top + 1],
          [box.left + 1, box.bottom - 1], [box.right - 1, box.bottom - 1],
        ];
        const covered = !panel.hidden && points.every(([x, y]) => {
          const hit = document.elementFromPoint(x, y);
          return !!hit && panel.contains(hit);
        });
        const name = (element.getAttribute('aria-label') ?? element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40);
        return { covered, what: `${element.tagName.toLowerCase()} “${name}”` };
      });
      if (!report) continue;
      outside += 1;
      if (report.covered) hidden.push(report.what);
    }
    expect(outside, 'Tab leaves the panel').toBeGreaterThan(0);
    expect(hidden, 'focused controls entirely hidden under the open panel').toEqual([]);
  });
});
