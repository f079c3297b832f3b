// `dmasim --version` (and -V) prints the package's version.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { dmasim } from '../support/cli.js';

test('--version prints package.json\'s version', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = dmasim([flag]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${version}\n`);
  }
});
