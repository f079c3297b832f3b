// swiotlb's own cost (kernel/dma/swiotlb.c): dma_map_single + dma_unmap_single of a 1500 B
// buffer that a 32-bit device must bounce (slot search, original -> bounce memcpy, release),
// the bounce copy's bandwidth at 64 KiB and 256 KiB timed through
// dma_sync_single_for_device(TO_DEVICE) on a live bounced mapping (exactly one original -> bounce
// memcpy plus the clean of the slot) against Buffer.copy of the same size, and the slot search
// with the default pool 50 % fragmented in alternating single slots: a 2-slot map that scans the
// whole area and fails, and a 1-slot map + unmap that succeeds at once. Every figure is printed
// beside a baseline measured in the same run.

import { createMachine, type Machine } from '../src/machine.js';
import type { Device } from '../src/dma/device.js';
import { DMA_ATTR_NO_WARN, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, type DmaDirection } from '../src/include/dma-mapping.js';
import { dma_map_single, dma_set_mask, dma_sync_single_for_device, dma_unmap_single } from '../src/dma/mapping.js';
import { GFP_KERNEL } from '../src/mm/gfp.js';
import { measure, report, type Row } from './util.js';

const SUITE = 'swiotlb';
const rows: Row[] = [];

/** The article's device: dma_set_mask(DMA_BIT_MASK(32)), so every high-bank buffer bounces. */
function device32(m: Machine, name: string): Device {
  const dev = m.createDevice({ name, driver: 'swiotlb_bench' });
  if (dma_set_mask(dev, DMA_BIT_MASK(32)) !== 0) throw new Error('dma_set_mask(32) failed');
  return dev;
}

/** A kmalloc buffer above 4 GiB, written once so that its pages hold data. */
function highBuffer(m: Machine, size: number): number {
  const buf = m.kmalloc(size, GFP_KERNEL);
  if (m.virt_to_phys(buf) < 2 ** 32) throw new Error('expected a buffer above 4 GiB');
  m.cpu.fill(buf, size, 0x5a);
  return buf;
}

function mustMap(m: Machine, dev: Device, buf: number, size: number, dir: DmaDirection): number {
  const h = dma_map_single(dev, buf, size, dir);
  if (h === DMA_MAPPING_ERROR || !m.swiotlb?.is_swiotlb_buffer(h)) throw new Error(`map of ${size} B did not bounce`);
  return h;
}

// ---- baseline: an empty JS->WASM call ------------------------------------------------------------

const m = await createMachine({ seed: 1 }); // default arm64: non-coherent, 16384-slot pool
const CALLS = 20_000;
const calls = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) m.core.noop(); } }]);
const callNs = calls.get('noop') ?? NaN;
rows.push({ suite: SUITE, name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

// ---- map + unmap of a bounced 1500 B buffer ------------------------------------------------------

const PAIRS = 10_000;
const LEN = 1500;
const dev = device32(m, '0000:20:00.0');
const x86 = await createMachine({ arch: 'x86_64', seed: 1 });
const devX86 = device32(x86, '0000:20:00.1');

function pairJob(name: string, mm: Machine, d: Device, dir: DmaDirection): { name: string; ops: number; fn: () => void } {
  const buf = highBuffer(mm, LEN);
  dma_unmap_single(d, mustMap(mm, d, buf, LEN, dir), LEN, dir);
  return {
    name, ops: PAIRS,
    fn: () => {
      for (let i = 0; i < PAIRS; i++) dma_unmap_single(d, dma_map_single(d, buf, LEN, dir), LEN, dir);
    },
  };
}

const slotOrig = m.virt_to_phys(highBuffer(m, LEN));
const pairs = await measure([
  {
    // swiotlb alone: Swiotlb.mapSingle + unmapSingle (search, take, 1500 B memcpy, release).
    name: 'arm64 swiotlb only', ops: PAIRS,
    fn: () => { const s0 = m.swiotlb; if (s0 === null) return; for (let i = 0; i < PAIRS; i++) s0.swiotlb_tbl_unmap_single(dev, s0.swiotlb_tbl_map_single(dev, slotOrig, LEN, 0, 0), LEN, DMA_TO_DEVICE, 0); },
  },
  pairJob('arm64 TO_DEVICE', m, dev, DMA_TO_DEVICE),
  pairJob('arm64 FROM_DEVICE', m, dev, DMA_FROM_DEVICE),
  pairJob('x86_64 TO_DEVICE', x86, devX86, DMA_TO_DEVICE),
]);
for (const [name, ns] of pairs) {
  rows.push({
    suite: SUITE, name: `map+unmap bounced 1500 B, ${name}`, value: ns, unit: 'ns/pair', ratio: ns / callNs,
    baseline: 'empty calls', goal: name.endsWith('only') ? undefined : '<= 40x',
  });
}

// ---- bounce bandwidth: dma_sync_single_for_device(TO_DEVICE) = one memcpy + one clean --------------
// Two cases: the original cold in RAM (cleaned and invalidated first, the engine's best case) and
// the original dirty in the cache, as right after the CPU filled a TX buffer (the memcpy then
// reads every line from the cache).

for (const size of [64 << 10, 256 << 10]) {
  for (const state of ['cold', 'dirty'] as const) {
    const buf = highBuffer(m, size);
    const phys = m.virt_to_phys(buf);
    const h = mustMap(m, dev, buf, size, DMA_TO_DEVICE);
    if (state === 'cold') m.cache.cleanInvalidate(phys, size);
    const reps = Math.max(1, Math.floor((8 << 20) / size));
    const a = Buffer.alloc(size, 0x5a);
    const b = Buffer.alloc(size, 0xa5);
    const before = m.stats().bounceBytes;
    dma_sync_single_for_device(dev, h, size, DMA_TO_DEVICE);
    if (m.stats().bounceBytes - before !== size) throw new Error('the sync did not copy exactly once');
    const r = await measure([
      { name: 'sync', ops: reps, fn: () => { for (let i = 0; i < reps; i++) dma_sync_single_for_device(dev, h, size, DMA_TO_DEVICE); } },
      { name: 'Buffer.copy', ops: reps, fn: () => { for (let i = 0; i < reps; i++) a.copy(b, 0, 0, size); } },
    ]);
    const ns = r.get('sync') ?? NaN;
    const base = r.get('Buffer.copy') ?? NaN;
    rows.push({
      suite: SUITE, name: `bounce ${size >> 10} KiB sync_for_device, orig ${state}`, value: size / ns, unit: 'GB/s',
      ratio: base / ns, baseline: 'of Buffer.copy', goal: '>= 0.8x',
    });
    dma_unmap_single(dev, h, size, DMA_TO_DEVICE);
    m.kfree(buf);
  }
}

// ---- slot search with the pool 50 % fragmented -----------------------------------------------------

const s = m.swiotlb;
if (s === null) throw new Error('no swiotlb pool');
const orig = m.virt_to_phys(highBuffer(m, 8192));
const held: number[] = [];
while (true) {
  const t = s.swiotlb_tbl_map_single(dev, orig, 100, 0, DMA_ATTR_NO_WARN);
  if (t === DMA_MAPPING_ERROR) break;
  held.push(t);
}
if (held.length !== s.nslabs) throw new Error(`filled ${held.length} of ${s.nslabs} slots`);
for (let i = 0; i < held.length; i += 2) s.swiotlb_tbl_unmap_single(dev, held[i] as number, 100, DMA_TO_DEVICE, 0);
if (s.totalUsed !== s.nslabs / 2) throw new Error('not 50 % used');
if (s.swiotlb_tbl_map_single(dev, orig, 3000, 0, DMA_ATTR_NO_WARN) !== DMA_MAPPING_ERROR) throw new Error('a 2-slot map fit');

const FAILS = 50;
const OKS = 10_000;
const search = await measure([
  { name: 'fail', ops: FAILS, fn: () => { for (let i = 0; i < FAILS; i++) s.swiotlb_tbl_map_single(dev, orig, 3000, 0, DMA_ATTR_NO_WARN); } },
  {
    name: 'ok', ops: OKS,
    fn: () => { for (let i = 0; i < OKS; i++) s.swiotlb_tbl_unmap_single(dev, s.swiotlb_tbl_map_single(dev, orig, 100, 0, DMA_ATTR_NO_WARN), 100, DMA_TO_DEVICE, 0); },
  },
]);
const failNs = search.get('fail') ?? NaN;
const okNs = search.get('ok') ?? NaN;
rows.push({ suite: SUITE, name: '50 % fragmented: failing 2-slot map', value: failNs / 1000, unit: 'us/map', ratio: failNs / callNs, baseline: 'empty calls' });
rows.push({ suite: SUITE, name: '50 % fragmented: ns per slot checked', value: failNs / s.nslabs, unit: 'ns/slot' });
rows.push({ suite: SUITE, name: '50 % fragmented: 1-slot map+unmap (ok)', value: okNs, unit: 'ns/pair', ratio: okNs / callNs, baseline: 'empty calls' });
if (s.totalUsed !== s.nslabs / 2) throw new Error('the search loop leaked slots');

report(rows);
