// Tracing is a hook layer like dma-debug: with no event enabled the machine has no trace hooks
// (m.dmaTrace is null, so mapping.c's trace_*() sites cost one null check) and records nothing;
// enabling an event attaches them, disabling the last one detaches them again.
import { describe, expect, it } from 'vitest';
import { createMachine, dma_map_single, dma_unmap_single, DMA_TO_DEVICE, GFP_KERNEL } from '../../src/index.js';

const T = '/sys/kernel/tracing';

describe('trace hooks', () => {
  it('are attached only while an event is enabled', async () => {
    const m = await createMachine({ seed: 7 });
    const dev = m.createDevice({ name: '0000:05:00.0', driver: 'off' });
    const buf = m.kmalloc(64, GFP_KERNEL);
    expect(m.dmaTrace).toBeNull();
    dma_unmap_single(dev, dma_map_single(dev, buf, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE);
    m.tracefs.write(`${T}/events/dma/dma_unmap_phys/enable`, '1');
    expect(m.dmaTrace).not.toBeNull();
    dma_unmap_single(dev, dma_map_single(dev, buf, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE);
    m.tracefs.write(`${T}/events/dma/dma_unmap_phys/enable`, '0');
    expect(m.dmaTrace).toBeNull();
    const lines = m.tracefs.read(`${T}/trace`).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('dma_unmap_phys: 0000:05:00.0 dir=TO_DEVICE');
  });
});
