// What checking costs: dma_map_single + dma_mapping_error + dma_unmap_single pairs of a 1500 B
// buffer with CONFIG_DMA_API_DEBUG off and on, and with the data-aware checker on, while 65,536
// other mappings are live: a NIC's receive rings, one mapping per 2 KiB buffer over 128 MiB, so
// every 8 KiB hash bucket holds 4 of them (the measured buffer shares one) and the debug entry
// pool is full. On a coherent x86_64 device and on a non-coherent arm64 device, TO_DEVICE and
// FROM_DEVICE (the latter also exercises the active-cacheline tracker). Ratios are to the same
// workload with the checkers off; each figure is the median of 3 runs, each in a process of its own.
// Also what dma-debug adds to a boot (dma_debug_init()'s 2,048 pages of entries), as a ratio to
// the same machine booted without it.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMachine, type Machine } from '../src/machine.js';
import type { Device } from '../src/dma/device.js';
import { DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, type DmaDirection } from '../src/include/dma-mapping.js';
import { dma_map_phys, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent, dma_unmap_single } from '../src/dma/mapping.js';
import { GFP_KERNEL } from '../src/mm/gfp.js';
import { measure, report, type Row } from './util.js';

const SUITE = 'debug';
const LIVE = 65536;
const CHUNK = 128;
const STRIDE = 2048;
const BLOCK = 4 << 20; // order-10 pages
const PAIRS = 5_000;
const LEN = 1500;

type Mode = 'off' | 'dma-debug' | 'data-check';

interface Rig {
  readonly m: Machine;
  readonly dev: Device;
  /** The measured buffer, in the middle of the live mappings. */
  readonly buf: number;
}

async function rig(arch: 'arm64' | 'x86_64', mode: Mode): Promise<Rig> {
  const m = await createMachine({
    arch,
    ram: [{ base: 0x4000_0000, size: 64 << 20 }, { base: 0x1_0000_0000, size: 256 << 20 }],
    config: { DMA_API_DEBUG: mode === 'dma-debug' },
    dataCheck: mode === 'data-check',
  });
  const dev = m.createDevice({ name: '0000:03:00.0', driver: 'debug_bench' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('dma_set_mask_and_coherent failed');
  let first = 0;
  for (let mapped = 0; mapped < LIVE;) {
    const page = m.alloc_pages(GFP_KERNEL, 10);
    if (page === null) throw new Error('out of pages for the live mappings');
    const phys = m.page_to_phys(page);
    if (first === 0) first = phys;
    for (let off = 0; off < BLOCK && mapped < LIVE; off += STRIDE, mapped++) {
      const h = dma_map_phys(dev, phys + off, CHUNK, DMA_TO_DEVICE);
      if (dma_mapping_error(dev, h)) throw new Error('a live mapping failed');
    }
  }
  if (mode === 'dma-debug' && m.debugfs.read('/sys/kernel/debug/dma-api/num_free_entries') !== '0\n') throw new Error('the entry pool should be full');
  // Between two live buffers of one bucket, 2 MiB into the first block.
  return { m, dev, buf: m.phys_to_virt(first + (2 << 20) + CHUNK) };
}

function pairs(r: Rig, dir: DmaDirection): () => void {
  const { dev, buf } = r;
  const probe = dma_map_single(dev, buf, LEN, dir);
  if (probe === DMA_MAPPING_ERROR) throw new Error('dma_map_single failed');
  dma_mapping_error(dev, probe);
  dma_unmap_single(dev, probe, LEN, dir);
  return () => {
    for (let i = 0; i < PAIRS; i++) {
      const a = dma_map_single(dev, buf, LEN, dir);
      if (dma_mapping_error(dev, a)) throw new Error('dma_map_single failed');
      dma_unmap_single(dev, a, LEN, dir);
    }
  };
}

const MODES: readonly Mode[] = ['off', 'dma-debug', 'data-check'];
const CASES = [['x86_64', DMA_TO_DEVICE, 'x86_64 coherent TO_DEVICE'], ['arm64', DMA_TO_DEVICE, 'arm64 TO_DEVICE'], ['arm64', DMA_FROM_DEVICE, 'arm64 FROM_DEVICE']] as const;

/**
 * Each (case, mode) runs in a process of its own, as each would be a kernel of its own: in one
 * process the three modes would share the DMA API's call sites, and V8 would make them
 * polymorphic for all three.
 */
async function child(arch: 'arm64' | 'x86_64', dir: DmaDirection, mode: Mode): Promise<void> {
  const r = await rig(arch, mode);
  const ns = await measure([{ name: mode, ops: PAIRS, fn: pairs(r, dir) }]);
  process.stdout.write(`${ns.get(mode) ?? NaN}\n`);
}

const BOOTS = 30;
/** The bench's machine booted BOOTS times: the median time of one boot, in ms. */
async function boots(debug: boolean): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < BOOTS; i++) {
    const t0 = performance.now();
    await createMachine({ arch: 'arm64', ram: [{ base: 0x4000_0000, size: 64 << 20 }, { base: 0x1_0000_0000, size: 256 << 20 }], config: { DMA_API_DEBUG: debug } });
    ms.push(performance.now() - t0);
  }
  process.stdout.write(`${ms.sort((a, b) => a - b)[BOOTS >> 1] ?? NaN}\n`);
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] as 'arm64' | 'x86_64', Number(process.argv[4]) as DmaDirection, process.argv[5] as Mode);
} else if (process.argv[2] === 'boot') {
  await boots(process.argv[3] === 'dma-debug');
} else {
  const rows: Row[] = [];
  const self = fileURLToPath(import.meta.url);
  const run = (arch: string, dir: number, mode: Mode): number =>
    Number(execFileSync(process.execPath, [self, 'child', arch, String(dir), mode], { encoding: 'utf8' }).trim());
  // Rounds of the three modes in turn, and the median of each: the figures are tens of ns, and a
  // busy machine moves a single one by half of that.
  const ROUNDS = 3;
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
  for (const [arch, dir, label] of CASES) {
    const samples: number[][] = MODES.map(() => []);
    for (let k = 0; k < ROUNDS; k++) MODES.forEach((mode, i) => samples[i]?.push(run(arch, dir, mode)));
    const [off, dbg, dc] = samples.map(median) as [number, number, number];
    const name = `map+check+unmap 1500 B, ${label}`;
    rows.push({ suite: SUITE, name: `${name}, checkers off`, value: off, unit: 'ns/pair' });
    rows.push({ suite: SUITE, name: `${name}, DMA_API_DEBUG`, value: dbg, unit: 'ns/pair', ratio: dbg / off, baseline: 'of off', goal: '<= 1.5x' });
    rows.push({ suite: SUITE, name: `${name}, data checker`, value: dc, unit: 'ns/pair', ratio: dc / off, baseline: 'of off', goal: '<= 1.5x' });
  }
  const boot = (mode: Mode): number => Number(execFileSync(process.execPath, [self, 'boot', mode], { encoding: 'utf8' }).trim());
  const bootSamples: [number[], number[]] = [[], []];
  for (let k = 0; k < ROUNDS; k++) {
    bootSamples[0].push(boot('off'));
    bootSamples[1].push(boot('dma-debug'));
  }
  const [plain, debug] = bootSamples.map(median) as [number, number];
  rows.push({ suite: SUITE, name: 'boot, checkers off', value: plain, unit: 'ms' });
  rows.push({ suite: SUITE, name: 'boot, DMA_API_DEBUG', value: debug, unit: 'ms', ratio: debug / plain, baseline: 'of off' });
  report(rows);
}
