// Shared fixtures for the DMA-API scenario tests (test/api-*.test.ts): deterministic byte
// patterns, counter deltas, and a device that has set the 64-bit mask a driver would set.
import { DMA_BIT_MASK, dma_set_mask_and_coherent } from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import { randomBytes } from '../../src/lib/random.js';
import type { DeviceOptions } from '../../src/dma/device.js';
import type { Machine, Stats } from '../../src/machine.js';

/** A deterministic, seeded byte pattern (xorshift32), never all one value. */
export function pattern(n: number, seed: number): Uint8Array {
  return randomBytes((seed * 2654435761) >>> 0, n);
}

/** Counters added by `fn` (every Stats field, as a difference). */
export function delta(m: Machine, fn: () => void): Stats {
  const before = m.stats();
  fn();
  const after = m.stats();
  const out = { ...after };
  for (const k of Object.keys(after) as (keyof Stats)[]) out[k] = after[k] - before[k];
  return out;
}

/**
 * A device as a driver's probe leaves it: the article's dma_set_mask_and_coherent(64), which
 * it needs on the default machine because kmalloc(GFP_KERNEL) lands in the bank above 4 GiB.
 */
export function probe64(m: Machine, opts: DeviceOptions): Device {
  const dev = m.createDevice(opts);
  const rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  if (rc !== 0) throw new Error(`dma_set_mask_and_coherent(64) failed: ${rc}`);
  return dev;
}

/** How many lines of the log are exactly `line`. */
export function countLines(m: Machine, line: string): number {
  return m.dmesg().filter((l) => l === line).length;
}

/** Whether two byte arrays are equal (vitest's deep equality takes seconds on a MiB). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
