// dma_debug_init() and the entry pool: the boot lines, dma_debug_entries= (rounded up to whole
// pages of 32 entries), dma_debug=off (permanent: no entries, no hooks, `disabled` reads Y), the
// pool growing a page at a time with its "pool grown" line, and running out of memory, which
// disables the checker with the kernel's message. Without CONFIG_DMA_API_DEBUG there are no hooks.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_TO_DEVICE, GFP_KERNEL, __GFP_NOWARN, dma_map_single, dma_unmap_single,
} from '../../src/index.js';
import { DMA_API, rig, warnings } from '../support/debug-helpers.js';

const SMALL = [{ base: 0x4000_0000, size: 16 << 20 }];

describe('boot', () => {
  test('the default: 65,536 entries preallocated from 2,048 pages, then "enabled"', async () => {
    const { m, dbg } = await rig();
    const log = m.dmesg();
    const i = log.indexOf('DMA-API: preallocated 65536 debug entries');
    expect(i).toBeGreaterThan(0);
    expect(log[i + 1]).toBe('DMA-API: debugging enabled by kernel config');
    expect(dbg.pagesUsed).toHaveLength(2048);
    expect(m.dmaDebug).not.toBeNull();
  });

  test('dma_debug_entries=100 allocates whole pages: 128 entries', async () => {
    const { m } = await rig({ cmdline: 'dma_debug_entries=100' });
    expect(m.dmesg()).toContain('DMA-API: preallocated 128 debug entries');
    expect(m.debugfs.read(`${DMA_API}/nr_total_entries`)).toBe('128\n');
  });

  test('an unparsable dma_debug_entries= falls back to 65,536', async () => {
    const { m } = await rig({ cmdline: 'dma_debug_entries=lots' });
    expect(m.dmesg()).toContain('DMA-API: preallocated 65536 debug entries');
  });

  test('too little memory: "%d debug entries requested but only %d allocated", still enabled', async () => {
    const m = await createMachine({ ram: [{ base: 0x4000_0000, size: 6 << 20 }], config: { DMA_API_DEBUG: true } });
    const n = m.dmaDebugState!.nrTotalEntries;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(65536);
    expect(m.dmesg()).toContain(`DMA-API: 65536 debug entries requested but only ${n} allocated`);
    expect(m.dmesg()).toContain('DMA-API: debugging enabled by kernel config');
    expect(m.dmesg().some((l) => l.includes('page allocation failure: order:0'))).toBe(true);
  });

  test('dma_debug=off: said at parse time, nothing preallocated, no hooks, `disabled` is Y for good', async () => {
    const { m, dev } = await rig({ cmdline: 'dma_debug=off' });
    expect(m.dmesg()).toContain('DMA-API: debugging disabled on kernel command line');
    expect(m.dmesg().some((l) => l.startsWith('DMA-API: preallocated'))).toBe(false);
    expect(m.dmaDebug).toBeNull();
    expect(m.debugfs.read(`${DMA_API}/disabled`)).toBe('Y\n');
    expect(m.debugfs.read(`${DMA_API}/nr_total_entries`)).toBe('0\n');
    expect(() => m.debugfs.write(`${DMA_API}/disabled`, 'N')).toThrow(/EACCES/);
    dma_unmap_single(dev, 0x1_0000_0000, 64, DMA_TO_DEVICE);
    m.unbind(dev);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('0\n');
  });

  test('"dma_debug=offline" is off too (strncmp of 3 characters); other values change nothing', async () => {
    expect((await rig({ cmdline: 'dma_debug=offline' })).m.dmaDebug).toBeNull();
    const on = await rig({ cmdline: 'dma_debug=on' });
    expect(on.m.dmaDebug).not.toBeNull();
    expect(on.m.dmesg()).not.toContain('DMA-API: debugging disabled on kernel command line');
  });

  test('without CONFIG_DMA_API_DEBUG: no hooks, no dma-api directory, the parameters say nothing', async () => {
    const m = await createMachine({ cmdline: 'dma_debug=off dma_debug_driver=x' });
    expect(m.dmaDebug).toBeNull();
    expect(m.dmaDebugState).toBeNull();
    expect(m.dataCheck).toBeNull();
    expect(() => m.debugfs.list(DMA_API)).toThrow(/ENOENT/);
    expect(m.dmesg().filter((l) => l.startsWith('DMA-API'))).toEqual([]);
  });
});

describe('the entry pool', () => {
  test('running out grows the pool by a page of 32 entries, saying so each time it passes a multiple of its first size', async () => {
    const { m, dev, log } = await rig({ cmdline: 'dma_debug_entries=32' });
    const buf = m.kmalloc(8192, GFP_KERNEL);
    const hs: number[] = [];
    for (let i = 0; i < 32; i++) hs.push(dma_map_single(dev, buf + i * 64, 64, DMA_TO_DEVICE));
    expect(m.debugfs.read(`${DMA_API}/num_free_entries`)).toBe('0\n');
    expect(log().filter((l) => l.includes('pool grown'))).toEqual([]);
    hs.push(dma_map_single(dev, buf + 32 * 64, 64, DMA_TO_DEVICE));
    expect(log()).toContain('DMA-API: dma_debug_entry pool grown to 64 (200%)');
    expect(m.debugfs.read(`${DMA_API}/nr_total_entries`)).toBe('64\n');
    expect(m.debugfs.read(`${DMA_API}/num_free_entries`)).toBe('31\n');
    expect(m.debugfs.read(`${DMA_API}/min_free_entries`)).toBe('0\n');
    for (const h of hs) dma_unmap_single(dev, h, 64, DMA_TO_DEVICE);
    expect(m.debugfs.read(`${DMA_API}/num_free_entries`)).toBe('64\n');
    expect(m.debugfs.read(`${DMA_API}/min_free_entries`)).toBe('0\n');
  });

  test('growth from 128 (dma_debug_entries=100) is silent until it passes 200 entries: 224 (200%)', async () => {
    const { m, dev, log } = await rig({ cmdline: 'dma_debug_entries=100' });
    const buf = m.kmalloc(16384, GFP_KERNEL);
    for (let i = 0; i < 193; i++) dma_map_single(dev, buf + i * 64, 64, DMA_TO_DEVICE);
    expect(log().filter((l) => l.includes('pool grown'))).toEqual(['DMA-API: dma_debug_entry pool grown to 224 (200%)']);
  });

  test('out of memory when growing: "debugging out of memory - disabling", and nothing is checked after', async () => {
    const { m, dev, log } = await rig({ ram: SMALL, cmdline: 'dma_debug_entries=32' });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    for (let order = 10; order >= 0; order--) while (m.alloc_pages(GFP_KERNEL | __GFP_NOWARN, order) !== null);
    for (let i = 0; i < 32; i++) dma_map_single(dev, buf + i * 64, 64, DMA_TO_DEVICE);
    expect(m.debugfs.read(`${DMA_API}/disabled`)).toBe('N\n');
    dma_map_single(dev, buf + 32 * 64, 64, DMA_TO_DEVICE);
    expect(log()).toContain('DMA-API: debugging out of memory - disabling');
    expect(log().some((l) => /page allocation failure: order:0, mode:0x[0-9a-f]+\(GFP_ATOMIC/.test(l))).toBe(true);
    expect(m.debugfs.read(`${DMA_API}/disabled`)).toBe('Y\n');
    dma_unmap_single(dev, 0x4123_0000, 64, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([]);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('0\n');
  });
});
