// lib/genalloc.ts (the part of lib/genalloc.c that kernel/dma/pool.c uses) against a short
// reference model of gen_pool_first_fit_order_align(): chunks are tried newest first
// (gen_pool_add_owner()'s list_add_rcu()), a chunk with less than `size` available is skipped,
// and in a chunk the allocation takes the lowest index that is a multiple of
// roundup_pow_of_two(units) and starts a free run of `units` units (bitmap_find_next_zero_area()
// with align_mask). The model tries every aligned index; the allocator skips past used units.
// Random sequences of chunk additions, allocations and frees of live allocations: the same
// addresses, the same avail and size, and every live allocation's phys from virt_to_phys.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { GenPool } from '../../src/lib/genalloc.js';

const ORDER = 6; // 64-byte units, as a small pool would have
const UNIT = 1 << ORDER;

class RefPool {
  readonly chunks: { start: number; phys: number; used: boolean[]; avail: number }[] = [];

  add(virt: number, phys: number, size: number): void {
    this.chunks.unshift({ start: virt, phys, used: new Array<boolean>(size / UNIT).fill(false), avail: size });
  }

  alloc(size: number): number {
    if (size === 0) return 0;
    const units = Math.ceil(size / UNIT);
    let align = 1;
    while (align < units) align *= 2;
    for (const c of this.chunks) {
      if (size > c.avail) continue;
      for (let i = 0; i + units <= c.used.length; i += align) {
        if (c.used.slice(i, i + units).some((u) => u)) continue;
        c.used.fill(true, i, i + units);
        c.avail -= units * UNIT;
        return c.start + i * UNIT;
      }
    }
    return 0;
  }

  free(addr: number, size: number): void {
    const c = this.chunks.find((k) => addr >= k.start && addr + size <= k.start + k.used.length * UNIT);
    if (c === undefined) return;
    const units = Math.ceil(size / UNIT);
    c.used.fill(false, (addr - c.start) / UNIT, (addr - c.start) / UNIT + units);
    c.avail += units * UNIT;
  }
}

type Op = { kind: 'add'; units: number } | { kind: 'alloc'; size: number } | { kind: 'free'; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), units: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 4 * UNIT }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 * UNIT }) }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
);

test('gen_pool_alloc/gen_pool_free place and account as the first-fit order-align rule says', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (rest) => {
      const ops: Op[] = [{ kind: 'add', units: 32 }, ...rest];
      const pool = new GenPool(ORDER);
      const ref = new RefPool();
      const live: { addr: number; size: number; phys: number }[] = [];
      let virt = 0x1000_0000;
      let phys = 0x4000_0000;
      for (const o of ops) {
        if (o.kind === 'add') {
          const size = o.units * UNIT;
          pool.gen_pool_add_virt(virt, phys, size);
          ref.add(virt, phys, size);
          virt += size + 0x1000; // chunks apart, as separate allocations would be
          phys += size + 0x2000;
        } else if (o.kind === 'alloc') {
          const a = pool.gen_pool_alloc(o.size);
          expect(a).toBe(ref.alloc(o.size));
          if (a !== 0) live.push({ addr: a, size: o.size, phys: pool.gen_pool_virt_to_phys(a) });
        } else if (live.length > 0) {
          const b = live.splice(o.pick % live.length, 1)[0] as { addr: number; size: number };
          pool.gen_pool_free(b.addr, b.size);
          ref.free(b.addr, b.size);
        }
        expect(pool.gen_pool_avail()).toBe(ref.chunks.reduce((n, c) => n + c.avail, 0));
        expect(pool.gen_pool_size()).toBe(ref.chunks.reduce((n, c) => n + c.used.length * UNIT, 0));
        for (const l of live) {
          const c = ref.chunks.find((k) => l.addr >= k.start && l.addr < k.start + k.used.length * UNIT);
          expect(l.phys).toBe((c?.phys ?? NaN) + l.addr - (c?.start ?? 0));
          expect(pool.gen_pool_has_addr(l.addr, Math.max(l.size, 1))).toBe(true);
        }
      }
    }),
    { seed: 11, numRuns: 150 },
  );
});
