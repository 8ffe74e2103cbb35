import { expect, test } from '@playwright/test';
import { dataset } from '../fixtures/dataset.mjs';
import { customerRow, markDocument, open, rowToggle } from './helpers';

test.describe('the interaction history, in place', () => {
  test('a click expands a row in place (this needs the wasm: it proves hydration), a second click collapses it', async ({ page }) => {
    await open(page, '/customers');
    const sameDocument = await markDocument(page);
    const zoe = customerRow(page, 'zoe@example.com');
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'false');
    await zoe.getByRole('cell').nth(2).click();
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'true');
    const history = page.getByRole('table', { name: 'Interaction history' });
    await expect(history).toBeVisible();
    await expect(history.getByRole('columnheader')).toHaveText(['Conversation', 'Date', 'Representative', 'Score']);

    await zoe.click();
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'false');
    await expect(history).toHaveCount(0);
    await sameDocument();
  });

  test('newest first, 8 a page, with « ‹ › » and the range; the unscored conversation is left out', async ({ page }) => {
    await open(page, '/customers');
    await customerRow(page, 'zoe@example.com').click();
    const history = page.getByRole('table', { name: 'Interaction history' });
    const pager = page.getByRole('navigation', { name: 'Interaction history pages' });
    const rows = history.locator('tbody tr');

    await expect(rows).toHaveCount(8);
    await expect(pager).toContainText('1–8 of 12');
    const newest = rows.first();
    await expect(newest.getByRole('link')).toHaveText(['Zoë conversation 12', 'Alan Turing']);
    await expect(newest.getByRole('img', { name: 'Email' })).toBeVisible();
    await expect(newest.getByRole('cell').nth(1)).toHaveText('15 Jun 2026, 10:00');
    await expect(newest.getByRole('cell').nth(3)).toHaveText('81▲High');
    await expect(history).not.toContainText('Zoë unscored follow-up');

    await expect(pager.getByRole('button', { name: 'First page' })).toBeDisabled();
    await expect(pager.getByRole('button', { name: 'Previous page' })).toBeDisabled();
    await pager.getByRole('button', { name: 'Next page' }).click();
    await expect(pager).toContainText('9–12 of 12');
    await expect(rows).toHaveCount(4);
    await expect(pager.getByRole('button', { name: 'Next page' })).toBeDisabled();
    await expect(pager.getByRole('button', { name: 'Last page' })).toBeDisabled();
    const oldest = rows.last();
    await expect(oldest.getByRole('link').first()).toHaveText('Zoë conversation 1');
    await expect(oldest.getByRole('img', { name: 'Voice call' })).toBeVisible();
    await expect(oldest.getByRole('cell').nth(1)).toHaveText('31 Dec 2025, 22:00');

    await pager.getByRole('button', { name: 'Previous page' }).click();
    await expect(pager).toContainText('1–8 of 12');
    await pager.getByRole('button', { name: 'Last page' }).click();
    await expect(pager).toContainText('9–12 of 12');
    await pager.getByRole('button', { name: 'First page' }).click();
    await expect(pager).toContainText('1–8 of 12');
    // Paging the history never toggles the row.
    await expect(rowToggle(customerRow(page, 'zoe@example.com'))).toHaveAttribute('aria-expanded', 'true');
  });

  test('rows open and close independently, and respond to Enter and Space', async ({ page }) => {
    await open(page, '/customers');
    const zoe = customerRow(page, 'zoe@example.com');
    const harbour = customerRow(page, '+44 20 7946 0958');
    await rowToggle(zoe).focus();
    await page.keyboard.press('Enter');
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'true');
    await rowToggle(harbour).focus();
    await page.keyboard.press('Space');
    await expect(rowToggle(harbour)).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByRole('table', { name: 'Interaction history' })).toHaveCount(2);
    await rowToggle(zoe).focus();
    await page.keyboard.press('Space');
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'false');
    await expect(rowToggle(harbour)).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByRole('navigation', { name: 'Interaction history pages' })).toContainText('1–8 of 10');
  });

  test('links open the conversation and the representative in a new tab without toggling the row', async ({ page, context }) => {
    await open(page, '/customers');
    const zoe = customerRow(page, 'zoe@example.com');
    await zoe.click();
    const history = page.getByRole('table', { name: 'Interaction history' });
    const conversationLink = history.getByRole('link', { name: 'Zoë conversation 12' });
    await expect(conversationLink).toHaveAttribute('target', '_blank');
    await expect(conversationLink).toHaveAttribute('href', /^\/conversations\/\d+$/);

    const [conversationTab] = await Promise.all([context.waitForEvent('page'), conversationLink.click()]);
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'true');
    await conversationTab.waitForLoadState();
    await expect(conversationTab.getByRole('heading', { level: 1 })).toHaveText('Zoë conversation 12');
    const facts = conversationTab.locator('dl.facts');
    for (const text of ['Email', '15 Jun 2026, 10:00', 'zoe@example.com', 'Zoë Ångström', 'Alan Turing', '81', 'Technical', 'EMEA', 'Gadget']) {
      await expect(facts).toContainText(text);
    }
    await conversationTab.close();

    const repLink = history.locator('tbody tr').first().getByRole('link', { name: 'Alan Turing' });
    await expect(repLink).toHaveAttribute('target', '_blank');
    const [repTab] = await Promise.all([context.waitForEvent('page'), repLink.click()]);
    await expect(rowToggle(zoe)).toHaveAttribute('aria-expanded', 'true');
    await repTab.waitForLoadState();
    await expect(repTab.getByRole('heading', { level: 1 })).toHaveText('Alan Turing');

    // The profile's figures, worked out from the dataset itself.
    const alan = dataset.organisations[0].conversations.filter((c) => c.representative === 'alan@acme.example');
    const scored = alan.filter((c) => c.score !== null && c.score !== undefined);
    const hundredths = scored.reduce((sum, c) => sum + Math.round((c.score as number) * 100), 0);
    const average = (hundredths / scored.length / 100).toFixed(1);
    const repFacts = repTab.locator('dl.facts');
    await expect(repFacts).toContainText('alan@acme.example');
    await expect(repFacts).toContainText(`Scored conversations${scored.length}`);
    await expect(repFacts).toContainText(`Average score${average}`);
    await expect(repTab.getByRole('navigation', { name: 'Conversation pages' })).toContainText(`of ${alan.length}`);
    await repTab.close();
  });

  test('a conversation or representative of another organisation, or a bad id, is not found', async ({ page }) => {
    const conversations = dataset.organisations[0].conversations.length;
    // The other organisation's conversation was loaded right after all of Acme's.
    const response = await page.goto(`/conversations/${conversations + 1}`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
    expect((await page.goto('/conversations/not-a-number'))?.status()).toBe(404);
    expect((await page.goto('/representatives/999999'))?.status()).toBe(404);
  });
});
