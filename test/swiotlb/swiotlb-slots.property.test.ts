// The swiotlb slot allocator (src/dma/swiotlb.ts: swiotlb_search_pool_area, take, swiotlb_release_slots) against the plain
// reference model in test/support/model/ref-swiotlb.ts, which restates kernel/dma/swiotlb.c's rules
// (swiotlb_tbl_map_single, swiotlb_find_slots, swiotlb_search_pool_area, swiotlb_release_slots)
// over a free-slot bitmap. Random sequences of maps (1..300000 bytes, alloc_align_mask 0, 0x7ff
// or 0xfff, devices with and without min_align_mask 0xfff, originals anywhere in the high bank),
// releases of live buffers and resets of io_tlb_used_hiwater, on swiotlb=512 and swiotlb=512,2.
// After every step: the same found / not-found decision and the same bounce address as the
// model; no two live buffers overlap; slots[i].list is the number of free slots from i to the
// next used slot or the segment end; orig_addr / pad_slots as the kernel records them;
// total_used exact and used_hiwater what inc_used_and_hiwater() makes it, monotonic between resets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMachine, DMA_ATTR_NO_WARN, DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_KERNEL } from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Swiotlb } from '../../src/dma/swiotlb.js';
import { IO_TLB_SIZE, RefSwiotlb, type RefBuffer } from '../support/model/ref-swiotlb.js';

type Op =
  | { readonly kind: 'map'; readonly size: number; readonly mask: number; readonly dev: number; readonly off: number }
  | { readonly kind: 'release'; readonly pick: number }
  | { readonly kind: 'reset' };

const BANK = 8 << 20;
const MAX_SIZE = 300_000;

const sizeArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 2048 }) },
  { weight: 3, arbitrary: fc.integer({ min: 2049, max: 16384 }) },
  { weight: 2, arbitrary: fc.integer({ min: 16385, max: MAX_SIZE }) },
  { weight: 3, arbitrary: fc.constantFrom(1, 2048, 2049, 4095, 4096, 4097, 262144, 262145) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('map' as const), size: sizeArb, mask: fc.constantFrom(0, 0x7ff, 0xfff), dev: fc.constantFrom(0, 1), off: fc.integer({ min: 0, max: BANK - MAX_SIZE - 1 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const) }) },
);

interface Live { readonly ref: RefBuffer; readonly dev: number; readonly size: number }

function hex(x: number): string {
  return `0x${x.toString(16)}`;
}

function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** Checks every slot and counter of dmasim's pool against the model (plain checks: this runs ~20000 times). */
function compare(s: Swiotlb, model: RefSwiotlb, live: readonly Live[], devs: readonly Device[]): void {
  for (let i = 0; i < s.nslabs; i++) {
    check(s.listAt(i) === model.freeRun(i), () => `list[${i}] = ${s.listAt(i)}, model free run ${model.freeRun(i)}`);
  }
  check(s.totalUsed === model.totalUsed, () => `totalUsed ${s.totalUsed}, model ${model.totalUsed}`);
  check(s.usedHiwater === model.hiwater, () => `usedHiwater ${s.usedHiwater}, model ${model.hiwater}`);
  // Live buffers as dmasim records them (swiotlb_release_slots' arithmetic), pairwise disjoint.
  const owner = new Int32Array(s.nslabs).fill(-1);
  live.forEach((l, n) => {
    const dev = devs[l.dev] as Device;
    const offset = l.ref.tlbAddr & (dev.dma_parms?.min_align_mask ?? 0) & (IO_TLB_SIZE - 1);
    let idx = Math.floor((l.ref.tlbAddr - offset - s.start) / IO_TLB_SIZE);
    idx -= s.padSlots[idx] as number;
    const nslots = Math.ceil(((s.allocSize[idx] as number) + offset) / IO_TLB_SIZE);
    check(idx === l.ref.found && nslots === l.ref.nslots, () => `buffer ${hex(l.ref.tlbAddr)}: slots ${idx}+${nslots}, model ${l.ref.found}+${l.ref.nslots}`);
    for (let j = idx; j < idx + nslots; j++) {
      check(owner[j] === -1, () => `slot ${j} belongs to two live buffers (${owner[j]} and ${n})`);
      owner[j] = n;
      check(s.listAt(j) === 0, () => `slot ${j} is in use but list = ${s.listAt(j)}`);
      // alloc_size is a size_t: the kernel's value modulo 2^32 in dmasim's Uint32Array.
      const want = (l.ref.size - l.ref.offset0 - (j - idx) * IO_TLB_SIZE) >>> 0;
      check(s.allocSize[j] === want, () => `allocSize[${j}] = ${s.allocSize[j]}, kernel ${want}`);
      const k = j - idx - l.ref.pad;
      const orig = k < 0 ? -1 : l.ref.orig + k * IO_TLB_SIZE;
      check(s.origAddr[j] === orig, () => `origAddr[${j}] = ${hex(s.origAddr[j] as number)}, kernel ${hex(orig)}`);
    }
    check(s.padSlots[idx + l.ref.pad] === l.ref.pad, () => `padSlots[${idx + l.ref.pad}] = ${s.padSlots[idx + l.ref.pad]}, kernel ${l.ref.pad}`);
  });
  for (let j = 0; j < s.nslabs; j++) {
    check(owner[j] !== -1 || s.origAddr[j] === -1, () => `free slot ${j} keeps orig_addr ${hex(s.origAddr[j] as number)}`);
  }
}

async function run(cmdline: string, ops: readonly Op[]): Promise<void> {
  const m = await createMachine({ cmdline, seed: 42, ram: [{ base: 0x4000_0000, size: BANK }, { base: 0x1_0000_0000, size: BANK }] });
  const s = m.swiotlb;
  if (s === null) throw new Error('no pool');
  const devs = [
    m.createDevice({ name: '0000:10:00.0', driver: 'plain' }),
    m.createDevice({ name: '0000:10:00.1', driver: 'nvme', minAlignMask: 0xfff }),
  ];
  const model = new RefSwiotlb(s.start, s.nslabs, s.nareas);
  const live: Live[] = [];
  let hiwater = 0;
  const bank = 0x1_0000_0000;
  for (const op of ops) {
    if (op.kind === 'map') {
      const dev = devs[op.dev] as Device;
      const orig = bank + op.off;
      const want = model.map(orig, op.size, op.mask, dev.dma_parms?.min_align_mask ?? 0);
      const got = s.swiotlb_tbl_map_single(dev, orig, op.size, op.mask, DMA_ATTR_NO_WARN);
      const desc = `map(${dev.driver}, ${hex(orig)}, ${op.size}, ${hex(op.mask)})`;
      if (want === null) {
        if (got !== DMA_MAPPING_ERROR) throw new Error(`${desc}: dmasim found slot ${(got - s.start) / IO_TLB_SIZE}, the kernel's rules find none`);
      } else {
        if (got !== want.tlbAddr) throw new Error(`${desc}: dmasim ${got === DMA_MAPPING_ERROR ? 'failed' : hex(got)}, model ${hex(want.tlbAddr)} (slot ${want.found})`);
        live.push({ ref: want, dev: op.dev, size: op.size });
      }
    } else if (op.kind === 'release') {
      if (live.length === 0) continue;
      const [l] = live.splice(op.pick % live.length, 1) as [Live];
      s.swiotlb_tbl_unmap_single(devs[l.dev] as Device, l.ref.tlbAddr, l.size, DMA_TO_DEVICE, 0);
      model.release(l.ref.tlbAddr);
    } else {
      m.debugfs.write('/sys/kernel/debug/swiotlb/io_tlb_used_hiwater', '0\n');
      model.resetHiwater();
      hiwater = 0;
    }
    check(s.usedHiwater >= hiwater, () => `usedHiwater fell from ${hiwater} to ${s.usedHiwater} without a reset`);
    hiwater = s.usedHiwater;
    compare(s, model, live, devs);
  }
  expect(m.dmesg().filter((l) => l.startsWith('WARNING: '))).toEqual([]);
  m.kfree(m.kmalloc(1, GFP_KERNEL)); // the machine is still sane
}

describe('swiotlb slot allocator against the reference model', () => {
  for (const cmdline of ['swiotlb=512', 'swiotlb=512,2']) {
    it(`same slots, same counters, no overlap (${cmdline})`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 400, size: 'max' }), (ops) => run(cmdline, ops)), { seed: 42, numRuns: 100 });
    });
  }
});
