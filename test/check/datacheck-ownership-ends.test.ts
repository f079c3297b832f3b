// What the data-aware checker remembers of memory dies with the memory's ownership (issue 13,
// item 3). arm64's arch_dma_prep_coherent() only cleans (arch/arm64/mm/dma-mapping.c:
// dcache_clean_poc), so a page's previous owner can leave clean lines of its linear alias in
// the cache under a dma_alloc_coherent() buffer; the device's writes make them stale, which is
// harmless (the CPU uses the uncached alias). After dma_free_coherent() the page is its next
// owner's, whose cached writes and dma_map_single() clean are correct; and an uncached CPU
// store over what the device wrote makes the CPU's bytes the current ones. No report either way.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_TO_DEVICE, dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_unmap_single, GFP_KERNEL, type Machine,
} from '../../src/index.js';
import type { Device } from '../../src/dma/device.js';
import { pattern, probe64 } from '../support/api-helpers.js';

/** A page the CPU has read through the cache, freed: its lines stay in the cache, clean. */
async function setup(): Promise<{ m: Machine; dev: Device; phys: number }> {
  const m = await createMachine({ dataCheck: true, config: { DMA_API_DEBUG: true } });
  const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
  const page = m.alloc_pages(GFP_KERNEL, 0)!;
  const p = m.page_address(page);
  m.cpu.read(p, 4096);
  m.__free_pages(page, 0);
  return { m, dev, phys: m.virt_to_phys(p) };
}

/** dma_alloc_coherent() takes that page back, and the device writes the whole buffer. */
function deviceFilled(m: Machine, dev: Device, phys: number): { cpu_addr: number; dma_handle: number } {
  const buf = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
  expect(buf.dma_handle).toBe(phys);
  expect(m.cache.lineState(phys)).toBe('clean');
  dev.dmaWrite(buf.dma_handle, pattern(4096, 2));
  return buf;
}

describe('the data-aware checker forgets memory whose owner changed', () => {
  test('after dma_free_coherent() the page\'s next owner writes it through the cache and maps it: no report', async () => {
    const { m, dev, phys } = await setup();
    const buf = deviceFilled(m, dev, phys);
    dma_free_coherent(dev, 4096, buf.cpu_addr, buf.dma_handle);
    const page = m.alloc_pages(GFP_KERNEL, 0)!;
    const p = m.page_address(page);
    expect(m.virt_to_phys(p)).toBe(phys);
    m.cpu.write(p, pattern(8, 3));
    const h = dma_map_single(dev, p, 4096, DMA_TO_DEVICE);
    dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
    expect(m.dataCheck!.reports.map((r) => r.title)).toEqual([]);
  });

  test('an uncached CPU store over what the device wrote; the page cleaned for its next coherent owner: no report', async () => {
    const { m, dev, phys } = await setup();
    const buf = deviceFilled(m, dev, phys);
    m.cpu.write(buf.cpu_addr, pattern(4096, 4));
    expect(m.cpu.read(buf.cpu_addr, 4096)).toEqual(pattern(4096, 4));
    dma_free_coherent(dev, 4096, buf.cpu_addr, buf.dma_handle);
    const again = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    expect(again.dma_handle).toBe(phys);
    expect(m.dataCheck!.reports.map((r) => r.title)).toEqual([]);
  });

  test('the uncached store alone ends the record: a clean of the page while still allocated reports nothing', async () => {
    const { m, dev, phys } = await setup();
    const buf = deviceFilled(m, dev, phys);
    m.cpu.write(buf.cpu_addr, pattern(4096, 4));
    m.cache.clean(phys, 4096);
    expect(m.dataCheck!.reports.map((r) => r.title)).toEqual([]);
  });
});
