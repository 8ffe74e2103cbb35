import { expect, test as setup } from '@playwright/test';
import { PASSWORD } from '../fixtures/dataset.mjs';
import { MANAGER_STATE, open, signIn } from './helpers';

setup('sign in as a manager', async ({ page }) => {
  await open(page, '/login');
  await signIn(page, 'manager@acme.example', PASSWORD);
  await expect(page).toHaveURL(/\/customers$/);
  await expect(page.getByRole('heading', { name: 'Customers' })).toBeVisible();
  await page.context().storageState({ path: MANAGER_STATE });
});
