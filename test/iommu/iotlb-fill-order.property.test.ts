// The IOTLB (iommu.ts Iotlb) holds what a Map in insertion order would: entries by IOVA page, the
// oldest fill dropped first once 128 are cached, any entry dropped by an invalidation, all of them
// by a flush. Checked against that Map over random sequences whose pages collide in the index.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { Iotlb } from '../../src/iommu/iommu.js';

const CAPACITY = 128;

type Op = { kind: 'fill' | 'delete'; pfn: number } | { kind: 'clear' };

/** Pages that share low bits (the index's buckets) and pages far apart. */
const pfn = fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 40 }).map((k) => k * 256 + 3), fc.integer({ min: 2 ** 30, max: 2 ** 36 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: pfn.map((p) => ({ kind: 'fill' as const, pfn: p })) },
  { weight: 6, arbitrary: pfn.map((p) => ({ kind: 'delete' as const, pfn: p })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

test.prop([fc.array(op, { maxLength: 1500 })], { numRuns: 60, seed: 18 })('the IOTLB matches a Map in fill order', (ops) => {
  const tlb = new Iotlb();
  const ref = new Map<number, number>();
  let n = 1;
  for (const o of ops) {
    if (o.kind === 'clear') {
      tlb.clear();
      ref.clear();
    } else if (o.kind === 'delete') {
      tlb.delete(o.pfn);
      ref.delete(o.pfn);
    } else if (!ref.has(o.pfn)) {
      // iommu.ts lookup() fills only after a miss, and never with 0.
      const pte = n++ * 4096 + 3;
      if (ref.size >= CAPACITY) ref.delete(ref.keys().next().value as number);
      ref.set(o.pfn, pte);
      tlb.fill(o.pfn, pte);
    }
    expect(tlb.size).toBe(ref.size);
  }
  expect([...tlb]).toEqual([...ref]);
  for (const p of ref.keys()) expect(tlb.get(p)).toBe(ref.get(p));
  expect(tlb.get(601)).toBe(0);
});
