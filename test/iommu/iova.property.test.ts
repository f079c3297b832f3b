// The IOVA allocator (src/iova.ts) against the plain reference model in test/model/ref-iova.ts,
// which restates drivers/iommu/iova.c's rules (__alloc_and_insert_iova_range() with its cached
// nodes, retry and max32_alloc_size, __cached_rbnode_delete_update(), reserve_iova(), the
// magazines, the depot and its trim work) over a sorted array. Random sequences of alloc_iova,
// free_iova, alloc_iova_fast, free_iova_fast, bursts of small fast allocations and frees (to
// fill magazines and the depot), depot trims and frees of pfns that are in no iova, after a few
// reservations, on a tight domain (1 Ki pfns below 4 GiB, 2 Ki above) and a roomy one.
// After every step: the same result as the model; the same tree, cached nodes,
// max32_alloc_size, magazines, depot and pending work; the tree sorted, disjoint and a valid
// red-black tree; every live allocation in the tree as its own node, in [start_pfn, limit],
// size-aligned when asked, clear of every other live allocation and of every reserved range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IOVA_ANCHOR, IovaDomain, type IovaMagazine } from '../../src/iommu/iova.js';
import { RefIova, type RefRcache } from '../support/model/ref-iova.js';

interface Config {
  readonly name: string;
  readonly start: number;
  readonly limits: readonly number[];
  readonly space: [number, number];
}

const DMA32 = 0x10_0000; // dma_32bit_pfn for a 4 KiB granule
const CONFIGS: readonly Config[] = [
  { name: 'tight', start: DMA32 - 1024, limits: [DMA32 - 1, DMA32 - 700, DMA32 + 700, DMA32 + 2047], space: [DMA32 - 1100, DMA32 + 2100] },
  { name: 'roomy', start: 1, limits: [DMA32 - 1, 0x3_ffff, 2 ** 52 - 1], space: [0, 2 ** 21] },
];

type Op =
  | { readonly kind: 'alloc'; readonly size: number; readonly limit: number; readonly aligned: boolean }
  | { readonly kind: 'allocFast'; readonly size: number; readonly limit: number; readonly flush: boolean }
  | { readonly kind: 'free' | 'freeFast'; readonly pick: number; readonly offset: number }
  | { readonly kind: 'burst'; readonly n: number; readonly size: number; readonly limit: number; readonly reverse: boolean }
  | { readonly kind: 'work' }
  | { readonly kind: 'bogus'; readonly at: number };

const sizeArb = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 70 }), fc.constantFrom(16, 17, 31, 32, 33, 64));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: sizeArb, limit: fc.nat(), aligned: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('allocFast' as const), size: sizeArb, limit: fc.nat(), flush: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat(), offset: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('freeFast' as const), pick: fc.nat(), offset: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), n: fc.integer({ min: 100, max: 300 }), size: fc.integer({ min: 1, max: 2 }), limit: fc.nat(), reverse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('work' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bogus' as const), at: fc.nat() }) },
);
const reserveArb = fc.array(fc.record({ at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }), { maxLength: 4 });

interface Live { readonly pfn: number; readonly size: number; readonly limit: number; readonly align: number; readonly fast: boolean; readonly asked: number }

function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

function hex(x: number): string {
  return `0x${x.toString(16)}`;
}

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function mag(m: IovaMagazine): number[] {
  return Array.from(m.pfns.subarray(0, m.size));
}

function compare(d: IovaDomain, model: RefIova, live: readonly Live[], reserved: readonly [number, number][], cfg: Config): void {
  const got = d.ranges();
  const want = model.nodes.filter((n) => n !== model.anchor).flatMap((n) => [n.lo, n.hi]);
  check(got.length === want.length && got.every((x, i) => x === want[i]), () => `tree ${got.map(hex).join(' ')}\nmodel ${want.map(hex).join(' ')}`);
  for (let i = 0; i < got.length; i += 2) {
    check((got[i] as number) <= (got[i + 1] as number), () => `node ${hex(got[i] as number)} ends before it starts`);
    check(i + 2 >= got.length || (got[i + 1] as number) < (got[i + 2] as number), () => `nodes overlap at ${hex(got[i + 2] as number)}`);
  }
  check(d.nrIovas === got.length / 2, () => `nrIovas ${d.nrIovas}, tree has ${got.length / 2}`);
  const bad = d.verifyTree();
  check(bad === null, () => `red-black tree: ${bad}`);
  check(d.pfn_lo(d.cached_node) === model.cached.lo, () => `cached_node ${hex(d.pfn_lo(d.cached_node))}, model ${hex(model.cached.lo)}`);
  check(d.pfn_lo(d.cached32_node) === model.cached32.lo, () => `cached32_node ${hex(d.pfn_lo(d.cached32_node))}, model ${hex(model.cached32.lo)}`);
  check(d.max32_alloc_size === model.max32, () => `max32_alloc_size ${d.max32_alloc_size}, model ${model.max32}`);
  d.rcaches.forEach((rc, o) => {
    const r = model.rc[o] as RefRcache;
    const depot: number[][] = [];
    for (let m = rc.depot; m !== null; m = m.next) depot.unshift(mag(m));
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    check(same(mag(rc.loaded), r.loaded) && same(mag(rc.prev), r.prev), () => `order ${o}: loaded/prev ${mag(rc.loaded).length}/${mag(rc.prev).length}, model ${r.loaded.length}/${r.prev.length}`);
    check(same(depot, r.depot) && rc.depot_size === depot.length, () => `order ${o}: depot of ${rc.depot_size}, model ${r.depot.length}`);
    check(rc.work_pending === r.pending, () => `order ${o}: work pending ${rc.work_pending}, model ${r.pending}`);
  });
  const sorted = [...live].sort((a, b) => a.pfn - b.pfn);
  sorted.forEach((l, i) => {
    const n = d.find_iova(l.pfn);
    check(n !== 0 && d.pfn_lo(n) === l.pfn && d.pfn_hi(n) === l.pfn + l.size - 1, () => `live ${hex(l.pfn)}+${l.size} is not its own node`);
    check(l.pfn >= cfg.start && l.pfn + l.size - 1 <= l.limit, () => `live ${hex(l.pfn)}+${l.size} outside [${hex(cfg.start)}, ${hex(l.limit)}]`);
    check(l.pfn % l.align === 0, () => `live ${hex(l.pfn)} not aligned to ${l.align}`);
    const next = sorted[i + 1];
    check(next === undefined || l.pfn + l.size <= next.pfn, () => `live ${hex(l.pfn)}+${l.size} overlaps ${hex(next?.pfn ?? 0)}`);
    for (const [lo, hi] of reserved) check(l.pfn > hi || l.pfn + l.size - 1 < lo, () => `live ${hex(l.pfn)}+${l.size} overlaps reserved ${hex(lo)}-${hex(hi)}`);
  });
}

function run(cfg: Config, reserves: readonly { at: number; len: number }[], ops: readonly Op[]): void {
  const d = new IovaDomain(4096, cfg.start);
  const model = new RefIova(4096, cfg.start);
  const reserved: [number, number][] = [];
  const [lo0, hi0] = cfg.space;
  for (const r of reserves) {
    const lo = lo0 + (r.at % (hi0 - lo0));
    d.reserve_iova(lo, lo + r.len - 1);
    model.reserve(lo, lo + r.len - 1);
    reserved.push([lo, lo + r.len - 1]);
  }
  const live: Live[] = [];
  // One of the config's limits, or up to 63 below it: limits that are not 2^k - 1 let an aligned
  // range end past them, which only the `limit_pfn - size` of iova_rcache_get() prevents.
  const limitOf = (n: number): number => (cfg.limits[n % cfg.limits.length] as number) - (n % 3 === 0 ? 0 : (n >> 2) % 64);
  const allocFast = (size: number, limit: number, flush: boolean): void => {
    const got = d.alloc_iova_fast(size, limit, flush);
    const want = model.allocFast(size, limit, flush);
    check(got === want, () => `alloc_iova_fast(${size}, ${hex(limit)}, ${flush}) = ${hex(got)}, model ${hex(want)}`);
    const rounded = size < 32 ? pow2(size) : size;
    if (got !== 0) live.push({ pfn: got, size: rounded, limit, align: pow2(rounded), fast: true, asked: size });
  };
  const freeFast = (l: Live): void => {
    d.free_iova_fast(l.pfn, l.asked);
    model.freeFast(l.pfn, l.asked);
  };
  compare(d, model, live, reserved, cfg);
  for (const op of ops) {
    if (op.kind === 'alloc') {
      const limit = limitOf(op.limit);
      const n = d.alloc_iova(op.size, limit, op.aligned);
      const got = n === 0 ? null : d.pfn_lo(n);
      const want = model.alloc(op.size, limit, op.aligned);
      check(got === want, () => `alloc_iova(${op.size}, ${hex(limit)}, ${op.aligned}) = ${got}, model ${want}`);
      if (got !== null) live.push({ pfn: got, size: op.size, limit, align: op.aligned ? pow2(op.size) : 1, fast: false, asked: op.size });
    } else if (op.kind === 'allocFast') {
      allocFast(op.size, limitOf(op.limit), op.flush);
    } else if (op.kind === 'free' || op.kind === 'freeFast') {
      const fast = op.kind === 'freeFast';
      const mine = live.filter((l) => l.fast === fast);
      if (mine.length === 0) continue;
      const l = mine[op.pick % mine.length] as Live;
      live.splice(live.indexOf(l), 1);
      if (fast) freeFast(l);
      else {
        // free_iova() takes any pfn inside the range.
        d.free_iova(l.pfn + (op.offset % l.size));
        model.free(l.pfn + (op.offset % l.size));
      }
    } else if (op.kind === 'burst') {
      const start = live.length;
      for (let i = 0; i < op.n; i++) allocFast(op.size, limitOf(op.limit), false);
      const mine = live.splice(start);
      if (op.reverse) mine.reverse();
      for (const l of mine) freeFast(l);
    } else if (op.kind === 'work') {
      d.runDepotWork();
      model.work();
    } else if (op.kind === 'bogus') {
      const pfn = lo0 + (op.at % (hi0 - lo0));
      if (d.find_iova(pfn) !== 0) continue;
      d.free_iova(pfn); // in no iova: nothing happens
      check(!model.free(pfn), () => `model found ${hex(pfn)}`);
    }
    compare(d, model, live, reserved, cfg);
  }
  check(d.stats.warnings === 0, () => `${d.stats.warnings} WARN_ON()s`);
  check(d.depotWorkPending === model.rc.some((r) => r.pending), () => 'pending work differs');
}

describe('IOVA allocator against the reference model', () => {
  for (const cfg of CONFIGS) {
    it(`same placements, cached nodes, magazines and depot; no overlap (${cfg.name})`, () => {
      fc.assert(
        fc.property(reserveArb, fc.array(opArb, { minLength: 1, maxLength: 150, size: 'max' }), (reserves, ops) => run(cfg, reserves, ops)),
        { seed: 42, numRuns: 120 },
      );
    });
  }

  it('holds 100k live ranges: sorted, disjoint, found, freed and reused', () => {
    const d = new IovaDomain(4096, 1);
    const pfns: number[] = [];
    for (let i = 0; i < 100_000; i++) pfns.push(d.pfn_lo(d.alloc_iova(1 + (i % 3), DMA32 - 1, true)));
    expect(d.nrIovas).toBe(100_000);
    let x = 12345;
    for (let i = 0; i < 50_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31; // a fixed LCG: deterministic scatter
      const j = x % pfns.length;
      d.free_iova(pfns[j] as number);
      pfns[j] = pfns[pfns.length - 1] as number;
      pfns.pop();
    }
    for (let i = 0; i < 50_000; i++) expect(d.alloc_iova(1, DMA32 - 1, true)).not.toBe(0);
    const r = d.ranges();
    expect(r.length / 2).toBe(d.nrIovas);
    for (let i = 0; i + 2 < r.length; i += 2) if ((r[i + 1] as number) >= (r[i + 2] as number)) throw new Error(`overlap at ${i}`);
    for (const p of pfns) expect(d.pfn_lo(d.find_iova(p))).toBe(p);
    expect(d.verifyTree()).toBeNull();
    expect(d.find_iova(IOVA_ANCHOR - 1)).toBe(0);
  });
});
