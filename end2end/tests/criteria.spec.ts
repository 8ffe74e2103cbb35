import { expect, test } from '@playwright/test';
import { criterionScores, dataset } from '../fixtures/dataset.mjs';
import { expectNoAxeViolations } from './axe';
import { open } from './helpers';

// Acme's conversations load in the dataset's order: ids 1–12 are Zoë's scored ones (weak on
// resolution), 13 her unscored follow-up (no criteria).
const acme = dataset.organisations[0];

test.describe('the conversation page’s playbook criteria', () => {
  test('lists each criterion with its score and band, under a heading', async ({ page }) => {
    await open(page, '/conversations/1');
    const zoe = acme.conversations[0];
    expect(zoe.criteria).toEqual(criterionScores(80, 'voice', 'resolution'));
    await expect(page.getByRole('heading', { level: 2, name: 'Playbook criteria' })).toBeVisible();
    const table = page.getByRole('table', { name: 'Playbook criteria' });
    await expect(table.getByRole('columnheader')).toHaveText(['Criterion', 'Score']);
    await expect(table.getByRole('rowheader')).toHaveText(acme.criteria.map((criterion) => criterion.label));
    // Greeting 85, Discovery 75, Resolution 50 (Zoë's weak one), Compliance 82; bands 60 and 80.
    await expect(table.getByRole('cell')).toHaveText(['85▲High', '75◆Medium', '50▼Low', '82▲High']);
    await expectNoAxeViolations(page, 'a conversation page with criteria');
  });

  test('says “Not applicable” for a criterion that did not apply', async ({ page }) => {
    // Zoë's third conversation is an email: compliance does not apply.
    expect(acme.conversations[2].criteria?.compliance).toBeNull();
    await open(page, '/conversations/3');
    const compliance = page.getByRole('table', { name: 'Playbook criteria' }).getByRole('row', { name: /Compliance/ });
    await expect(compliance.getByRole('cell')).toHaveText('Not applicable');
  });

  test('shows nothing for a conversation without criteria', async ({ page }) => {
    expect(acme.conversations[12].criteria).toBeUndefined();
    await open(page, '/conversations/13');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Zoë unscored follow-up');
    await expect(page.getByRole('heading', { name: 'Playbook criteria' })).toHaveCount(0);
    await expect(page.getByRole('table')).toHaveCount(0);
  });
});
