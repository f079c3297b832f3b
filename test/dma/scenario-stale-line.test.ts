// A device writes RAM while the CPU holds the line: the CPU keeps reading its stale copy until
// the line is invalidated (what arch_sync_dma_for_cpu does for DMA_FROM_DEVICE).
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

test('a device write is invisible to a CPU holding the line until invalidated', async () => {
  const m = await smallMachine();
  const dev = m.createDevice({ name: 'nc0', coherent: false });
  const va = m.phys_to_virt(SMALL_BUF);
  expect(m.cpu.readl(va)).toBe(0); // the line is now cached, clean
  dev.dmaWrite(SMALL_BUF, [0xef, 0xbe, 0xad, 0xde]);
  expect(m.cpu.readl(va)).toBe(0);

  m.cache.invalidate(SMALL_BUF, 4);
  expect(m.cpu.readl(va)).toBe(0xdeadbeef);
});
