// Differential property test: random sequences of CPU and device accesses and cache
// maintenance (including arm64's dcache_inval_poc edge rule) give byte-identical data and identical line states in the engine and in the
// reference model (test/model/ref-cache.ts), for coherent and non-coherent devices.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { RefMachine } from '../support/model/ref-cache.js';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

const WINDOW = 8192; // twice the cache: evictions happen
const LINE = 64;

const range = fc.record({ off: fc.integer({ min: 0, max: WINDOW - 1 }), len: fc.integer({ min: 0, max: 300 }) })
  .map(({ off, len }) => ({ off, len: Math.min(len, WINDOW - off) }));

const op = fc.oneof(
  range.map((r) => ({ kind: 'cpuRead' as const, ...r })),
  fc.tuple(range, fc.integer({ min: 1, max: 1e9 })).map(([r, seed]) => ({ kind: 'cpuWrite' as const, ...r, seed })),
  range.map((r) => ({ kind: 'clean' as const, ...r })),
  range.map((r) => ({ kind: 'invalidate' as const, ...r })),
  range.map((r) => ({ kind: 'cleanInvalidate' as const, ...r })),
  fc.record({ off: fc.integer({ min: 0, max: WINDOW - 400 }), len: fc.integer({ min: 0, max: 300 }) }).map((r) => ({ kind: 'invalPoc' as const, ...r })),
  fc.tuple(range, fc.boolean()).map(([r, coherent]) => ({ kind: 'devRead' as const, ...r, coherent })),
  fc.tuple(range, fc.boolean(), fc.integer({ min: 1, max: 1e9 })).map(([r, coherent, seed]) => ({ kind: 'devWrite' as const, ...r, coherent, seed })),
  fc.record({ src: fc.integer({ min: 0, max: 4095 - 256 }), dst: fc.integer({ min: 4096, max: WINDOW - 256 }), len: fc.integer({ min: 0, max: 256 }) })
    .map((c) => ({ kind: 'cpuCopy' as const, ...c })),
);

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + i * 131) & 0xff;
  return out;
}

test('engine and reference model agree on every byte and every line state', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
      const m = await smallMachine();
      const ref = new RefMachine(SMALL_BUF, WINDOW, LINE, 16, 4);
      const coh = m.createDevice({ name: 'coh', coherent: true });
      const nc = m.createDevice({ name: 'nc', coherent: false });
      const va = m.phys_to_virt(SMALL_BUF);
      const off = m.physToOffset(SMALL_BUF, WINDOW);
      for (const o of ops) {
        switch (o.kind) {
          case 'cpuRead':
            expect(m.cpu.read(va + o.off, o.len)).toEqual(ref.cpuRead(SMALL_BUF + o.off, o.len));
            break;
          case 'cpuWrite': {
            const b = pattern(o.len, o.seed);
            m.cpu.write(va + o.off, b);
            ref.cpuWrite(SMALL_BUF + o.off, b);
            break;
          }
          case 'clean': m.cache.clean(SMALL_BUF + o.off, o.len); ref.clean(SMALL_BUF + o.off, o.len); break;
          case 'invalidate': m.cache.invalidate(SMALL_BUF + o.off, o.len); ref.invalidate(SMALL_BUF + o.off, o.len); break;
          case 'cleanInvalidate': m.cache.cleanInvalidate(SMALL_BUF + o.off, o.len); ref.cleanInvalidate(SMALL_BUF + o.off, o.len); break;
          case 'invalPoc': m.core.invalPoc(off + o.off, o.len); ref.invalPoc(SMALL_BUF + o.off, o.len); break;
          case 'devRead':
            expect((o.coherent ? coh : nc).dmaRead(SMALL_BUF + o.off, o.len)).toEqual(ref.devRead(SMALL_BUF + o.off, o.len, o.coherent));
            break;
          case 'devWrite': {
            const b = pattern(o.len, o.seed);
            (o.coherent ? coh : nc).dmaWrite(SMALL_BUF + o.off, b);
            ref.devWrite(SMALL_BUF + o.off, b, o.coherent);
            break;
          }
          case 'cpuCopy':
            m.core.cpuCopy(off + o.dst, off + o.src, o.len);
            ref.cpuCopy(SMALL_BUF + o.dst, SMALL_BUF + o.src, o.len);
            break;
        }
      }
      expect(m.u8.slice(off, off + WINDOW)).toEqual(ref.ram);
      for (let a = 0; a < WINDOW; a += LINE) expect(m.cache.lineState(SMALL_BUF + a)).toBe(ref.state(SMALL_BUF + a));
    }),
    { seed: 20261124, numRuns: 150 },
  );
});
