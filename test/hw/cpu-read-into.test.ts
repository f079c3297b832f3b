// cpu.readInto(ptr, out) is cpu.read(ptr, out.length) into the caller's buffer (issue 18): the
// same bytes, the same cache and byte counters, the same model time, on a cached kmalloc buffer,
// a vmalloc buffer across pages and an uncached one; an `out` that is no Uint8Array is refused.
import { describe, expect, test } from 'vitest';
import { createMachine, DmaSimTypeError, GFP_KERNEL, type Machine, type Page } from '../../src/index.js';
import { pattern } from '../support/api-helpers.js';
import { refused } from '../support/refused.js';

/** Two machines in the same state, a buffer of `len` bytes written on each by `make`. */
async function twins(make: (m: Machine) => number, len: number): Promise<[Machine, number, Machine, number]> {
  const a = await createMachine({ arch: 'arm64', seed: 3 });
  const b = await createMachine({ arch: 'arm64', seed: 3 });
  const pa = make(a);
  const pb = make(b);
  a.cpu.write(pa, pattern(len, 7));
  b.cpu.write(pb, pattern(len, 7));
  return [a, pa, b, pb];
}

describe('cpu.readInto', () => {
  const cases: [string, (m: Machine) => number, number][] = [
    ['kmalloc', (m) => m.kmalloc(1500, GFP_KERNEL), 1500],
    ['vmalloc across pages', (m) => m.vmalloc(3 * 4096) + 4000, 5000],
    ['an uncached vmap', (m) => m.vm.vmap([m.page_to_phys(m.alloc_pages(GFP_KERNEL, 0) as Page) / 4096], 'noncached'), 64],
  ];
  test.each(cases)('reads what cpu.read reads, with the same effects (%s)', async (_name, make, len) => {
    const [a, pa, b, pb] = await twins(make, len);
    const got = a.cpu.read(pa, len);
    const into = new Uint8Array(len);
    b.cpu.readInto(pb, into);
    expect(into).toEqual(got);
    expect(b.stats()).toEqual(a.stats());
    expect(b.cost().total).toBe(a.cost().total);
  });

  test('an out that is no Uint8Array is refused, naming cpu.readInto and out', async () => {
    const m = await createMachine();
    const p = m.kmalloc(64, GFP_KERNEL);
    refused(m, () => m.cpu.readInto(p, [0, 0] as never), 'cpu.readInto', 'out', DmaSimTypeError);
    refused(m, () => m.cpu.readInto(p, null as never), 'cpu.readInto', 'out', DmaSimTypeError);
  });
});
