import { expect, test, type Locator, type Page } from '@playwright/test';
import { customerRow, customersTable, open } from './helpers';

// Reflow (WCAG 1.4.10): on a phone, and at 200% zoom, the page never scrolls sideways and no
// control is cut off. A control may sit in a frame that scrolls sideways on its own (the
// tables' `.table-wrap`), as long as the frame is on screen and the control inside its
// scroll range.
//
// 200% zoom is emulated as the browser does it: zooming a 1280×800 window to 200% gives the
// page a 640×400 CSS-pixel viewport drawn at two device pixels per CSS pixel, so media queries,
// percentages and `100vw` all see 640 px. `document.body.style.zoom` would not be honest: CSS
// zoom scales the content inside an unchanged 1280 px viewport, so media queries never fire
// and the layout is not the one a zoomed browser shows.
const SIZES = [
  { name: 'a phone, 360×740', viewport: { width: 360, height: 740 }, deviceScaleFactor: 1 },
  { name: '200% zoom of a 1280×800 window', viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 },
];

/** The page itself does not scroll sideways. */
async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth, `${where}: the page is ${scrollWidth}px wide in a ${innerWidth}px window`).toBeLessThanOrEqual(innerWidth);
}

/** Every visible element the locator matches lies within the window horizontally, or within
 *  the scroll range of a sideways-scrolling frame that itself lies within the window. */
async function expectReachable(elements: Locator, what: string): Promise<void> {
  const visible = elements.filter({ visible: true });
  const count = await visible.count();
  expect(count, `${what}: something to check`).toBeGreaterThan(0);
  for (let index = 0; index < count; index++) {
    const report = await visible.nth(index).evaluate((element) => {
      const slack = 0.5;
      const box = element.getBoundingClientRect();
      const width = window.innerWidth;
      const name = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} “${(element.getAttribute('aria-label') ?? element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 30)}”`;
      for (let frame = element.parentElement; frame && frame !== document.body; frame = frame.parentElement) {
        if (!/(auto|scroll)/.test(getComputedStyle(frame).overflowX)) continue;
        const outer = frame.getBoundingClientRect();
        const left = box.left - outer.left - frame.clientLeft + frame.scrollLeft;
        const inFrame = left >= -slack && left + box.width <= frame.scrollWidth + slack;
        const frameOnScreen = outer.left >= -slack && outer.right <= width + slack;
        return {
          ok: inFrame && frameOnScreen,
          detail: `${name} at ${Math.round(left)}–${Math.round(left + box.width)} in a frame ${frame.scrollWidth}px wide, the frame at ${Math.round(outer.left)}–${Math.round(outer.right)} in a ${width}px window`,
        };
      }
      return {
        ok: box.left >= -slack && box.right <= width + slack,
        detail: `${name} at ${Math.round(box.left)}–${Math.round(box.right)} in a ${width}px window`,
      };
    });
    expect(report.ok, `${what}: ${report.detail}`).toBe(true);
  }
}

/** The element lies wholly within the window: text that must reflow, not scroll sideways. */
async function expectInWindow(element: Locator, what: string): Promise<void> {
  await expect(element).toBeVisible();
  const { left, right, width } = await element.evaluate((node) => {
    const box = node.getBoundingClientRect();
    return { left: box.left, right: box.right, width: window.innerWidth };
  });
  expect(left >= -0.5 && right <= width + 0.5, `${what} at ${Math.round(left)}–${Math.round(right)} in a ${width}px window`).toBe(true);
}

for (const size of SIZES) {
  test.describe(`at ${size.name}`, () => {
    test.use({ viewport: size.viewport, deviceScaleFactor: size.deviceScaleFactor });

    test('Customers with a row expanded: no sideways page, every control reachable', async ({ page }) => {
      await open(page, '/customers');
      const toggle = customerRow(page, 'zoe@example.com').locator('.row-toggle');
      await toggle.click();
      await expect(toggle).toHaveAttribute('aria-expanded', 'true');
      const history = page.locator(`#${await toggle.getAttribute('aria-controls')}`);
      await expect(history.getByRole('table', { name: 'Interaction history' })).toBeVisible();
      await expect(history.locator('figure.trend')).toBeVisible();

      await expectNoSidewaysScroll(page, 'Customers');
      await expectReachable(page.getByRole('banner').locator('a, button'), 'the header');
      await expectReachable(page.getByLabel('Search customers'), 'the search box');
      await expectReachable(page.getByRole('search').locator('input, select, button, a[href]'), 'the filters');
      await expectReachable(page.getByRole('list', { name: 'Score bands' }), 'the band legend');
      await expectReachable(customersTable(page).getByRole('columnheader').getByRole('link'), 'the sort links');
      await expectReachable(toggle, 'the row’s toggle');
      await expectReachable(history.locator('figure.trend'), 'the trend');
      // The chart may scroll with the table; its one-sentence summary is text, and reflows.
      await expectInWindow(history.locator('figure.trend figcaption'), 'the trend’s summary');
      await expectReachable(history.getByRole('navigation', { name: 'Interaction history pages' }).locator('button, .range'), 'the history pager');
      await expectReachable(
        page.getByRole('navigation', { name: 'Customer pages' }).locator('a, span, input, button, p'),
        'the pager',
      );
    });

    test('the saved-views panel opens within the window', async ({ page }) => {
      await open(page, '/customers');
      await page.getByRole('button', { name: 'Saved views' }).click();
      const panel = page.locator('#saved-views-panel');
      await expect(panel.getByRole('heading', { name: 'Saved views' })).toBeVisible();
      await expectNoSidewaysScroll(page, 'Customers with the saved-views panel open');
      await expectReachable(panel, 'the saved-views panel');
      await expectReachable(panel.locator('input, button, a[href]'), 'the saved-views panel’s controls');
    });

    test('a conversation page', async ({ page }) => {
      await open(page, '/conversations/1');
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      await expectNoSidewaysScroll(page, 'a conversation');
      await expectReachable(page.getByRole('banner').locator('a, button'), 'the header');
      await expectReachable(page.locator('dl.facts dt, dl.facts dd, dl.facts a'), 'the facts');
    });

    test('a representative page', async ({ page }) => {
      await open(page, '/conversations/1');
      const profile = await page.locator('dl.facts').getByRole('link', { name: 'Ada Lovelace' }).getAttribute('href');
      await open(page, profile!);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ada Lovelace');
      await expectNoSidewaysScroll(page, 'a representative');
      await expectReachable(page.getByRole('banner').locator('a, button'), 'the header');
      await expectReachable(page.locator('dl.facts dt, dl.facts dd'), 'the facts');
      await expectReachable(page.getByRole('table', { name: 'All conversations, scored and unscored' }).locator('th, a'), 'the conversations table');
      await expectReachable(page.getByRole('navigation', { name: 'Conversation pages' }).locator('a, .range'), 'the pager');
    });
  });
}

test.describe('the toolbar on a laptop, 1366 px wide', () => {
  test.use({ viewport: { width: 1366, height: 768 } });

  test('the filters read as one bar: the channels are one row of toggles, and nothing leaves a band above the search box', async ({ page }) => {
    await open(page, '/customers');
    const toggles = page.getByRole('group', { name: 'Channel' }).getByRole('checkbox');
    await expect(toggles).toHaveCount(3);
    const tops = await toggles.evaluateAll((boxes) => boxes.map((box) => Math.round(box.getBoundingClientRect().top)));
    expect(new Set(tops).size, `the channel toggles sit at ${tops.join(', ')}`).toBe(1);
    // Every control of the first row of the bar sits at its top: the tallest thing in the row
    // is a label over a 38 px control, so the search box is no lower than the others.
    const searchTop = (await page.getByLabel('Search customers').boundingBox())!.y;
    const queueTop = (await page.getByLabel('Queue').boundingBox())!.y;
    const toolbarTop = (await page.getByRole('search').boundingBox())!.y;
    expect(Math.abs(searchTop - queueTop)).toBeLessThanOrEqual(1);
    expect(searchTop - toolbarTop, 'the search box sits right under its label at the top of the bar').toBeLessThanOrEqual(30);
  });
});
