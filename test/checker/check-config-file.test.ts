// --config file.json takes the command's options (the matrix as an object of dimension: values);
// an option given on the command line wins over the file's.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { checkJson } from '../support/check-helpers.js';

test('a --config file sets the matrix and seeds; the command line wins', { timeout: 120_000 }, () => {
  const file = join(tmpdir(), `dmasim-check-config-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ seeds: 2, matrix: { platform: ['x86_64'], dma: ['bounce'], iommu: ['none', 'strict'] }, jobs: 1 }));
  const fromFile = checkJson('examples/missing-sync-for-cpu.mjs', '--config', file).result;
  expect(fromFile.table.map((t) => `${t.configuration} ${t.verdict} ${t.failingSeeds}/${t.seeds}`)).toEqual([
    'x86_64/bounce/iommu-none/load-off data race 2/2',
    'x86_64/bounce/iommu-none/load-on data race 2/2',
    'x86_64/bounce/iommu-strict/load-off clean 0/2',
    'x86_64/bounce/iommu-strict/load-on clean 0/2',
  ]);
  const overridden = checkJson('examples/missing-sync-for-cpu.mjs', '--config', file, '--seeds', '1', '--matrix', 'load=off').result;
  expect(overridden.runs.map((r) => `${r.configuration} ${r.seed}`)).toEqual(['x86_64/bounce/iommu-none/load-off 1', 'x86_64/bounce/iommu-strict/load-off 1']);
  // Each run carries its whole configuration: the boot options and what the platform set on devices.
  expect(overridden.runs[1]?.options).toEqual({
    machine: { arch: 'x86_64', seed: 1, cmdline: 'iommu.strict=1', config: { DMA_API_DEBUG: true, ARCH_HAS_BATCHED_DMA_SYNC: false }, dataCheck: true, load: {} },
    device: { coherent: true, iommu: { pci: true }, busDmaLimit: '0xffffffff' },
  });
});
