// The cache-line sharing bug: the CPU dirties a line that also holds DMA data; the device writes
// its part to RAM; later the line is evicted and its write-back puts the CPU's stale copy of the
// device's bytes over what the device wrote.
import { expect, test } from 'vitest';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

test('an eviction writes a dirty line back over data the device wrote', async () => {
  const m = await smallMachine();
  const dev = m.createDevice({ name: 'nc0', coherent: false });
  const va = m.phys_to_virt(SMALL_BUF);
  // Bytes 0..31 are the CPU's field, bytes 32..63 the device's receive buffer: one line.
  m.cpu.write(va, new Uint8Array(32).fill(0xc0));
  dev.dmaWrite(SMALL_BUF + 32, new Uint8Array(32).fill(0xd0));
  expect(dev.dmaRead(SMALL_BUF + 32, 32)).toEqual(new Uint8Array(32).fill(0xd0));

  // Touch four other lines of the same set (16 sets x 64 B: a stride of 1 KiB) to evict it.
  for (let i = 1; i <= 4; i++) m.cpu.readb(va + i * 1024);
  expect(m.cache.lineState(SMALL_BUF)).toBe('invalid');
  expect(m.stats().evictions).toBeGreaterThanOrEqual(1);
  expect(dev.dmaRead(SMALL_BUF + 32, 32)).toEqual(new Uint8Array(32)); // the device's data is gone
});
