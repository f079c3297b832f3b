// Property: kernel/dma/debug.c's map-error bookkeeping. debug_dma_mapping_error() marks the first
// entry of the bucket with the device and address that is still MAP_ERR_NOT_CHECKED (and
// debug_dma_map_phys() makes that call for its address before adding the new entry);
// check_unmap() reports "failed to check map error" for the entry hash_bucket_find() picks (the
// first exact match: every field equal here). dma-debug skips buckets that hold no unchecked
// entry; the reference is the plain scan over the live entries in insertion order. Two devices
// and three buffers of one 8 KiB bucket, so addresses repeat and share buckets.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { DMA_BIT_MASK, DMA_TO_DEVICE, GFP_KERNEL, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent, dma_unmap_single } from '../../src/index.js';
import { DMA_API, rig } from '../support/debug-helpers.js';

interface Entry { dev: number; buf: number; checked: boolean }

const op = fc.record({ kind: fc.constantFrom('map', 'check', 'unmap'), dev: fc.integer({ min: 0, max: 1 }), buf: fc.integer({ min: 0, max: 2 }) });

test('"failed to check map error" exactly where the first matching entry was never checked', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const { m, dev } = await rig();
      const other = m.createDevice({ name: '0000:02:00.0', driver: 'othernic' });
      dma_set_mask_and_coherent(other, DMA_BIT_MASK(64));
      const devs = [dev, other];
      const page = m.kmalloc(8192, GFP_KERNEL);
      const bufs = [0, 1, 2].map((i) => page + i * 1024);
      const live: Entry[] = [];
      const addrOf = (d: number, b: number): number => devs[d]!.physToDma(m.virt_to_phys(bufs[b]!));
      const mark = (d: number, b: number): void => {
        const e = live.find((x) => x.dev === d && x.buf === b && !x.checked);
        if (e !== undefined) e.checked = true;
      };
      let expected = 0;
      for (const o of ops) {
        const d = devs[o.dev]!;
        if (o.kind === 'map') {
          const h = dma_map_single(d, bufs[o.buf]!, 64, DMA_TO_DEVICE);
          expect(h).toBe(addrOf(o.dev, o.buf));
          mark(o.dev, o.buf);
          live.push({ dev: o.dev, buf: o.buf, checked: false });
        } else if (o.kind === 'check') {
          dma_mapping_error(d, addrOf(o.dev, o.buf));
          mark(o.dev, o.buf);
        } else {
          const i = live.findIndex((x) => x.dev === o.dev && x.buf === o.buf);
          if (i < 0) continue; // an unknown unmap: another report, not this property's
          if (!live[i]!.checked) expected++;
          live.splice(i, 1);
          dma_unmap_single(d, addrOf(o.dev, o.buf), 64, DMA_TO_DEVICE);
        }
      }
      expect(Number(m.debugfs.read(`${DMA_API}/error_count`))).toBe(expected);
    }),
    { seed: 20261206, numRuns: 60 },
  );
});
