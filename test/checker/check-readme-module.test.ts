// README's "Checking a driver" module, as written (its `dmasim` import pointed at dist/), is clean
// on the whole default matrix; without its dma_sync_single_for_cpu() the checker finds the bug.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

type Check = (driver: string, options?: object) => Promise<{ exitCode: number; table: { configuration: string; verdict: string }[] }>;

const root = new URL('../../', import.meta.url);

test('the README module is clean everywhere, and its missing sync is found', { timeout: 180_000 }, async () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const section = readme.slice(readme.indexOf('## Checking a driver'));
  const code = (/```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '').replace(/from 'dmasim'/g, `from '${new URL('dist/index.js', root).href}'`);
  expect(code).toContain('export default async function driver(m, ctx)');
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-readme-check-'));
  const good = join(dir, 'driver.mjs');
  const bad = join(dir, 'driver-without-sync.mjs');
  writeFileSync(good, code);
  writeFileSync(bad, code.replace(/^\s*dma_sync_single_for_cpu\(.*$/m, ''));
  const { checkDriver } = (await import(new URL('dist/check.js', root).href)) as { checkDriver: Check };
  const clean = await checkDriver(good, { jobs: 2 });
  expect(clean.exitCode).toBe(0);
  expect(clean.table).toHaveLength(72);
  const buggy = await checkDriver(bad, { jobs: 2, matrix: ['dma=direct', 'iommu=none'] });
  expect(buggy.exitCode).toBe(1);
  expect(buggy.table.filter((t) => t.verdict !== 'clean').map((t) => t.configuration)).toEqual(['arm64/direct/iommu-none/load-off', 'arm64/direct/iommu-none/load-on']);
});
