// The data-aware checker as an option: off by default (no object, no calls); on by itself it
// installs the hooks it needs, and beside CONFIG_DMA_API_DEBUG both checkers see every call.
// Coherent devices have no cache hazards; when their syncs are skipped unseen (a coherent device
// that never bounced, without DMA_API_DEBUG) ownership cannot be followed, so only data bugs are
// reported for them. sg mappings are followed entry by entry.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_FROM_DEVICE, DMA_TO_DEVICE, GFP_KERNEL,
  dma_map_sg, dma_map_single, dma_sync_sg_for_cpu, dma_unmap_sg, dma_unmap_single, sg_dma_address, sg_init_table, sg_set_buf,
} from '../../src/index.js';
import { probe64 } from '../support/api-helpers.js';
import { DMA_API, warnings } from '../support/debug-helpers.js';

describe('the data-aware checker as an option', () => {
  test('off by default: no checker, no hooks', async () => {
    const m = await createMachine();
    expect(m.dataCheck).toBeNull();
    expect(m.dmaDebug).toBeNull();
  });

  test('refuses a non-boolean option', async () => {
    await expect(createMachine({ dataCheck: 1 as never })).rejects.toThrow(/createMachine: dataCheck/);
  });

  test('beside DMA_API_DEBUG both report: dma-debug its bookkeeping error, the checker the data race', async () => {
    const m = await createMachine({ dataCheck: true, config: { DMA_API_DEBUG: true } });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_FROM_DEVICE);
    m.cpu.read(buf, 4);
    dma_unmap_single(dev, h, 512, DMA_FROM_DEVICE);
    expect(m.dataCheck!.reports.map((r) => r.kind)).toEqual(['cpu-access-device-owned']);
    expect(warnings(m.dmesg())).toEqual([`DMA-API: mynic 0000:01:00.0: device driver failed to check map error[device address=0x${h.toString(16).padStart(16, '0')}] [size=512 bytes] [mapped as phy]`]);
    expect(m.debugfs.read(`${DMA_API}/num_free_entries`)).toBe('65536\n');
    expect(m.dataCheck!.liveRegions).toBe(0);
  });

  test('with dma_debug=off the data checker still runs', async () => {
    const m = await createMachine({ dataCheck: true, config: { DMA_API_DEBUG: true }, cmdline: 'dma_debug=off' });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
    const buf = m.kmalloc(512, GFP_KERNEL);
    dma_map_single(dev, buf, 512, DMA_TO_DEVICE);
    m.cpu.writeb(buf, 1);
    expect(m.dataCheck!.reports).toHaveLength(1);
    expect(warnings(m.dmesg())).toEqual([]);
  });

  test('a coherent x86_64 device: syncs skipped unseen, so no ownership report; with DMA_API_DEBUG they are seen', async () => {
    for (const debug of [false, true]) {
      const m = await createMachine({ arch: 'x86_64', dataCheck: true, config: { DMA_API_DEBUG: debug } });
      const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
      const buf = m.kmalloc(512, GFP_KERNEL);
      const h = dma_map_single(dev, buf, 512, DMA_FROM_DEVICE);
      dev.dmaWrite(h, [1, 2, 3]);
      expect(Array.from(m.cpu.read(buf, 3))).toEqual([1, 2, 3]); // coherent: the data is right either way
      expect(m.dataCheck!.reports.map((r) => r.kind)).toEqual(debug ? ['cpu-access-device-owned'] : []);
    }
  });

  test('sg: each entry is a mapping of its own; a sync for the CPU hands them all back', async () => {
    const m = await createMachine({ dataCheck: true });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
    const sgl = sg_init_table(2);
    const bufs = [m.kmalloc(1024, GFP_KERNEL), m.kmalloc(1024, GFP_KERNEL)];
    for (const b of bufs) m.cpu.fill(b, 1024, 0);
    bufs.forEach((b, i) => sg_set_buf(sgl[i]!, b, 1024));
    expect(dma_map_sg(dev, sgl, 2, DMA_FROM_DEVICE)).toBe(2);
    expect(m.dataCheck!.liveRegions).toBe(2);
    dev.dmaFill(sg_dma_address(sgl[1]!), 1024, 0xee);
    m.cpu.read(bufs[1]!, 8);
    const r = m.dataCheck!.reports;
    expect(r.map((x) => x.kind)).toEqual(['stale-cpu-read']);
    expect(r[0]!.mapping?.call).toBe('dma_map_sg');
    expect(r[0]!.missing).toBe('dma_sync_sg_for_cpu() (or dma_unmap_sg()) before the CPU reads');
    dma_sync_sg_for_cpu(dev, sgl, 2, DMA_FROM_DEVICE);
    expect(m.cpu.readb(bufs[1]!)).toBe(0xee);
    dma_unmap_sg(dev, sgl, 2, DMA_FROM_DEVICE);
    expect(m.dataCheck!.liveRegions).toBe(0);
    expect(m.dataCheck!.reports).toHaveLength(1);
  });

  test('a report is made once per ownership period, and again after the next hand-over', async () => {
    const m = await createMachine({ dataCheck: true });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_TO_DEVICE);
    for (let i = 0; i < 5; i++) m.cpu.writeb(buf + i, i);
    expect(m.dataCheck!.reports).toHaveLength(1);
    dma_unmap_single(dev, h, 512, DMA_TO_DEVICE);
    m.cpu.writeb(buf, 9); // the CPU's again: fine
    const h2 = dma_map_single(dev, buf, 512, DMA_TO_DEVICE);
    m.cpu.writeb(buf, 1);
    expect(m.dataCheck!.reports).toHaveLength(2);
    dma_unmap_single(dev, h2, 512, DMA_TO_DEVICE);
  });
});
