// The IOMMU back end's own cost: dma_map_single + dma_unmap_single of a 4 KiB buffer behind the
// IOMMU once the IOVA rcache is warm (every map pops the IOVA the previous unmap pushed), strict
// and lazy, beside the same pair on dma-direct; and dma_map_sg / dma_unmap_sg of 64 x 4 KiB pages
// with the segments they merge into and the IOTLB flushes each mode issues. Coherent x86_64
// devices, so that no cache maintenance is in the figures. Every time is printed beside an empty
// JS->WASM call loop measured in the same run.

import { createMachine, type Machine } from '../src/machine.js';
import type { Device } from '../src/dma/device.js';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../src/include/dma-mapping.js';
import { dma_map_sg, dma_map_single, dma_set_mask_and_coherent, dma_unmap_sg, dma_unmap_single } from '../src/dma/mapping.js';
import { GFP_KERNEL } from '../src/mm/gfp.js';
import { sg_init_table, sg_set_buf } from '../src/dma/scatterlist.js';
import { measure, report, type Row } from './util.js';

const SUITE = 'iommu';
const rows: Row[] = [];
const PAIRS = 10_000;
const SG_ROUNDS = 200;
const NENTS = 64;

async function machine(cmdline: string): Promise<{ m: Machine; dev: Device }> {
  const m = await createMachine({ arch: 'x86_64', cmdline });
  const dev = m.createDevice({ name: 'nic0', driver: 'iommu_bench', iommu: cmdline !== 'direct' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('dma_set_mask_and_coherent failed');
  return { m, dev };
}

function pairJob(name: string, m: Machine, dev: Device): { name: string; ops: number; fn: () => void } {
  const buf = m.kmalloc(4096, GFP_KERNEL);
  const probe = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
  if (probe === DMA_MAPPING_ERROR) throw new Error(`${name}: dma_map_single failed`);
  dma_unmap_single(dev, probe, 4096, DMA_TO_DEVICE);
  return {
    name,
    ops: PAIRS,
    fn: () => {
      for (let i = 0; i < PAIRS; i++) dma_unmap_single(dev, dma_map_single(dev, buf, 4096, DMA_TO_DEVICE), 4096, DMA_TO_DEVICE);
    },
  };
}

const base = await createMachine({ arch: 'x86_64' });
const CALLS = 20_000;
const direct = await machine('direct');
const strict = await machine('iommu.strict=1');
const lazy = await machine('iommu.strict=0');

const sgl = sg_init_table(NENTS);
for (const s of sgl) sg_set_buf(s, strict.m.kmalloc(4096, GFP_KERNEL), 4096);
const sglLazy = sg_init_table(NENTS);
for (const s of sglLazy) sg_set_buf(s, lazy.m.kmalloc(4096, GFP_KERNEL), 4096);
let segments = 0;
const sgJob = (name: string, dev: Device, list: typeof sgl) => ({
  name,
  ops: SG_ROUNDS,
  fn: () => {
    for (let i = 0; i < SG_ROUNDS; i++) {
      segments = dma_map_sg(dev, list, NENTS, DMA_TO_DEVICE);
      dma_unmap_sg(dev, list, NENTS, DMA_TO_DEVICE);
    }
  },
});

const t = await measure([
  { name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) base.core.noop(); } },
  pairJob('direct', direct.m, direct.dev),
  pairJob('strict', strict.m, strict.dev),
  pairJob('lazy', lazy.m, lazy.dev),
  sgJob('sg strict', strict.dev, sgl),
  sgJob('sg lazy', lazy.dev, sglLazy),
]);
const callNs = t.get('noop') ?? NaN;
const directNs = t.get('direct') ?? NaN;
rows.push({ suite: SUITE, name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });
rows.push({ suite: SUITE, name: 'map+unmap 4 KiB, dma-direct', value: directNs, unit: 'ns/pair', ratio: directNs / callNs, baseline: 'empty calls' });
for (const mode of ['strict', 'lazy'] as const) {
  const ns = t.get(mode) ?? NaN;
  rows.push({ suite: SUITE, name: `map+unmap 4 KiB, IOMMU ${mode}, rcache hit`, value: ns, unit: 'ns/pair', ratio: ns / callNs, baseline: 'empty calls', goal: '<= 15x' });
  rows.push({ suite: SUITE, name: `  same, against dma-direct`, value: ns / directNs, unit: 'x' });
}

// Flushes per sg round, counted on fresh machines so the pairs above do not mix in.
for (const cmdline of ['iommu.strict=1', 'iommu.strict=0']) {
  const { m, dev } = await machine(cmdline);
  const list = sg_init_table(NENTS);
  for (const s of list) sg_set_buf(s, m.kmalloc(4096, GFP_KERNEL), 4096);
  const before = m.stats().iotlbFlushes;
  for (let i = 0; i < 1000; i++) {
    dma_map_sg(dev, list, NENTS, DMA_TO_DEVICE);
    dma_unmap_sg(dev, list, NENTS, DMA_TO_DEVICE);
  }
  const mode = cmdline.endsWith('1') ? 'strict' : 'lazy';
  const ns = t.get(`sg ${mode}`) ?? NaN;
  rows.push({ suite: SUITE, name: `dma_map_sg+unmap 64 x 4 KiB, ${mode}`, value: ns / 1000, unit: 'us/round', ratio: ns / callNs, baseline: 'empty calls' });
  rows.push({ suite: SUITE, name: `  segments after merging (of ${NENTS})`, value: segments, unit: 'segs' });
  rows.push({ suite: SUITE, name: `  IOTLB flushes per 1000 rounds, ${mode}`, value: m.stats().iotlbFlushes - before, unit: 'flushes' });
}
report(rows);
