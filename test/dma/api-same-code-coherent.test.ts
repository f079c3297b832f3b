// Rule: the driver's code is the same on every platform; the DMA API decides what it costs.
// dma_direct_map_phys() / dma_direct_sync_single_for_cpu() (kernel/dma/direct.h) only call the
// arch cache hooks when !dev_is_dma_coherent(dev): on x86_64 (no ARCH_HAS_SYNC_DMA_*) and on an
// arm64 device marked dma-coherent (arch_setup_dma_ops, arch/arm64/mm/dma-mapping.c) no cache
// maintenance runs at all, and the device's snooping keeps a *buggy* driver "working" too:
// missing syncs only show up on non-coherent hardware.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_ATTR_SKIP_CPU_SYNC, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_map_single,
  dma_mapping_error, dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_single,
  GFP_KERNEL, type MachineOptions,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import type { Machine } from '../../src/machine.js';
import { delta, pattern, probe64 } from '../support/api-helpers.js';

const LEN = 2048;

interface Seen { tx: Uint8Array; rx1: Uint8Array; rx2: Uint8Array }

/**
 * One TX and two RX packets through one reused RX buffer. `buggy` leaves out the TX clean
 * (SKIP_CPU_SYNC) and the second dma_sync_single_for_cpu().
 */
function driver(m: Machine, dev: Device, buggy: boolean): Seen {
  const tx = m.kmalloc(LEN, GFP_KERNEL);
  m.cpu.write(tx, pattern(LEN, 100));
  const th = dma_map_single(dev, tx, LEN, DMA_TO_DEVICE, buggy ? DMA_ATTR_SKIP_CPU_SYNC : 0);
  expect(dma_mapping_error(dev, th)).toBe(0);
  const seenTx = dev.dmaRead(th, LEN);
  dma_unmap_single(dev, th, LEN, DMA_TO_DEVICE, buggy ? DMA_ATTR_SKIP_CPU_SYNC : 0);

  const rx = m.kmalloc(LEN, GFP_KERNEL);
  const rh = dma_map_single(dev, rx, LEN, DMA_FROM_DEVICE);
  expect(dma_mapping_error(dev, rh)).toBe(0);
  dev.dmaWrite(rh, pattern(LEN, 101));
  dma_sync_single_for_cpu(dev, rh, LEN, DMA_FROM_DEVICE);
  const rx1 = m.cpu.read(rx, LEN);
  dma_sync_single_for_device(dev, rh, LEN, DMA_FROM_DEVICE);
  dev.dmaWrite(rh, pattern(LEN, 102));
  if (!buggy) dma_sync_single_for_cpu(dev, rh, LEN, DMA_FROM_DEVICE);
  const rx2 = m.cpu.read(rx, LEN);
  dma_unmap_single(dev, rh, LEN, DMA_FROM_DEVICE);
  return { tx: seenTx, rx1, rx2 };
}

const expected: Seen = { tx: pattern(LEN, 100), rx1: pattern(LEN, 101), rx2: pattern(LEN, 102) };

const platforms: [string, MachineOptions, boolean | undefined][] = [
  ['x86_64', { arch: 'x86_64', seed: 5 }, undefined],
  ['arm64, dma-coherent device', { arch: 'arm64', seed: 5 }, true],
];

describe.each(platforms)('%s', (_name, opts, coherent) => {
  async function setup(): Promise<{ m: Machine; dev: Device }> {
    const m = await createMachine(opts);
    const dev = probe64(m, coherent === undefined ? { name: 'nic0' } : { name: 'nic0', coherent });
    expect(dev.dma_coherent).toBe(true);
    return { m, dev };
  }

  test('the correct driver sequence moves every byte, with zero cache maintenance', async () => {
    const { m, dev } = await setup();
    let seen: Seen | undefined;
    const d = delta(m, () => { seen = driver(m, dev, false); });
    expect(seen).toEqual(expected);
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(d.barriers).toBe(0);
  });

  test('the buggy sequence (missing clean and sync_for_cpu) is also "correct" here', async () => {
    const { m, dev } = await setup();
    let seen: Seen | undefined;
    const d = delta(m, () => { seen = driver(m, dev, true); });
    expect(seen).toEqual(expected);
    expect(d.cacheMaintenanceOps).toBe(0);
  });
});

describe('the same two drivers on a non-coherent arm64 device', () => {
  test('the correct sequence works and pays for cache maintenance', async () => {
    const m = await createMachine({ arch: 'arm64', seed: 5 });
    const dev = probe64(m, { name: 'nic0' });
    let seen: Seen | undefined;
    const d = delta(m, () => { seen = driver(m, dev, false); });
    expect(seen).toEqual(expected);
    expect(d.cacheMaintenanceOps).toBeGreaterThan(0);
  });

  test('the buggy sequence corrupts both directions', async () => {
    const m = await createMachine({ arch: 'arm64', seed: 5 });
    const dev = probe64(m, { name: 'nic0' });
    const seen = driver(m, dev, true);
    expect(seen.tx).not.toEqual(expected.tx);
    expect(seen.rx1).toEqual(expected.rx1);
    expect(seen.rx2).toEqual(expected.rx1); // stale: the previous packet
  });
});
