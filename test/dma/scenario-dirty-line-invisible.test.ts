// A CPU write sits dirty in a write-back cache: a non-coherent device reading RAM does not see
// it until the line is cleaned to the Point of Coherency (what arch_sync_dma_for_device does).
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

test('a dirty CPU write is invisible to a non-coherent device until cleaned', async () => {
  const m = await smallMachine({ arch: 'arm64' });
  const dev = m.createDevice({ name: 'nc0', coherent: false });
  const va = m.phys_to_virt(SMALL_BUF);
  m.cpu.write(va, [1, 2, 3, 4]);
  expect(m.cache.lineState(SMALL_BUF)).toBe('dirty');
  expect([...dev.dmaRead(SMALL_BUF, 4)]).toEqual([0, 0, 0, 0]);

  m.cache.clean(SMALL_BUF, 4);
  expect(m.cache.lineState(SMALL_BUF)).toBe('clean');
  expect([...dev.dmaRead(SMALL_BUF, 4)]).toEqual([1, 2, 3, 4]);
  expect(m.stats().cacheLinesCleaned).toBe(1);
});
