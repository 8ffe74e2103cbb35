import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs the release binary's command line against the database the test server is serving
 *  (serve-fixture.sh creates it), and returns what it printed. Throws if the command fails. */
export function serverCli(...args: string[]): string {
  return serverCliWithInput('', ...args);
}

/** The same, with `input` on the command's standard input (a password for `--password-stdin`). */
export function serverCliWithInput(input: string, ...args: string[]): string {
  return execFileSync(path.join(root, 'target', 'release', 'server'), args, {
    input,
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${path.join(root, 'end2end', '.e2e', 'fixture.db')}`,
      RUST_LOG: 'warn',
    },
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 20_000,
  });
}

/** A name no other test, worker or earlier run uses: for saved views and custom fields. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
