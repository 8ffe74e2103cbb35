import { defineConfig, devices } from '@playwright/test';
import { MANAGER_STATE } from './tests/helpers';

// The browser tests drive Debian's Chromium (Playwright's own browser download cannot reach
// its servers here) against the release build, served on its own port with a fixed dataset.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 7_000 },
  fullyParallel: false,
  workers: process.env.CI ? 1 : 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    // Signs in once as a manager and keeps the cookie for the tests that act as one.
    { name: 'sign-in', testMatch: /sign-in\.setup\.ts/, use: { launchOptions: chromiumLaunch } },
    {
      name: 'chromium',
      dependencies: ['sign-in'],
      use: {
        ...devices['Desktop Chrome'],
        storageState: MANAGER_STATE,
        launchOptions: chromiumLaunch,
      },
    },
  ],
  webServer: {
    command: 'bash ./serve-fixture.sh',
    url: `${baseURL}/healthz`,
    env: { E2E_ADDR: `127.0.0.1:${port}`, RUST_LOG: 'warn' },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
