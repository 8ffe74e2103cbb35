import { expect, test, type Page, type Response } from '@playwright/test';
import { customersTable, identifiers, markDocument, open, TOTAL_CUSTOMERS } from './helpers';

/** The client files a page load fetched, by kind, with their answers. */
async function clientFilesOf(page: Page, path: string): Promise<Map<string, Response>> {
  const files = new Map<string, Response>();
  page.on('response', (response) => {
    const match = /\/pkg\/[^/]+\.(wasm|js|css)$/.exec(new URL(response.url()).pathname);
    if (match) files.set(match[1], response);
  });
  await open(page, path);
  return files;
}

test.describe('delivery of the client', () => {
  test('the wasm, its script and the stylesheet arrive compressed, under hashed names kept a year', async ({ page }) => {
    const files = await clientFilesOf(page, '/customers');
    expect([...files.keys()].sort()).toEqual(['css', 'js', 'wasm']);
    for (const [kind, response] of files) {
      const headers = response.headers();
      expect(response.status(), kind).toBe(200);
      expect(new URL(response.url()).pathname, kind).toMatch(new RegExp(`^/pkg/playbook\\.[0-9a-f]{16}\\.${kind}$`));
      expect(headers['content-encoding'], kind).toMatch(/^(br|gzip)$/);
      expect(headers['cache-control'], kind).toBe('public, max-age=31536000, immutable');
      expect(headers['vary']?.toLowerCase(), kind).toContain('accept-encoding');
    }
    expect(files.get('wasm')!.headers()['content-type']).toBe('application/wasm');
    // What crossed the wire is the compressed file: well under half of what the browser unpacked.
    const wasm = files.get('wasm')!;
    const unpacked = (await wasm.body()).length;
    const sent = (await wasm.request().sizes()).responseBodySize;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(unpacked / 2);

    // And the compressed client runs: the page answers typing without a reload.
    const sameDocument = await markDocument(page);
    await page.getByLabel('Search customers').fill('zoe');
    await expect.poll(() => identifiers(page)).toEqual(['zoe@example.com']);
    await sameDocument();
  });

  test('pages themselves are compressed and never kept by caches', async ({ request }) => {
    const response = await request.get('/customers', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(response.status()).toBe(200);
    expect(response.headers()['content-encoding']).toMatch(/^(br|gzip)$/);
    expect(response.headers()['cache-control']).toBe('no-store');
    const api = await request.get('/api/v1/openapi.json', { headers: { 'accept-encoding': 'gzip' } });
    expect(api.status()).toBe(200);
    expect(api.headers()['content-encoding']).toBe('gzip');
  });

  test('every page hydrates: home, customers, a conversation, a representative, not found', async ({ page }) => {
    await open(page, '/');
    await open(page, '/customers');
    await expect(customersTable(page)).toBeVisible();
    await expect(page.locator('.results .pager-range')).toContainText(`of ${TOTAL_CUSTOMERS}`);

    await open(page, '/conversations/1');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const representative = page.locator('dl.facts').getByRole('link', { name: 'Ada Lovelace' });
    const profile = await representative.getAttribute('href');
    expect(profile).toMatch(/^\/representatives\/\d+$/);

    await open(page, profile!);
    await expect(page.locator('dl.facts')).toBeVisible();
    // The hydrated header navigates in place.
    const sameDocument = await markDocument(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Custs.' }).click();
    await expect(customersTable(page)).toBeVisible();
    await sameDocument();

    await open(page, '/no-such-page');
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  });

  test('the sign-in page hydrates for a signed-out visitor', async ({ browser }) => {
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await open(page, '/login');
    await expect(page.getByLabel('Email')).toBeVisible();
    await context.close();
  });
});
