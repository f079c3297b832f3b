// dev.dmaReadInto(dma, out) is dev.dmaRead(dma, out.length) into the caller's buffer (issue 18):
// the same bytes and the same counters, through dma-direct and through an IOMMU mapping that
// spans pages; a bus error is the same DmaFaultError; an `out` that is no Uint8Array is refused.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_TO_DEVICE, dma_map_single, DmaFaultError, DmaSimTypeError, GFP_KERNEL, type Machine,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import { pattern, probe64 } from '../support/api-helpers.js';
import { refused } from '../support/refused.js';

const LEN = 3 * 4096;

async function rig(iommu: boolean): Promise<{ m: Machine; dev: Device; dma: number }> {
  const m = await createMachine({ arch: 'arm64', seed: 5 });
  const dev = probe64(m, { name: 'nic0', iommu });
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  m.cpu.write(buf, pattern(LEN, 9));
  return { m, dev, dma: dma_map_single(dev, buf, LEN, DMA_TO_DEVICE) };
}

describe('dev.dmaReadInto', () => {
  test.each([false, true])('reads what dmaRead reads, with the same counters (IOMMU: %s)', async (iommu) => {
    const a = await rig(iommu);
    const b = await rig(iommu);
    const got = a.dev.dmaRead(a.dma + 100, LEN - 200);
    const into = new Uint8Array(LEN - 200);
    b.dev.dmaReadInto(b.dma + 100, into);
    expect(into).toEqual(got);
    expect(b.m.stats()).toEqual(a.m.stats());
  });

  test('a bus address no mapping covers is a DmaFaultError; a bad out is refused', async () => {
    const { m, dev, dma } = await rig(true);
    expect(() => dev.dmaReadInto(dma + LEN + 8192, new Uint8Array(8))).toThrow(DmaFaultError);
    refused(m, () => dev.dmaReadInto(dma, [1, 2] as never), 'dmaReadInto', 'out', DmaSimTypeError);
  });
});
