// m.trace.start()/stop() writes Chrome trace-event JSON that passes the Trace Event Format's
// rules (test/support/trace-event-format.ts) after a JSON round trip: a CPU track with a slice per
// DMA API call, a track per device with its bus accesses, counter tracks, and an instant for a
// data-check report linked by a flow arrow to the map slice of the mapping it names.
import { describe, expect, it } from 'vitest';
import { traceEventFormatErrors } from '../support/trace-event-format.js';
import {
  createMachine, dma_map_single, dma_sync_single_for_cpu, dma_unmap_single, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
} from '../../src/index.js';

describe('the Perfetto timeline', () => {
  it('is valid trace-event JSON with the CPU, device and counter tracks and a linked report', async () => {
    const m = await createMachine({ arch: 'arm64', dataCheck: true, seed: 9 });
    const dev = m.createDevice({ name: '0000:06:00.0', driver: 'tl' });
    m.trace.start();
    const tx = m.kmalloc(256, GFP_KERNEL);
    m.cpu.fill(tx, 256, 0xaa);
    const h = dma_map_single(dev, tx, 256, DMA_TO_DEVICE);
    dev.dmaRead(h, 256);
    dma_unmap_single(dev, h, 256, DMA_TO_DEVICE);
    const rx = m.kmalloc(256, GFP_KERNEL);
    const r = dma_map_single(dev, rx, 256, DMA_FROM_DEVICE);
    dev.dmaWrite(r, new Uint8Array(64).fill(7));
    m.cpu.read(rx, 4); // the classic bug: a CPU read of a buffer the device owns
    dma_sync_single_for_cpu(dev, r, 256, DMA_FROM_DEVICE);
    dma_unmap_single(dev, r, 256, DMA_FROM_DEVICE);
    const json = JSON.parse(JSON.stringify(m.trace.stop()));
    expect(traceEventFormatErrors(json)).toEqual([]);
    const ev = json.traceEvents as { name: string; ph: string; pid: number; tid: number; args?: Record<string, unknown> }[];
    expect(ev.filter((e) => e.ph === 'X' && e.pid === 1).map((e) => e.name)).toEqual([
      'dma_map_phys', 'dma_unmap_phys', 'dma_map_phys', 'dma_sync_single_for_cpu', 'dma_unmap_phys',
    ]);
    expect(ev.find((e) => e.ph === 'M' && e.pid === 2 && e.name === 'thread_name')?.args?.name).toBe('0000:06:00.0');
    expect(ev.filter((e) => e.pid === 2 && e.ph === 'X').map((e) => e.name)).toEqual(['DMA read', 'DMA write']);
    const counters = new Set(ev.filter((e) => e.ph === 'C').map((e) => e.name));
    for (const c of ['dirty lines', 'lines owned by devices', 'swiotlb slots used', 'IOVA pages mapped', 'store-buffer depth']) expect(counters).toContain(c);
    const report = ev.find((e) => e.ph === 'i' && e.name.startsWith('data-check: '));
    expect(report?.name).toBe(`data-check: ${m.dataCheck?.reports[0]?.kind}`);
    expect(ev.filter((e) => e.ph === 's' || e.ph === 'f')).toHaveLength(2);
  });

  it('records nothing and attaches no hooks outside start/stop', async () => {
    const m = await createMachine({ seed: 9 });
    expect(() => m.trace.stop()).toThrow(RangeError);
    m.trace.start();
    expect(m.dmaTrace).not.toBeNull();
    expect(() => m.trace.start()).toThrow(RangeError);
    m.trace.stop();
    expect(m.dmaTrace).toBeNull();
  });
});
