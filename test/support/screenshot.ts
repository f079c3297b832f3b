// Where a test saves its screenshot. `npm run screenshots` (DMASIM_SCREENSHOTS=docs) writes the
// pictures README shows, docs/<name>; a plain `npm test` writes build/screenshots/<name>, so a
// test run leaves the tracked pictures alone (Chromium's PNG bytes differ from run to run).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function screenshotPath(name: string): string {
  const dir = process.env.DMASIM_SCREENSHOTS === 'docs' ? join(root, 'docs') : join(root, 'build', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
