// Differential property test of the engine's CPU memcpy (assembly/copy.ts cpuCopy(), the copy
// swiotlb_bounce() makes in kernel/dma/swiotlb.c): it reads the source through the cache in runs
// (RAM runs, and runs of lines resident in one way that lie side by side in the way-major data
// array until the set index wraps). Against the reference model (a byte-by-byte read through the
// cache), over copies long enough for 16-line SIMD runs, set wraps and mixed ways: the same bytes,
// the same line states and one snoop per resident source line.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { RefMachine } from '../support/model/ref-cache.js';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

const WINDOW = 16384; // four times the cache: evictions and every way in use
const LINE = 64;
const HALF = WINDOW / 2;

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + i * 131) & 0xff;
  return out;
}

const write = fc.record({ off: fc.integer({ min: 0, max: HALF - 1 }), len: fc.integer({ min: 1, max: 3000 }), seed: fc.integer({ min: 1, max: 1e9 }) })
  .map((w) => ({ ...w, len: Math.min(w.len, HALF - w.off) }));
const read = fc.record({ off: fc.integer({ min: 0, max: HALF - 1 }), len: fc.integer({ min: 1, max: 3000 }) })
  .map((r) => ({ ...r, len: Math.min(r.len, HALF - r.off) }));
const copy = fc.record({ src: fc.integer({ min: 0, max: HALF - 1 }), dst: fc.integer({ min: HALF, max: WINDOW - 1 }), len: fc.integer({ min: 0, max: HALF }) })
  .map((c) => ({ ...c, len: Math.min(c.len, HALF - c.src, WINDOW - c.dst) }));

test('cpuCopy reads its source through the cache run by run: the reference model\'s bytes, line states and snoops', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(write, read), { maxLength: 12 }), copy, async (setup, c) => {
      const m = await smallMachine();
      const ref = new RefMachine(SMALL_BUF, WINDOW, LINE, 16, 4);
      const va = m.phys_to_virt(SMALL_BUF);
      for (const o of setup) {
        if ('seed' in o) {
          const b = pattern(o.len, o.seed);
          m.cpu.write(va + o.off, b);
          ref.cpuWrite(SMALL_BUF + o.off, b);
        } else {
          m.cpu.read(va + o.off, o.len);
          ref.cpuRead(SMALL_BUF + o.off, o.len);
        }
      }
      let resident = 0;
      for (let a = Math.floor(c.src / LINE) * LINE; a < c.src + c.len; a += LINE) if (ref.state(SMALL_BUF + a) !== 'invalid') resident++;
      const off = m.physToOffset(SMALL_BUF, WINDOW);
      const before = m.stats().snoops;
      m.core.cpuCopy(off + c.dst, off + c.src, c.len);
      ref.cpuCopy(SMALL_BUF + c.dst, SMALL_BUF + c.src, c.len);
      expect(m.u8.slice(off, off + WINDOW)).toEqual(ref.ram);
      for (let a = 0; a < WINDOW; a += LINE) expect(m.cache.lineState(SMALL_BUF + a)).toBe(ref.state(SMALL_BUF + a));
      // snoopInvalidate() of the destination counts its resident lines too: it holds none here
      // unless the setup touched it, and the setup stays in the first half.
      expect(m.stats().snoops - before).toBe(resident);
    }),
    { seed: 20261206, numRuns: 50 },
  );
});
