// The IOVA range cache, worked by hand from drivers/iommu/iova.c (v6.8+ depot): one CPU, so per
// order one `loaded` and one `prev` magazine of IOVA_MAG_SIZE (127) pfns and a depot of full
// magazines.
//   free_iova_fast(pfn, size): order_base_2(size) < 6 -> __iova_rcache_insert(): push on loaded;
//     loaded full -> swap with prev if prev is not full; both full -> loaded goes on the depot
//     (schedule_delayed_work(IOVA_DEPOT_DELAY)) and a new empty magazine is loaded;
//     order >= 6 -> free_iova()
//   alloc_iova_fast(size, limit): size < 32 rounded up to a power of two; __iova_rcache_get():
//     loaded empty -> swap with prev if prev is not empty; both empty -> the depot's newest;
//     iova_magazine_pop(limit + 1 - size): from the top, the first pfn <= that limit, its slot
//     refilled with the top pfn; none -> tree; tree fails and flush_rcache -> every magazine's
//     ranges back into the tree (loaded, prev per order, then the depots) and one more try
//   iova_depot_work_func(): if depot_size > num_online_cpus() (1), free the newest depot
//     magazine's ranges into the tree and reschedule.
// The cached ranges stay in the tree all along: only the tree frees them.
import { describe, expect, it } from 'vitest';
import { IOVA_DEPOT_DELAY_MS, IOVA_MAG_SIZE, IOVA_RANGE_CACHE_MAX_SIZE, IovaDomain, iova_rcache_range, type IovaRcache } from '../../src/iommu/iova.js';

const LIMIT32 = 0xf_ffff;
const LIMIT64 = 2 ** 52 - 1;

function pfnsOf(rc: IovaRcache, which: 'loaded' | 'prev'): number[] {
  return Array.from(rc[which].pfns.subarray(0, rc[which].size));
}

function order0(d: IovaDomain): IovaRcache {
  return d.rcaches[0] as IovaRcache;
}

/** n one-granule ranges, top-down from 0xfffff, all freed in allocation order into the rcache. */
function fillAndFree(d: IovaDomain, n: number): number[] {
  const p: number[] = [];
  for (let k = 0; k < n; k++) p.push(d.alloc_iova_fast(1, LIMIT32, false));
  expect(p[n - 1]).toBe(0xf_ffff - (n - 1));
  for (const pfn of p) d.free_iova_fast(pfn, 1);
  return p;
}

describe('IOVA rcache', () => {
  it('has the kernel constants', () => {
    expect([IOVA_MAG_SIZE, IOVA_RANGE_CACHE_MAX_SIZE, IOVA_DEPOT_DELAY_MS]).toEqual([127, 6, 100]);
    expect(iova_rcache_range()).toBe(4096 << 5);
  });

  it('gives back the most recently freed range first (LIFO), without touching the tree', () => {
    const d = new IovaDomain(4096, 1);
    const p1 = d.alloc_iova_fast(1, LIMIT32, true); // 0xfffff
    const p2 = d.alloc_iova_fast(1, LIMIT32, true); // 0xffffe
    d.free_iova_fast(p1, 1);
    d.free_iova_fast(p2, 1);
    expect(pfnsOf(order0(d), 'loaded')).toEqual([0xf_ffff, 0xf_fffe]);
    expect(d.ranges()).toEqual([0xf_fffe, 0xf_fffe, 0xf_ffff, 0xf_ffff]); // still in the tree
    expect(d.alloc_iova_fast(1, LIMIT32, true)).toBe(p2);
    expect(d.alloc_iova_fast(1, LIMIT32, true)).toBe(p1);
    expect(d.stats).toMatchObject({ rcacheHits: 2, rcacheInserts: 2, treeAllocs: 2, treeFrees: 0 });
    // A 2-granule request uses order 1's magazines, not order 0's.
    d.free_iova_fast(p1, 1);
    expect(d.alloc_iova_fast(2, LIMIT32, true)).toBe(0xf_fffc);
  });

  it('skips pfns above the limit and pops by swapping the top into the hole', () => {
    const d = new IovaDomain(4096, 1);
    const top = d.alloc_iova_fast(1, LIMIT64, false); // 2^52 - 1
    const a = d.alloc_iova_fast(1, LIMIT32, false); // 0xfffff
    const b = d.alloc_iova_fast(1, LIMIT32, false); // 0xffffe
    d.free_iova_fast(b, 1);
    d.free_iova_fast(a, 1);
    d.free_iova_fast(top, 1);
    expect(pfnsOf(order0(d), 'loaded')).toEqual([0xf_fffe, 0xf_ffff, 2 ** 52 - 1]);
    // Pop limit 0x100000 - 1 = 0xfffff: 2^52 - 1 is above it; 0xfffff is taken, the top fills its slot.
    expect(d.alloc_iova_fast(1, LIMIT32, false)).toBe(0xf_ffff);
    expect(pfnsOf(order0(d), 'loaded')).toEqual([0xf_fffe, 2 ** 52 - 1]);
    expect(d.alloc_iova_fast(1, LIMIT64, false)).toBe(2 ** 52 - 1);
    // Pop limit 0xffffd: 0xffffe is above it and it is the last one: the tree gives
    // new = (0xffffe - 1) from cached32 = [0xffffe].
    expect(d.alloc_iova_fast(1, 0xf_fffd, false)).toBe(0xf_fffd);
    expect(pfnsOf(order0(d), 'loaded')).toEqual([0xf_fffe]);
    // A 4-granule range at 0xffff8 is not handed out for limit 0xffffa (0xffff8 + 3 > 0xffffa).
    const c = d.alloc_iova_fast(4, LIMIT32, false);
    expect(c).toBe(0xf_fff8);
    d.free_iova_fast(c, 4);
    expect(d.alloc_iova_fast(4, 0xf_fffa, false)).toBe(0xf_fff4);
    expect(d.alloc_iova_fast(4, 0xf_fffb, false)).toBe(0xf_fff8);
  });

  it('swaps loaded and prev at 127, then pushes full magazines to the depot', () => {
    const d = new IovaDomain(4096, 1);
    const scheduled: number[] = [];
    d.onDepotWorkScheduled = (order) => scheduled.push(order);
    const rc = order0(d);
    const p: number[] = [];
    for (let k = 0; k < 300; k++) p.push(d.alloc_iova_fast(1, LIMIT32, false));
    for (let k = 0; k < 127; k++) d.free_iova_fast(p[k] as number, 1);
    expect([rc.loaded.size, rc.prev.size, rc.depot_size]).toEqual([127, 0, 0]);
    d.free_iova_fast(p[127] as number, 1); // loaded full, prev empty: swap, then push
    expect([rc.loaded.size, rc.prev.size, rc.depot_size]).toEqual([1, 127, 0]);
    expect(pfnsOf(rc, 'prev')).toEqual(p.slice(0, 127));
    for (let k = 128; k < 254; k++) d.free_iova_fast(p[k] as number, 1);
    expect([rc.loaded.size, rc.prev.size, rc.depot_size]).toEqual([127, 127, 0]);
    expect(d.depotWorkPending).toBe(false);
    d.free_iova_fast(p[254] as number, 1); // both full: p[127..253] go on the depot
    expect([rc.loaded.size, rc.prev.size, rc.depot_size]).toEqual([1, 127, 1]);
    expect(rc.depot?.size).toBe(127);
    expect(Array.from(rc.depot?.pfns ?? [])).toEqual(p.slice(127, 254));
    expect([rc.work_pending, d.depotWorkPending, scheduled]).toEqual([true, true, [0]]);
    for (let k = 255; k < 300; k++) d.free_iova_fast(p[k] as number, 1);
    expect([rc.loaded.size, d.nrIovas, d.stats.rcacheInserts]).toEqual([46, 300, 300]);
    // Back out: loaded (p[299] down to p[254]), then prev after a swap (p[126] down to p[0]),
    // then the depot's magazine (p[253] down to p[127]).
    const got: number[] = [];
    for (let k = 0; k < 300; k++) got.push(d.alloc_iova_fast(1, LIMIT32, false));
    expect(got).toEqual([...p.slice(254).reverse(), ...p.slice(0, 127).reverse(), ...p.slice(127, 254).reverse()]);
    expect([rc.depot_size, d.stats.rcacheHits, d.stats.treeAllocs]).toEqual([0, 300, 300]);
  });

  it('trims the depot to one magazine per online CPU from the delayed work', () => {
    const d = new IovaDomain(4096, 1);
    const scheduled: number[] = [];
    d.onDepotWorkScheduled = (order) => scheduled.push(order);
    // 382 frees: 127 into loaded, 127 after the swap, the 255th pushes p[127..253], the 382nd
    // pushes p[254..380]; p[381] is alone in the loaded magazine.
    const p = fillAndFree(d, 382);
    const rc = order0(d);
    expect([rc.depot_size, rc.loaded.size, scheduled]).toEqual([2, 1, [0]]); // still pending: no re-queue
    expect(d.runDepotWork(3)).toBe(0); // another order's work is not queued
    // depot_size 2 > 1: the newest magazine's ranges go back to the tree, and the work re-queues.
    expect(d.runDepotWork()).toBe(1);
    expect([rc.depot_size, d.nrIovas, d.stats.treeFrees]).toEqual([1, 382 - 127, 127]);
    expect(d.find_iova(p[254] as number)).toBe(0);
    expect(d.find_iova(p[380] as number)).toBe(0);
    expect(d.find_iova(p[253] as number)).not.toBe(0);
    expect([rc.work_pending, scheduled]).toEqual([true, [0, 0]]);
    // depot_size 1 is not above num_online_cpus(): nothing freed, not re-queued.
    expect(d.runDepotWork()).toBe(1);
    expect([rc.depot_size, rc.work_pending, d.depotWorkPending]).toEqual([1, false, false]);
    expect(d.runDepotWork()).toBe(0);
  });

  it('flushes every magazine back into the tree and retries once when asked', () => {
    const d = new IovaDomain(4096, 0xf_fff0); // 16 granules below 4 GiB
    fillAndFree(d, 16); // 0xfffff..0xffff0, all in order 0's loaded magazine, all still in the tree
    // Order 1 has nothing cached; the tree is full: 0, and max32_alloc_size = 2. Nothing flushed.
    expect(d.alloc_iova_fast(2, LIMIT32, false)).toBe(0);
    expect([d.max32_alloc_size, order0(d).loaded.size, d.stats.allocFailures]).toEqual([2, 16, 1]);
    // With flush_rcache: the fast fail (2 >= 2), then free_cpu_cached_iovas() returns the 16
    // ranges to the tree (max32_alloc_size reset; freeing 0xfffff, at or above cached32 [0xffff0],
    // moves cached32 to the anchor), and the retry gets (0x100000 - 2) & ~1 = 0xffffe.
    expect(d.alloc_iova_fast(2, LIMIT32, true)).toBe(0xf_fffe);
    expect([order0(d).loaded.size, d.nrIovas, d.stats.rcacheFlushes, d.stats.treeFrees]).toEqual([0, 1, 1, 16]);
    expect(d.max32_alloc_size).toBe(0x10_0000);
  });

  it('flush also empties the depots, newest magazine first', () => {
    const d = new IovaDomain(4096, 0xf_f000); // 4096 granules below 4 GiB
    // 4096 frees: the depot push at the 255th and every 127 after it (31 of them), then 31 more.
    fillAndFree(d, 4096); // loaded 32 pfns, prev 127, depot 31 full magazines
    const rc = order0(d);
    expect([rc.loaded.size, rc.prev.size, rc.depot_size]).toEqual([32, 127, 31]);
    expect(d.alloc_iova_fast(8, LIMIT32, true)).toBe(0xf_fff8);
    expect([rc.loaded.size, rc.prev.size, rc.depot_size, d.nrIovas]).toEqual([0, 0, 0, 1]);
  });

  it('does not cache order 6 and up (33 granules and more); 17 and 32 share order 5', () => {
    const d = new IovaDomain(4096, 1);
    // 64: align 64, (0x100000 - 64) & ~63 = 0xfffc0.
    const p64 = d.alloc_iova_fast(64, LIMIT32, true);
    expect(p64).toBe(0xf_ffc0);
    d.free_iova_fast(p64, 64);
    expect([d.nrIovas, d.stats.rcacheInserts, d.stats.treeFrees]).toEqual([0, 0, 1]);
    // 33 is not rounded (33 >= 32) but aligned to 64: [0xfffc0, 0xfffe0]; straight back to the tree.
    const p33 = d.alloc_iova_fast(33, LIMIT32, true);
    expect([p33, d.pfn_hi(d.find_iova(p33))]).toEqual([0xf_ffc0, 0xf_ffe0]);
    d.free_iova_fast(p33, 33);
    expect(d.nrIovas).toBe(0);
    // 17 is rounded to 32: (0x100000 - 32) & ~31 = 0xfffe0; freed with its own size 17, order 5.
    const p17 = d.alloc_iova_fast(17, LIMIT32, true);
    expect([p17, d.pfn_hi(d.find_iova(p17))]).toEqual([0xf_ffe0, 0xf_ffff]);
    d.free_iova_fast(p17, 17);
    expect((d.rcaches[5] as IovaRcache).loaded.size).toBe(1);
    expect(d.alloc_iova_fast(32, LIMIT32, true)).toBe(p17);
    expect(d.stats.rcacheHits).toBe(1);
  });

  it('put_iova_domain() drops the magazines, the depot and its work, and every range', () => {
    const d = new IovaDomain(4096, 1);
    fillAndFree(d, 300);
    expect(d.depotWorkPending).toBe(true);
    d.put_iova_domain();
    const rc = order0(d);
    expect([rc.loaded.size, rc.prev.size, rc.depot_size, rc.depot, d.depotWorkPending, d.nrIovas]).toEqual([0, 0, 0, null, false, 0]);
    expect(d.ranges()).toEqual([]);
    expect(d.runDepotWork()).toBe(0);
    expect(d.alloc_iova_fast(1, LIMIT32, true)).toBe(0xf_ffff);
  });
});
