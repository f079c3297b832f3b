// Invalidating a dirty line throws the CPU's data away: this is why arm64 cleans and
// invalidates (DC CIVAC) the partial lines at the edges of a DMA_FROM_DEVICE buffer.
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

test('invalidating a dirty line loses the CPU data, clean+invalidate keeps it', async () => {
  const m = await smallMachine();
  const va = m.phys_to_virt(SMALL_BUF);
  m.cpu.writel(va, 0x11223344);
  m.cache.invalidate(SMALL_BUF, 64);
  expect(m.cpu.readl(va)).toBe(0);
  expect(m.stats().dirtyLinesDiscarded).toBe(1);

  m.cpu.writel(va + 64, 0x55667788);
  m.cache.cleanInvalidate(SMALL_BUF + 64, 64);
  expect(m.cache.lineState(SMALL_BUF + 64)).toBe('invalid');
  expect(m.cpu.readl(va + 64)).toBe(0x55667788);
});
