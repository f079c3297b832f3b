// Property: the data-aware checker's region table (struct of arrays, ids from a free list, page
// lists in one Int32Array pool) behaves as a short reference model of the same thing with plain
// objects: each page's list in the same order (a bag: append, and a removal moves the last entry
// into the hole; the checker's reports follow that order), the live list in insertion order, the
// fields of every live or still-referenced region, the CPU's sub-ranges as a byte map, and an id
// never handed out while a live region or a stale line's reference holds it.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { createMachine, type Device } from '../../src/index.js';
import { DataCheckRegions, F_DEV_WROTE, F_LIVE, F_REPORTED_READ, NONE, pageOf } from '../../src/check/dma-data-regions.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';

const PAGES = 12;

interface ModelRegion {
  readonly id: number;
  readonly dev: Device;
  readonly dma: number;
  readonly size: number;
  readonly origOff: number;
  readonly dmaOff: number;
  live: boolean;
  refs: number;
  /** 1 where the CPU owns the byte. */
  readonly cpu: Uint8Array;
}

const op = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const), dev: fc.integer({ min: 0, max: 1 }), off: fc.integer({ min: 0, max: 6 * PAGE_SIZE }),
    size: fc.integer({ min: 0, max: 2 * PAGE_SIZE + 1 }), bounce: fc.option(fc.integer({ min: 6 * PAGE_SIZE, max: 9 * PAGE_SIZE }), { nil: null }), cpuOwned: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('retain' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('give' as const), pick: fc.nat(), lo: fc.integer({ min: -8, max: PAGE_SIZE }), len: fc.integer({ min: 0, max: PAGE_SIZE }), toCpu: fc.boolean() }),
);

test('the region table matches a reference model of live regions, page bags and CPU ranges', async () => {
  const m = await createMachine({ arch: 'arm64', seed: 3 });
  const devs = [m.createDevice({ name: 'eth0', driver: 'prop' }), m.createDevice({ name: 'eth1', driver: 'prop' })];
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
      const t = new DataCheckRegions(PAGES);
      const bags: number[][] = Array.from({ length: PAGES }, () => []);
      const regions = new Map<number, ModelRegion>();
      const liveOrder: number[] = [];
      const bagRange = (id: number, off: number, size: number, add: boolean): void => {
        for (let p = pageOf(off); p <= pageOf(off + Math.max(size, 1) - 1); p++) {
          const bag = bags[p]!;
          if (add) {
            if (bag[bag.length - 1] !== id) bag.push(id);
          } else {
            const i = bag.lastIndexOf(id);
            if (i >= 0) bag[i] = bag[bag.length - 1]!, bag.pop();
          }
        }
      };
      const bag = (r: ModelRegion, add: boolean): void => {
        bagRange(r.id, r.origOff, r.size, add);
        if (r.dmaOff !== r.origOff) bagRange(r.id, r.dmaOff, r.size, add);
      };
      const held = (): ModelRegion[] => [...regions.values()];
      for (const o of ops) {
        if (o.kind === 'add') {
          const dmaOff = o.bounce ?? o.off;
          const id = t.add(devs[o.dev]!, 'dma_map_single', 0, 0x1000 + o.off, o.size, 1, 0, 0x8000_0000 + o.off, o.off, 0x8000_0000 + dmaOff, dmaOff, o.cpuOwned, false);
          expect(regions.has(id)).toBe(false);
          const r: ModelRegion = { id, dev: devs[o.dev]!, dma: 0x1000 + o.off, size: o.size, origOff: o.off, dmaOff, live: true, refs: 0, cpu: new Uint8Array(o.size).fill(o.cpuOwned ? 1 : 0) };
          regions.set(id, r);
          liveOrder.push(id);
          bag(r, true);
        } else if (o.kind === 'remove' || o.kind === 'give') {
          if (liveOrder.length === 0) continue;
          const r = regions.get(liveOrder[o.pick % liveOrder.length]!)!;
          if (o.kind === 'remove') {
            t.remove(r.id);
            r.live = false;
            liveOrder.splice(liveOrder.indexOf(r.id), 1);
            bag(r, false);
            if (r.refs === 0) regions.delete(r.id);
          } else {
            t.flags[r.id] = t.flags[r.id]! | F_REPORTED_READ | F_DEV_WROTE;
            t.give(r.id, o.lo, o.lo + o.len, o.toCpu);
            r.cpu.fill(o.toCpu ? 1 : 0, Math.max(o.lo, 0), Math.max(Math.min(o.lo + o.len, r.size), 0));
            expect(t.flags[r.id]! & F_REPORTED_READ).toBe(0);
            expect(t.flags[r.id]! & F_DEV_WROTE).toBe(o.toCpu ? 0 : F_DEV_WROTE);
          }
        } else {
          const all = o.kind === 'retain' ? held() : held().filter((r) => r.refs > 0);
          if (all.length === 0) continue;
          const r = all[o.pick % all.length]!;
          if (o.kind === 'retain') {
            t.retain(r.id);
            r.refs++;
          } else {
            t.release(r.id);
            r.refs--;
            if (r.refs === 0 && !r.live) regions.delete(r.id);
          }
        }
        // The table as the model has it.
        expect(t.count).toBe(liveOrder.length);
        const live: number[] = [];
        for (let id = t.head; id !== NONE; id = t.nextLive[id]!) live.push(id);
        expect(live).toEqual(liveOrder);
        for (let p = 0; p < PAGES; p++) expect(Array.from(t.pool.subarray(t.pageStart[p]!, t.pageStart[p]! + t.pageCount[p]!))).toEqual(bags[p]);
        for (const r of regions.values()) {
          expect([t.dev[r.id], t.dma[r.id], t.size[r.id], t.origOff[r.id], t.dmaOff[r.id], t.isLive(r.id), t.bounced(r.id)])
            .toEqual([r.dev, r.dma, r.size, r.origOff, r.dmaOff, r.live, r.dmaOff !== r.origOff]);
          expect((t.flags[r.id]! & F_LIVE) !== 0).toBe(r.live);
          for (let lo = -1; lo <= r.size; lo += 97) {
            for (const hi of [lo + 1, lo + 64, r.size + 1]) {
              const owned = r.cpu.subarray(Math.max(lo, 0), Math.max(Math.min(hi, r.size), 0));
              expect(t.deviceOwns(r.id, lo, hi)).toBe(owned.includes(0));
            }
          }
        }
      }
    }),
    { seed: 20261206, numRuns: 150 },
  );
});
