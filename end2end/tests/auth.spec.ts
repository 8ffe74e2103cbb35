import { expect, test } from '@playwright/test';
import { PASSWORD } from '../fixtures/dataset.mjs';
import { identifiers, open, signIn } from './helpers';

// These tests start signed out.
test.use({ storageState: { cookies: [], origins: [] } });

const REFUSED =
  'That email and password do not match an account, or there were 5 failed attempts from here: wait 15 minutes.';

test.describe('sign-in', () => {
  test('a page asked for while signed out comes back after sign-in', async ({ page }) => {
    await page.goto('/customers?q=zo%C3%AB');
    await expect(page).toHaveURL(/\/login\?next=/);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Custs.' })).toHaveCount(0);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    await signIn(page, 'manager@acme.example', PASSWORD);
    await expect(page).toHaveURL(/\/customers\?q=zo%C3%AB$/);
    await expect(page.getByLabel('Search customers')).toHaveValue('zoë');
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);
    const header = page.getByRole('banner');
    await expect(header).toContainText('Morgan Manager');
    await expect(header).toContainText('Manager · Acme Support');
  });

  test('a wrong email and a wrong password get the same message, and the form keeps the email', async ({ page }) => {
    await open(page, '/login');
    await signIn(page, 'manager@acme.example', 'not the password');
    await expect(page.getByRole('alert')).toHaveText(REFUSED);
    await expect(page.getByLabel('Email')).toHaveValue('manager@acme.example');
    await signIn(page, 'nobody@acme.example', PASSWORD);
    await expect(page.getByRole('alert')).toHaveText(REFUSED);
    await expect(page).toHaveURL(/\/login/);
  });

  test('signing out ends the session', async ({ page }) => {
    await open(page, '/login');
    await signIn(page, 'admin@acme.example', PASSWORD);
    await expect(page.getByRole('banner')).toContainText('Avery Admin');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);
    await page.goto('/customers');
    await expect(page).toHaveURL(/\/login\?next=%2Fcustomers$/);
  });

  test('five failed attempts lock the account, with a clear message', async ({ page }) => {
    await open(page, '/login');
    for (let attempt = 1; attempt <= 5; attempt++) {
      await signIn(page, 'locked@acme.example', `wrong password ${attempt}`);
      await expect(page.getByRole('alert')).toHaveText(REFUSED);
    }
    // Locked, the right password gets the answer everyone gets, which names the lock.
    await signIn(page, 'locked@acme.example', PASSWORD);
    await expect(page.getByRole('alert')).toHaveText(REFUSED);
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);
  });
});

test.describe('who may see what', () => {
  test('a representative has no Customers page: no nav item, and a clear 403', async ({ page }) => {
    await open(page, '/login');
    await signIn(page, 'ada@acme.example', PASSWORD);
    await expect(page.getByRole('heading', { name: 'Welcome, Ada Lovelace' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Custs.' })).toHaveCount(0);
    const response = await page.goto('/customers');
    expect(response?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not available to your role' })).toBeVisible();
    await expect(page.getByText('zoe@example.com')).toHaveCount(0);
  });

  test('another organisation sees only its own customers', async ({ page }) => {
    await open(page, '/login');
    await signIn(page, 'manager@globex.example', PASSWORD);
    await expect(page).toHaveURL(/\/customers$/);
    await expect.poll(() => identifiers(page)).toEqual(['intruder@globex.example']);
    await expect(page.getByLabel('Search customers')).toBeVisible();
    await page.getByLabel('Search customers').fill('harbour');
    await expect(page.getByRole('status').filter({ hasText: /\S/ })).toContainText('No customers match “harbour”');
  });
});
