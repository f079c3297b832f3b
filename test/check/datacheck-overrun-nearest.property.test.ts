// Property: the data-aware checker's overrun report names the nearest live mapping of the device,
// the earliest-made one among equally near ones. The checker keeps its live regions in a list
// threaded through the regions (not a Set); the reference here is the plain rule over the maps
// and unmaps made so far, in order.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { createMachine, DMA_BIT_MASK, DMA_TO_DEVICE, dma_map_single, dma_set_mask_and_coherent, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';

const BUFS = 6;
const SLOT = 4096;

const op = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), buf: fc.integer({ min: 0, max: BUFS - 1 }), off: fc.integer({ min: 0, max: 3 }), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }),
);

test('an overrun names the nearest live mapping, the earliest-made on a tie', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: BUFS * SLOT }), async (ops, probe) => {
      const m = await createMachine({ arch: 'arm64', seed: 7, dataCheck: true, ram: [{ base: 0x4000_0000, size: 16 << 20 }] });
      const dev = m.createDevice({ name: 'eth0', driver: 'prop', coherent: false });
      dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
      // One block of BUFS pages; mappings of 256 B pieces of them, some of the same piece.
      const base = m.kmalloc(BUFS * SLOT, GFP_KERNEL);
      const live: { dma: number; size: number }[] = [];
      for (const o of ops) {
        if (o.kind === 'map') {
          const size = o.len * 256;
          const dma = dma_map_single(dev, base + o.buf * SLOT + o.off * 256, size, DMA_TO_DEVICE);
          live.push({ dma, size });
        } else if (live.length > 0) {
          const [g] = live.splice(o.pick % live.length, 1);
          dma_unmap_single(dev, g!.dma, g!.size, DMA_TO_DEVICE);
        }
      }
      const start = m.virt_to_phys(base);
      const at = dev.physToDma(start) + probe;
      const len = 8;
      const inside = live.some((g) => at >= g.dma && at + len <= g.dma + g.size);
      let nearest: { dma: number; size: number } | null = null;
      let dist = Infinity;
      for (const g of live) {
        const d = at + len <= g.dma ? g.dma - (at + len) : at >= g.dma + g.size ? at - (g.dma + g.size) : 0;
        if (d < dist) {
          dist = d;
          nearest = g;
        }
      }
      dev.dmaRead(at, len);
      const overruns = m.dataCheck!.reports.filter((r) => r.kind === 'device-overrun');
      if (inside || nearest === null) {
        expect(overruns).toEqual([]);
        return;
      }
      expect(overruns).toHaveLength(1);
      expect(overruns[0]!.mapping).toMatchObject({ dma: nearest.dma, size: nearest.size });
    }),
    { seed: 20261206, numRuns: 60 },
  );
});
