import { expect, test, type Page } from '@playwright/test';
import { PASSWORD } from '../fixtures/dataset.mjs';
import { expectNoAxeViolations } from './axe';
import { open, signIn } from './helpers';

// The Import page, as an Admin of the dataset's third organisation (Initech), so that no other
// test's figures move. One import per organisation at a time: these tests run in order.
test.use({ storageState: { cookies: [], origins: [] } });
test.describe.configure({ mode: 'serial' });

const ADMIN = 'admin@initech.example';
/** A call platform's export: its own column names, one Playbook cannot guess, one it has no use for. */
const HEADER = 'Call ID,Caller,Agent Email,Start Time,Channel,QA Score,Topic Line,Recording URL';

/** `rows` conversations; the row on file line `badLine` has a type Playbook does not know. */
function callsCsv(rows: number, prefix: string, badLine?: number): Buffer {
  const lines = [HEADER];
  for (let n = 0; n < rows; n++) {
    const minute = String(n % 60).padStart(2, '0');
    const channel = badLine === n + 2 ? 'fax' : 'Voice';
    lines.push(
      `${prefix}-${n},caller${n % 4}@initech.example,rep@initech.example,2026-03-14T09:${minute}:00Z,${channel},${50 + (n % 50)},Call ${n},https://rec.example/${n}`,
    );
  }
  return Buffer.from(lines.join('\n') + '\n');
}

async function signInAs(page: Page, email: string): Promise<void> {
  await open(page, '/login');
  await signIn(page, email, PASSWORD);
  await expect(page.getByRole('banner')).toContainText('Sign out');
}

async function chooseFile(page: Page, name: string, buffer: Buffer): Promise<void> {
  await page.getByLabel('Choose a CSV or NDJSON file, or drop it here').setInputFiles({ name, mimeType: 'text/csv', buffer });
}

const job = (page: Page) => page.locator('.import-job');

test('a CSV with its own column names is mapped, previewed as read, imported, and its mapping remembered', async ({ page }) => {
  await signInAs(page, ADMIN);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/import$/);
  await expect(page.getByRole('heading', { name: 'Import conversations' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByText("holds the database's write lock")).toBeVisible();

  await chooseFile(page, 'calls.csv', callsCsv(25, 'map'));
  // The obvious columns are guessed; the others are left out.
  const guessed: Record<string, string> = {
    'Call ID': 'external_id',
    Caller: 'customer',
    'Agent Email': 'representative',
    'Start Time': 'occurred_at',
    Channel: 'type',
    'QA Score': 'score',
    'Topic Line': '',
    'Recording URL': '',
  };
  for (const [column, target] of Object.entries(guessed)) {
    await expect(page.getByLabel(column, { exact: true })).toHaveValue(target);
  }
  await expect(page.getByRole('alert')).toContainText('title: column is missing');
  await page.getByLabel('Topic Line', { exact: true }).selectOption('title');
  await expect(page.getByRole('heading', { name: 'The first 20 rows, as they will be read' })).toBeVisible();
  await expect(page.getByText('title: column is missing')).toHaveCount(0);
  const preview = page.getByRole('region', { name: 'Preview of the first rows' });
  await expect(preview.locator('tbody tr')).toHaveCount(20);
  await expect(preview.locator('tbody tr').first()).toContainText('map-0');
  await expect(preview.locator('tbody tr').first()).toContainText('Call 0');
  await expect(preview.locator('tbody tr.bad-row')).toHaveCount(0);
  await expectNoAxeViolations(page, 'the import page with a preview');

  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page).toHaveURL(/\/import$/);
  await expect(job(page).getByRole('heading')).toHaveText('Imported: calls.csv', { timeout: 20_000 });
  await expect(job(page)).toContainText('25 rows read');
  await expect(job(page)).toContainText('25 conversations written (25 new, 0 changed), 0 unchanged; 4 customers touched');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expectNoAxeViolations(page, 'the import page after an import');

  // The next file from the same platform is mapped as this one was.
  await chooseFile(page, 'more-calls.csv', callsCsv(3, 'again'));
  await expect(page.getByLabel('Topic Line', { exact: true })).toHaveValue('title');
  await expect(page.getByLabel('Recording URL', { exact: true })).toHaveValue('');
});

test('a file with a bad row shows it in the preview, then reports it with its line and writes nothing', async ({ page }) => {
  await signInAs(page, ADMIN);
  await open(page, '/import');
  await chooseFile(page, 'bad.csv', callsCsv(5, 'bad', 4));
  await expect(page.getByLabel('Topic Line', { exact: true })).toHaveValue('title');
  const preview = page.getByRole('region', { name: 'Preview of the first rows' });
  await expect(preview.locator('tbody tr')).toHaveCount(5);
  const bad = preview.locator('tbody tr.bad-row');
  await expect(bad).toHaveCount(1);
  await expect(bad).toContainText('type: `fax` is not voice, chat or email');
  await expectNoAxeViolations(page, 'the import page with a bad row in the preview');

  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(job(page).getByRole('heading')).toHaveText('Not imported: bad.csv', { timeout: 20_000 });
  await expect(job(page)).toContainText('1 bad row; nothing was written.');
  await expect(job(page)).toContainText('line 4: type: `fax` is not voice, chat or email');
  await expectNoAxeViolations(page, 'the import page with an error report');
});

test('reloading the page during and after an import shows that job, not a second one', async ({ page }) => {
  await signInAs(page, ADMIN);
  await open(page, '/import');
  await chooseFile(page, 'big.csv', callsCsv(20_000, 'big'));
  await expect(page.getByLabel('Topic Line', { exact: true })).toHaveValue('title');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page).toHaveURL(/\/import$/);
  await expect(job(page)).toBeVisible();
  const id = await job(page).getAttribute('data-job');
  const phase = await job(page).getAttribute('data-phase');
  // 20,000 rows take a fraction of a second in a release build: the page may already show
  // the end, and the running state can end between two looks, so only the phase is asserted.
  expect(['Importing', 'Finished']).toContain(phase);
  await page.reload();
  await expect(job(page)).toHaveAttribute('data-job', id ?? '');
  await expect(job(page).getByRole('heading')).toHaveText('Imported: big.csv', { timeout: 60_000 });
  await expect(job(page)).toContainText('20000 rows read');
  await page.reload();
  await expect(job(page)).toHaveAttribute('data-job', id ?? '');
  await expect(job(page)).toContainText('20000 conversations written (20000 new, 0 changed)');
});

test('on a phone the page and its header fit the screen, with a preview', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await signInAs(page, ADMIN);
  await open(page, '/import');
  await chooseFile(page, 'calls.csv', callsCsv(3, 'phone'));
  await expect(page.getByRole('region', { name: 'Preview of the first rows' }).locator('tbody tr')).toHaveCount(3);
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth, `the page is ${scrollWidth}px wide in a ${innerWidth}px window`).toBeLessThanOrEqual(innerWidth);
  const banner = await page.getByRole('banner').boundingBox();
  expect((banner?.x ?? 0) + (banner?.width ?? 0)).toBeLessThanOrEqual(innerWidth);
});

test('Managers and Representatives are refused the page and the upload', async ({ page }) => {
  for (const email of ['manager@acme.example', 'rep@initech.example']) {
    await page.context().clearCookies();
    await signInAs(page, email);
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' })).toHaveCount(0);
    const answer = await page.goto('/import');
    expect(answer?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Not available to your role' })).toBeVisible();
    await expect(page.getByText('This is available to Admins only.')).toBeVisible();
    await expectNoAxeViolations(page, `the import page refused to ${email}`);
    const upload = await page.request.post('/import/upload', {
      multipart: { file: { name: 'calls.csv', mimeType: 'text/csv', buffer: callsCsv(2, 'refused') } },
    });
    expect(upload.status()).toBe(403);
  }
});
