// 200 machines created, used and dropped keep the process's resident memory flat (issue 13):
// nothing of a dropped machine (its WebAssembly.Memory, the engine instance, allocator tables,
// debug and checker state) stays reachable. Each machine maps, bounces and frees a little so
// that its memory is really touched. Measured after a full garbage collection, between the
// 50th and the 200th machine, against the size of one machine's memory.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { expect, test } from 'vitest';
import { createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, dma_map_single, dma_set_mask_and_coherent, dma_unmap_single, GFP_KERNEL } from '../../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function useOne(): Promise<number> {
  const m = await createMachine({ config: { DMA_API_DEBUG: true }, dataCheck: true, cmdline: 'swiotlb=force' });
  const dev = m.createDevice({ name: '0000:07:00.0' });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  const buf = m.kmalloc(65536, GFP_KERNEL);
  m.cpu.fill(buf, 65536, 0x5a);
  const h = dma_map_single(dev, buf, 65536, DMA_FROM_DEVICE);
  dev.dmaFill(h, 65536, 0xa5);
  dma_unmap_single(dev, h, 65536, DMA_FROM_DEVICE);
  m.kfree(buf);
  return m.layout.totalBytes;
}

function settledRss(): number {
  gc();
  gc();
  return process.memoryUsage.rss();
}

test('200 machines created and dropped: resident memory stays flat', async () => {
  let machineBytes = 0;
  let at50 = 0;
  for (let i = 1; i <= 200; i++) {
    machineBytes = await useOne();
    if (i % 25 === 0) gc();
    if (i === 50) at50 = settledRss();
  }
  const at200 = settledRss();
  // A leak of the 150 machines in between would add 150 machines' touched memory; allow two.
  expect(at200 - at50).toBeLessThan(2 * machineBytes);
}, 120_000);
