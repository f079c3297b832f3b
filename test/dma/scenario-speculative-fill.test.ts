// While a device owns a buffer, the CPU's prefetchers may pull its lines into the cache from the
// cacheable linear map. That is why arm64 invalidates after DMA (arch_sync_dma_for_cpu), not
// only before: an invalidate at map time cannot stop a later speculative fill.
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

test('a speculative fill makes the CPU read stale data until invalidated after the DMA', async () => {
  const m = await smallMachine({ load: { speculation: 1 }, seed: 7 });
  const dev = m.createDevice({ name: 'nc0', coherent: false });
  const va = m.phys_to_virt(SMALL_BUF);
  const rx = SMALL_BUF + 2048; // the device's buffer, in the same page as the CPU's data
  m.cache.invalidate(rx, 64); // done at map time: the buffer is not cached
  for (let i = 0; i < 500; i++) m.cpu.readb(va + (i % 8) * 64); // the CPU works next door
  expect(m.stats().speculativeFills).toBeGreaterThan(0);
  expect(m.cache.lineState(rx)).toBe('clean'); // prefetched while the device owned it

  dev.dmaWrite(rx, new Uint8Array(64).fill(0x5a));
  expect(m.cpu.readb(m.phys_to_virt(rx))).toBe(0); // stale
  m.cache.invalidate(rx, 64); // what dma_sync_single_for_cpu / unmap do on arm64
  expect(m.cpu.readb(m.phys_to_virt(rx))).toBe(0x5a);
});
