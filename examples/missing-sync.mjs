// A device writes an RX buffer the CPU had cached: without dma_sync_single_for_cpu() the CPU
// reads its stale cached copy (non-coherent arm64); with it, the device's bytes.
import assert from 'node:assert/strict';
import {
  createMachine, dma_map_single, dma_set_mask_and_coherent, dma_sync_single_for_cpu, dma_unmap_single,
  DMA_BIT_MASK, DMA_FROM_DEVICE, GFP_KERNEL,
} from 'dmasim';

const m = await createMachine({ arch: 'arm64', seed: 1 });
const dev = m.createDevice({ name: '0000:01:00.0', driver: 'example' });
assert.equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);

const rx = m.kmalloc(2048, GFP_KERNEL);
const handle = dma_map_single(dev, rx, 2048, DMA_FROM_DEVICE);
m.cpu.read(rx, 4); // a driver bug: peeking at the buffer while the device owns it caches its lines
dev.dmaWrite(handle, [1, 2, 3, 4]);

const stale = [...m.cpu.read(rx, 4)];
dma_sync_single_for_cpu(dev, handle, 2048, DMA_FROM_DEVICE);
const fresh = [...m.cpu.read(rx, 4)];
dma_unmap_single(dev, handle, 2048, DMA_FROM_DEVICE);

console.log(`before the sync the CPU reads ${stale.join(',')}; after it ${fresh.join(',')}`);
assert.deepEqual(stale, [0, 0, 0, 0]);
assert.deepEqual(fresh, [1, 2, 3, 4]);
