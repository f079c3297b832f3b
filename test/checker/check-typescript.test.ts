// A .ts driver module runs through esbuild (its TypeScript imports bundled, `dmasim` kept
// external so there is one copy of the library), and its findings point at its .ts lines.
import { readdirSync } from 'node:fs';
import { expect, test } from 'vitest';
import { checkJson } from '../support/check-helpers.js';

test('a TypeScript driver is checked, with its own source lines, and leaves no bundle behind', { timeout: 120_000 }, () => {
  const { code, result } = checkJson('test/checker/fixtures/driver.ts', '--matrix', 'dma=direct', '--matrix', 'iommu=none', '--matrix', 'load=off');
  expect(code).toBe(1);
  expect(result.table.map((t) => t.verdict)).toEqual(['data corrupted', 'clean', 'clean']);
  expect(result.findings.map((f) => `${f.kind} ${f.siteLabel}`)).toEqual([
    'data corrupted test/checker/fixtures/helper.ts:11',
    'driver threw test/checker/fixtures/helper.ts:12',
  ]);
  const left = readdirSync(new URL('fixtures/', import.meta.url)).filter((f) => f.includes('dmasim-check'));
  expect(left).toEqual([]);
});
