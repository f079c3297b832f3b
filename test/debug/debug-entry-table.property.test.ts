// Property: dma-debug's entry table against a short reference model of kernel/dma/debug.c (Linux
// 7.1): the live entries in the order they were added, looked up the way __hash_bucket_find()
// looks (exact_match() for check_unmap() and get_nr_mapped_entries(), containing_match() for
// check_sync(), walking bucket_find_contain()'s earlier buckets), with the best-fit rule (the first
// entry matching on every field, else the only match, else none), debug_dma_mapping_error()
// marking the first unchecked exact match, and the entry pool's counts (dma_entry_alloc(),
// dma_debug_create_entries() a page of 32 at a time). The model is a plain array; the checker's
// hash buckets, free list and lookup shortcuts must agree with it on every report, on the debugfs
// counts and on the dump (hash-bucket order, then insertion order).
//
// Two devices and a 64 KiB buffer of a few chosen offsets and sizes, so that addresses repeat
// (duplicate mappings), share buckets, and a mapping reaches into the next bucket.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
  dma_map_single, dma_mapping_error, dma_set_mask_and_coherent, dma_sync_single_for_cpu, dma_unmap_single,
} from '../../src/index.js';
import { dir2name, type DmaDirection } from '../../src/include/dma-mapping.js';
import { allErrors, DMA_API, rig, warnings } from '../support/debug-helpers.js';

/** debug.c's HASH_SIZE and HASH_FN_SHIFT: 16,384 buckets of 8 KiB of DMA address. */
const HASH_SIZE = 16384;
const BUCKET_BYTES = 8192;
const bucketOf = (addr: number): number => Math.floor(addr / BUCKET_BYTES) % HASH_SIZE;

const OFFSETS = [0, 64, 8128, 8192, 8256] as const;
const SIZES = [64, 128, 8320] as const;
const DIRS = [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as const;

interface Entry { dev: number; addr: number; size: number; dir: DmaDirection; checked: boolean }

/** The reference model (all entries are `phy` ones, as debug_dma_map_phys() makes them for dma_map_single()). */
class Model {
  readonly live: Entry[] = [];
  total = 32;
  minFree = 32;
  readonly reports: string[] = [];

  /** __hash_bucket_find()'s best fit among the candidates, in bucket order. */
  private bestFit(cands: readonly Entry[], size: number, dir: number): Entry | undefined {
    const perfect = cands.find((e) => e.size === size && e.dir === dir);
    return perfect ?? (cands.length === 1 ? cands[0] : undefined);
  }

  private exact(dev: number, addr: number, size: number, dir: number): Entry | undefined {
    return this.bestFit(this.live.filter((e) => e.dev === dev && e.addr === addr), size, dir);
  }

  /** bucket_find_contain(): the address's bucket, then earlier ones. */
  private contain(dev: number, addr: number, size: number, dir: number): Entry | undefined {
    for (let b = bucketOf(addr), i = 0; i < Math.min(HASH_SIZE, Math.floor(addr / BUCKET_BYTES) + 1); i++, b = (b - 1 + HASH_SIZE) % HASH_SIZE) {
      const cands = this.live.filter((e) => bucketOf(e.addr) === b && e.dev === dev && e.addr <= addr && e.addr + e.size >= addr + size);
      const e = this.bestFit(cands, size, dir);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  /** debug_dma_mapping_error() */
  check(dev: number, addr: number): void {
    const e = this.live.find((x) => x.dev === dev && x.addr === addr && !x.checked);
    if (e !== undefined) e.checked = true;
  }

  /** debug_dma_map_phys(): dma_mapping_error() of the address, then a new unchecked entry. */
  map(dev: number, addr: number, size: number, dir: DmaDirection): void {
    this.check(dev, addr);
    if (this.live.length === this.total) this.total += 32;
    this.live.push({ dev, addr, size, dir, checked: false });
    this.minFree = Math.min(this.minFree, this.total - this.live.length);
  }

  /** check_unmap(): its reports, in its order; the entry goes either way. */
  unmap(dev: number, addr: number, size: number, dir: number): void {
    const e = this.exact(dev, addr, size, dir);
    if (e === undefined) {
      this.check(dev, addr);
      this.reports.push('free not allocated');
      return;
    }
    if (e.size !== size) this.reports.push('free size');
    if (e.dir !== dir) this.reports.push('free direction');
    if (!e.checked) this.reports.push('free unchecked');
    this.live.splice(this.live.indexOf(e), 1);
  }

  /** check_sync(..., to_cpu = true) */
  syncForCpu(dev: number, addr: number, size: number, dir: number): void {
    const e = this.contain(dev, addr, size, dir);
    if (e === undefined) {
      this.reports.push('sync not allocated');
      return;
    }
    if (e.dir === DMA_BIDIRECTIONAL) return;
    if (dir !== e.dir) this.reports.push('sync direction');
    if (e.dir !== DMA_FROM_DEVICE && dir !== DMA_TO_DEVICE) this.reports.push('sync read-only');
  }

  /** dump_show()'s lines, reduced to what the model knows. */
  dump(names: readonly string[]): string[] {
    const order = this.live.map((e, i) => ({ e, i })).sort((a, b) => bucketOf(a.e.addr) - bucketOf(b.e.addr) || a.i - b.i);
    return order.map(({ e }) => `${names[e.dev]} ${bucketOf(e.addr)} ${e.addr.toString(16)} ${e.size.toString(16)} ${dir2name[e.dir]} ${e.checked ? 'checked' : 'not checked'}`);
  }
}

/** What each of check_unmap()'s and check_sync()'s reports says, as the model names it. */
const KINDS: readonly (readonly [RegExp, string])[] = [
  [/tries to free DMA memory it has not allocated/, 'free not allocated'],
  [/frees DMA memory with different size/, 'free size'],
  [/frees DMA memory with different direction/, 'free direction'],
  [/failed to check map error/, 'free unchecked'],
  [/tries to sync DMA memory it has not allocated/, 'sync not allocated'],
  [/syncs DMA memory with different direction/, 'sync direction'],
  [/syncs device read-only DMA memory for cpu/, 'sync read-only'],
];

const kindOf = (line: string): string => KINDS.find(([re]) => re.test(line))?.[1] ?? line;

/** The dump's lines, reduced to the same fields. */
function dumpFields(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const m = /^\S+ (\S+) phy idx (\d+) P=\S+ D=([0-9a-f]+) L=([0-9a-f]+) cln=\S+ (DMA_\w+) dma map error (checked|not checked)$/.exec(l);
    if (m === null) throw new Error(`unexpected dump line ${l}`);
    return `${m[1]} ${m[2]} ${m[3]} ${m[4]} ${m[5]} ${m[6]}`;
  });
}

const idx = (n: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: n - 1 });
const op = fc.record({
  kind: fc.constantFrom('map', 'map', 'map', 'check', 'check', 'unmap', 'unmapLive', 'unmapLive', 'sync'),
  dev: idx(2), off: idx(OFFSETS.length), size: idx(SIZES.length), dir: idx(DIRS.length), pick: fc.nat(),
});

test('the entry table finds, marks and frees the entries the reference model does', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80 }), async (ops) => {
      const { m, dev } = await rig({ arch: 'x86_64', ram: [{ base: 0x4000_0000, size: 16 << 20 }], cmdline: 'dma_debug_entries=32' });
      allErrors(m);
      const other = m.createDevice({ name: '0000:02:00.0', driver: 'othernic' });
      dma_set_mask_and_coherent(other, DMA_BIT_MASK(64));
      const devs = [dev, other];
      const page = m.alloc_pages(GFP_KERNEL, 4);
      if (page === null) throw new Error('no 64 KiB block');
      const base = m.page_to_phys(page);
      const model = new Model();
      for (const o of ops) {
        const d = devs[o.dev]!;
        const size = SIZES[o.size]!;
        const dir = DIRS[o.dir]!;
        const addr = base + OFFSETS[o.off]!;
        if (o.kind === 'map') {
          expect(dma_map_single(d, m.phys_to_virt(addr), size, dir)).toBe(addr);
          model.map(o.dev, addr, size, dir);
        } else if (o.kind === 'check') {
          dma_mapping_error(d, addr);
          model.check(o.dev, addr);
        } else if (o.kind === 'unmap') {
          dma_unmap_single(d, addr, size, dir);
          model.unmap(o.dev, addr, size, dir);
        } else if (o.kind === 'unmapLive') {
          // Mostly one of the newest, as a driver unmaps what it has just mapped.
          const e = model.live[model.live.length - 1 - (o.pick % (o.pick % 4 === 0 ? Math.max(model.live.length, 1) : 2))];
          if (e === undefined) continue;
          dma_unmap_single(devs[e.dev]!, e.addr, e.size, e.dir);
          model.unmap(e.dev, e.addr, e.size, e.dir);
        } else {
          const at = addr + (o.pick % 2) * 64;
          dma_sync_single_for_cpu(d, at, size / 2, dir);
          model.syncForCpu(o.dev, at, size / 2, dir);
        }
      }
      expect(warnings(m.dmesg()).map(kindOf)).toEqual(model.reports);
      const r = (f: string): number => Number(m.debugfs.read(`${DMA_API}/${f}`));
      expect([r('nr_total_entries'), r('num_free_entries'), r('min_free_entries')])
        .toEqual([model.total, model.total - model.live.length, model.minFree]);
      expect(dumpFields(m.debugfs.read(`${DMA_API}/dump`))).toEqual(model.dump(devs.map((x) => x.name)));
    }),
    { seed: 20261206, numRuns: 120 },
  );
});
