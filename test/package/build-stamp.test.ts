// The build stamp lets `npm test` and `npm start` skip a build that would change nothing: it is a
// hash of every input of the build (sources, engine, scripts, configs, lockfile), and of nothing
// else (a test edit must not cost a rebuild).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs build script, without declarations
import { inputHash } from '../../scripts/build-stamp.mjs';

const hash = inputHash as (dir?: string) => string;

test('the stamp npm test just checked is the hash of today\'s inputs', () => {
  expect(readFileSync(new URL('../../dist/.build-stamp', import.meta.url), 'utf8').trim()).toBe(hash());
});

test('a source edit changes the hash; a test edit does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-stamp-'));
  for (const d of ['src', 'assembly', 'test']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'src/a.ts'), 'export const a = 1;');
  writeFileSync(join(dir, 'assembly/b.ts'), 'export const b = 1;');
  writeFileSync(join(dir, 'test/a.test.ts'), '');
  const before = hash(dir);
  writeFileSync(join(dir, 'test/a.test.ts'), 'changed');
  expect(hash(dir)).toBe(before);
  writeFileSync(join(dir, 'src/a.ts'), 'export const a = 2;');
  const afterSrc = hash(dir);
  expect(afterSrc).not.toBe(before);
  writeFileSync(join(dir, 'assembly/b.ts'), 'export const b = 2;');
  expect(hash(dir)).not.toBe(afterSrc);
});
