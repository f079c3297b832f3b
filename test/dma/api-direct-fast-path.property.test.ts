// dma_map_single/dma_unmap_single of a dma-direct device take a short path when no tracepoint,
// timeline or dma-debug hook listens (kernel/dma/mapping.c's dma_map_phys()/dma_unmap_phys() with
// their trace and debug calls compiled to nothing). The path must do exactly what the general
// one does: the same program on two machines, one of them with a listener that records nothing
// (so every call goes the general way), ends with the same RAM, counters, model time and log.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, type DmaDirection } from '../../src/include/dma-mapping.js';
import { dma_map_single, dma_set_mask_and_coherent, dma_unmap_single } from '../../src/dma/mapping.js';
import type { DmaTraceHooks } from '../../src/dma/trace.js';
import { GFP_KERNEL } from '../../src/mm/gfp.js';
import type { Machine } from '../../src/machine.js';
import { bytes, smallMachine } from '../support/helpers.js';

/** A listener with every hook, each doing nothing: its presence alone routes calls the general way. */
const silent = new Proxy({}, { get: () => () => undefined }) as DmaTraceHooks;

type Op = { buf: number; size: number; dir: DmaDirection; coherent: boolean; devWrites: boolean; cpuFill: number };

const opArb = fc.record({
  buf: fc.nat({ max: 3 }),
  size: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constantFrom(64, 1500, 4096)),
  dir: fc.constantFrom<DmaDirection>(0, 1, 2),
  coherent: fc.boolean(),
  devWrites: fc.boolean(),
  cpuFill: fc.nat({ max: 255 }),
});

async function run(arch: 'x86_64' | 'arm64', listen: boolean, ops: readonly Op[]): Promise<{ m: Machine; ram: Uint8Array[] }> {
  const m = await smallMachine({ arch, seed: 7 });
  if (listen) m.addTraceListener(silent);
  const devs = [false, true].map((coherent) => {
    const dev = m.createDevice({ name: coherent ? 'coh' : 'nc', coherent: arch === 'x86_64' || coherent });
    dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
    return dev;
  });
  const bufs = [16, 200, 1500, 4096].map((n) => m.kmalloc(n, GFP_KERNEL));
  const sizes = [16, 200, 1500, 4096];
  for (const op of ops) {
    const buf = bufs[op.buf] as number;
    const size = Math.min(op.size, sizes[op.buf] as number);
    const dev = devs[op.coherent ? 1 : 0]!;
    m.cpu.fill(buf, size, op.cpuFill);
    const a = dma_map_single(dev, buf, size, op.dir);
    if (a !== DMA_MAPPING_ERROR && op.devWrites && size > 0) dev.dmaWrite(a, bytes(size, op.cpuFill));
    dma_unmap_single(dev, a, size, op.dir);
  }
  return { m, ram: bufs.map((b, i) => m.cpu.read(b, sizes[i] as number)) };
}

test.prop([fc.constantFrom<'x86_64' | 'arm64'>('x86_64', 'arm64'), fc.array(opArb, { minLength: 1, maxLength: 40 })], { seed: 1800, numRuns: 40 })(
  'the short map/unmap path leaves RAM, counters, model time and log as the general path does',
  async (arch, ops) => {
    const fast = await run(arch, false, ops);
    const general = await run(arch, true, ops);
    expect(fast.m.dmaTrace).toBeNull();
    expect(general.m.dmaTrace).not.toBeNull();
    expect(fast.ram).toEqual(general.ram);
    expect(fast.m.stats()).toEqual(general.m.stats());
    expect(fast.m.cost()).toEqual(general.m.cost());
    expect(fast.m.now()).toBe(general.m.now());
    expect(fast.m.dmesg()).toEqual(general.m.dmesg());
  },
);
