// The timeline's counter tracks carry an event only where a counter's value changed, at the end
// of the DMA API call after which it changed (Perfetto holds a counter's value until its next
// event, so the track reads the same as one event per call). Checked against a reference
// listener attached after the recorder: it reads the swiotlb slots in use and the barrier count
// itself at the end of every call, and at start and stop; the recorder's events must be exactly
// the changes in that series. The workload bounces (swiotlb=force), so both counters move.
import { describe, expect, it } from 'vitest';
import {
  createMachine, dma_map_single, dma_sync_single_for_cpu, dma_sync_single_for_device, dma_unmap_single, DMA_FROM_DEVICE,
  DMA_TO_DEVICE, GFP_KERNEL, type Machine,
} from '../../src/index.js';
import type { DmaTraceHooks } from '../../src/dma/trace.js';

type Reading = readonly [ns: number, slots: number, barriers: number];

function read(m: Machine): Reading {
  return [m.now(), m.swiotlb?.totalUsed ?? 0, m.hostStats.barriers + m.hostStats.cpuBarriers];
}

/** A listener that reads the counters at the end of each single-mapping call. */
function referenceSampler(m: Machine, out: Reading[]): DmaTraceHooks {
  const end = (): void => { out.push(read(m)); };
  const none = (): void => {};
  return {
    dma_map_phys: end, dma_unmap_phys: end, dma_sync_single_for_cpu: end, dma_sync_single_for_device: end,
    dma_map_sg: none, dma_map_sg_err: none, dma_unmap_sg: none, dma_sync_sg_for_cpu: none, dma_sync_sg_for_device: none,
    dma_alloc: none, dma_free: none, dma_alloc_pages: none, dma_free_pages: none, swiotlb_bounced: none,
  };
}

/** The [us, value] events a change-only counter track has for a series of readings. */
function changes(readings: readonly Reading[], field: 1 | 2): [number, number][] {
  const out: [number, number][] = [];
  for (const r of readings) if (out.length === 0 || out[out.length - 1]?.[1] !== r[field]) out.push([r[0] / 1000, r[field]]);
  return out;
}

describe('the timeline counter tracks', () => {
  it('have an event exactly where a counter changed, at the end of the call that changed it', async () => {
    const m = await createMachine({ arch: 'arm64', seed: 4, cmdline: 'swiotlb=force' });
    const dev = m.createDevice({ name: '0000:08:00.0', driver: 'tl' });
    m.trace.start();
    const readings: Reading[] = [read(m)];
    const detach = m.addTraceListener(referenceSampler(m, readings));
    for (let i = 0; i < 40; i++) {
      const len = 64 + 97 * (i % 7);
      const buf = m.kmalloc(len, GFP_KERNEL);
      const dir = i % 3 === 0 ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
      const h = dma_map_single(dev, buf, len, dir);
      if (i % 2 === 0) {
        dma_sync_single_for_cpu(dev, h, len, dir);
        dma_sync_single_for_device(dev, h, len, dir);
      }
      // Every fifth mapping stays mapped for a while: the slots in use climb, then fall.
      if (i % 5 !== 4) dma_unmap_single(dev, h, len, dir);
    }
    detach();
    readings.push(read(m));
    const json = m.trace.stop();
    const track = (name: string): [number, number][] =>
      json.traceEvents.filter((e) => e.ph === 'C' && e.name === name).map((e) => [e.ts as number, e.args?.value as number]);
    const slots = changes(readings, 1);
    const barriers = changes(readings, 2);
    expect(new Set(slots.map(([, v]) => v)).size).toBeGreaterThan(2);
    expect(barriers.length).toBeGreaterThan(2);
    expect(track('swiotlb slots used')).toEqual(slots);
    expect(track('barriers')).toEqual(barriers);
  });
});
