// kernel/dma/mapping.c dma_alloc_pages() / dma_free_pages() (v6.18-era mainline, file id
// 150148402, and a v7.x annotated copy, id 67185187419): __dma_alloc_pages() and
// __dma_free_pages() page-align `size` for the backend, but the wrappers hand the caller's
// size to debug_dma_alloc_pages() / debug_dma_free_pages(). So dma-debug's entry, and the
// `dump` line (L=%llx), carry the size the driver asked for.
import { describe, expect, test } from 'vitest';
import { DMA_BIDIRECTIONAL, GFP_KERNEL, dma_alloc_pages, dma_free_pages } from '../../src/index.js';
import { DMA_API, rig, warnings } from '../support/debug-helpers.js';

describe('dma-debug records dma_alloc_pages() with the caller\'s size', () => {
  test('dma_alloc_pages(dev, 100) dumps as L=64, and a free with 100 matches it', async () => {
    const { m, dev, log } = await rig();
    const r = dma_alloc_pages(dev, 100, DMA_BIDIRECTIONAL, GFP_KERNEL);
    if (r === null) throw new Error('no pages');
    const dump = m.debugfs.read(`${DMA_API}/dump`);
    expect(dump).toMatch(/ L=64 /);
    dma_free_pages(dev, 100, r.page, r.dma_handle, DMA_BIDIRECTIONAL);
    expect(warnings(log())).toEqual([]);
    expect(m.debugfs.read(`${DMA_API}/dump`)).toBe('');
  });

  test('freeing it with the page-aligned size is a size mismatch', async () => {
    const { m, dev, log } = await rig();
    const r = dma_alloc_pages(dev, 100, DMA_BIDIRECTIONAL, GFP_KERNEL);
    if (r === null) throw new Error('no pages');
    dma_free_pages(dev, 4096, r.page, r.dma_handle, DMA_BIDIRECTIONAL);
    expect(log().some((l) => l.includes('[map size=100 bytes] [unmap size=4096 bytes]'))).toBe(true);
    expect(m.debugfs.read(`${DMA_API}/dump`)).toBe('');
  });
});
