// Rule: a device access outside every streaming mapping and coherent allocation its device owns
// is a DMA overrun (what the IOMMU would fault on, and what dma-direct lets corrupt memory): the
// data-aware checker reports it at the access, names the nearest buffer of the device, and the
// caller's source line (the first stack frame outside dmasim). A device with nothing mapped is
// not judged; accesses inside a mapping or a coherent allocation are silent.
import { expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, dma_alloc_coherent, dma_map_single, dma_set_mask_and_coherent, GFP_KERNEL,
} from '../../src/index.js';
import { x016 } from '../support/debug-helpers.js';

async function rig() {
  const m = await createMachine({ arch: 'arm64', seed: 1, dataCheck: true });
  const dev = m.createDevice({ name: 'eth0', driver: 'dmasim-nic', coherent: false });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  return { m, dev };
}

test('a device write past the end of its mapping is reported with the mapping and the caller line', async () => {
  const { m, dev } = await rig();
  const rx = m.kmalloc(2048, GFP_KERNEL);
  const h = dma_map_single(dev, rx, 1500, DMA_FROM_DEVICE);
  dev.dmaWrite(h, new Uint8Array(1500));
  expect(m.dataCheck!.reports).toEqual([]);
  dev.dmaWrite(h + 1500, new Uint8Array(64)); const line = new Error().stack!.split('\n')[1]!.match(/:(\d+):\d+\)?$/)![1];
  const [r] = m.dataCheck!.reports;
  expect(r).toMatchObject({ kind: 'device-overrun', bytes: 64, access: { by: 'dmasim-nic eth0', op: 'write', size: 64, dma: h + 1500 } });
  expect(r!.mapping).toMatchObject({ call: 'dma_map_single', dma: h, size: 1500 });
  expect(r!.lines[2]).toBe(`Write of size 64 at dma 0x${x016(h + 1500)} by device dmasim-nic eth0, at offset +1500 of its nearest buffer (size 1500)`);
  expect(r!.caller).toMatch(new RegExp(`datacheck-device-overrun\\.test\\.ts:${line}:\\d+$`));
  expect(r!.lines).toContain(`Caller: ${r!.caller}`);
  expect(m.dmesg()).toContain(`Caller: ${r!.caller}`);
});

test('coherent allocations count as the device\'s; a device with nothing mapped is not judged', async () => {
  const { m, dev } = await rig();
  const other = m.createDevice({ name: 'eth1', coherent: false });
  dma_set_mask_and_coherent(other, DMA_BIT_MASK(64));
  const ring = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
  dev.dmaWrite(ring.dma_handle + 4000, new Uint8Array(96));
  other.dmaWrite(ring.dma_handle, new Uint8Array(4)); // eth1 owns nothing
  expect(m.dataCheck!.reports).toEqual([]);
  dev.dmaRead(ring.dma_handle - 8, 8);
  const [r] = m.dataCheck!.reports;
  expect(r).toMatchObject({ kind: 'device-overrun', mapping: null, access: { op: 'read', size: 8 } });
  expect(r!.lines).toContain(`Mapping: dma_alloc_coherent(dmasim-nic eth0, dma=0x${x016(ring.dma_handle)}, size=4096) of the buffer at phys 0x${x016(ring.dma_handle)}`);
});
